"""Stress tests over the API, on both stores: the exposure network of a seeded marketplace and
each scenario on it; a merchant's key may not see the network; bad parameters are refused."""

from __future__ import annotations

from datetime import timedelta

from embedfin.api.auth import Role
from tests.api.conftest import Api
from tests.api.test_scf import _chain, _today
from tests.api.test_tenancy import _fund


def test_the_books_are_stressed_scenario_by_scenario(api: Api) -> None:
    a, p = api.a, _chain(api)
    body = {"core": p["core"], "supplier": p["sup1"], "payable_ref": "INV-S", "amount": 1_000_000,
            "currency": "EUR", "matures_on": str(_today(api) + timedelta(days=60))}  # fmt: skip
    api.ok(api.post(a, "/v1/scf/certificates", body), 201)
    found = api.ok(api.get(a, "/v1/stress/exposures"))
    assert found["currencies"] == ["EUR"]
    assert found["edges_by_kind"]["certificate"] == {"edges": 1, "amount": 1_000_000}
    assert found["nodes_by_kind"]["core"] == 1
    failure = api.ok(api.get(a, "/v1/stress/runs", scenario="merchant_failure", currency="EUR",
                             severity="1"))  # fmt: skip
    assert failure["shocked"] == [f"merchant:{p['core']}"]
    assert failure["losses_by_sector"]["supplier"] > 0  # what its balance does not cover
    assert failure["platform_defaults"] is False
    assert "baseline" in failure["baseline"]
    outage = api.ok(api.get(a, "/v1/stress/runs", scenario="channel_outage", currency="EUR",
                            severity="0"))  # fmt: skip
    assert (outage["first_round"], outage["platform_shortfall"]) == (0, 0)
    for bad in ({"currency": "EUR", "severity": "1.5"}, {"currency": "EUR", "severity": "nan"},
                {"currency": "eur"}, {}):  # fmt: skip
        assert api.get(a, "/v1/stress/runs", scenario="channel_outage", **bad).status_code == 422
    assert api.get(a, "/v1/stress/runs", scenario="bank_run", currency="EUR").status_code == 422
    wrong = api.get(a, "/v1/stress/runs", scenario="channel_outage", currency="EUR", target="x")
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_input")
    absent = api.get(a, "/v1/stress/runs", scenario="channel_outage", currency="USD")
    assert (absent.status_code, absent.json()["code"]) == (422, "invalid_input")
    merchant = api.key(a, Role.MERCHANT, p["sup1"])
    assert api.get(merchant, "/v1/stress/exposures").status_code == 403
    regulator = api.key(a, Role.REGULATOR)
    assert api.get(regulator, "/v1/stress/exposures").status_code == 200


def test_a_run_on_a_live_fund_reads_its_books(api: Api) -> None:
    buyer = api.customer(api.a, funds=50_000)
    _fund(api, buyer)
    found = api.ok(api.get(api.a, "/v1/stress/fund_runs", fund="mmf-a", panic="1.5",
                           news="0.3", haircut="0.5", buffer="5000"))  # fmt: skip
    books = api.ok(api.get(api.a, "/v1/fundpool/funds/mmf-a"))
    assert found["holdings"] > 0
    assert found["assets"] == 1  # the short bond, with its days to maturity
    assert set(found["arms"]) == {"as_given", "with_cap", "with_buffer"}
    first = found["arms"]["as_given"]["days"][0]
    assert first["requested"] == round(found["holdings"] * 0.32)  # base 2 % + news 30 %
    assert books["id"] == "mmf-a"
    assert api.get(api.b, "/v1/stress/fund_runs", fund="mmf-a").status_code == 404
    assert api.get(api.a, "/v1/stress/fund_runs", fund="mmf-a", base="2").status_code == 422
