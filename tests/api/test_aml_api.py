"""Sanctions screening through the API: a list loaded screens every party, a hit opens a case
and holds withdrawals and payouts until it is decided, a name change screens afresh, and
another tenant's parties and hits stay out of sight."""

from __future__ import annotations

from typing import Any

from embedfin.api import auth
from embedfin.bootstrap import check_all
from embedfin.compliance.aml.watchlist import SHIPPED
from tests.api.conftest import Api

LIST = SHIPPED.read_text(encoding="utf-8")
WITHDRAW = {
    "amount": 1_000,
    "currency": "EUR",
    "bank_token": "tok_abcdefgh12",
    "bank_last4": "1234",
}


def _load(api: Api, tenant: Any = None) -> dict[str, Any]:
    body = {"name": "synthetic sanctions", "ftm": LIST}
    return api.ok(api.post(tenant or api.a, "/v1/aml/watchlists", body), 201)


def _buyer(api: Api, name: str, funds: int = 5_000) -> str:
    cid = str(api.ok(api.post(api.a, "/v1/customers", {"name": name}), 201)["id"])
    api.ok(
        api.post(api.a, f"/v1/customers/{cid}/top_ups", {"amount": funds, "currency": "EUR"}), 201
    )
    return cid


def _settle(api: Api, amount: int) -> None:
    """The card acquirer pays the top-ups into the client reserve (withdrawals draw on it)."""
    settled = {"kind": "channel_settlement", "channel": "card-acquirer", "amount": amount,
               "fee": 0, "currency": "EUR"}  # fmt: skip
    api.ok(api.post(api.a, "/v1/settlement_runs", settled), 201)


def test_a_buyer_on_the_list_is_held_until_the_case_clears_them(api: Api) -> None:
    loaded = _load(api)
    assert loaded["active"] is True
    assert loaded["entries"] > 10
    # screened at sign-up: a transliterated spelling of a listed name
    listed = _buyer(api, "Boris Zheleznov")
    clean = _buyer(api, "Ada Lovelace")
    _settle(api, 10_000)
    party = api.ok(api.get(api.a, f"/v1/aml/parties/buyer/{listed}"))
    assert party["held"] is not None
    assert party["name"] != "Boris Zheleznov"  # masked
    (hit,) = party["hits"]
    assert hit["entity_id"] == "syn-p-001"
    assert hit["category"] == "sanction"
    assert hit["status"] == "open"
    assert hit["reasons"]
    refused = api.post(api.a, f"/v1/customers/{listed}/withdrawals", WITHDRAW)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "compliance_hold"
    balance = api.ok(api.get(api.a, f"/v1/customers/{listed}/balance", currency="EUR"))
    assert balance["available"] == 5_000  # nothing moved
    api.ok(api.post(api.a, f"/v1/customers/{clean}/withdrawals", WITHDRAW), 201)
    # the case is in the shared queue with its evidence, and decided there
    cases = api.ok(api.get(api.a, "/v1/risk/cases", kind="sanctions_hit"))["data"]
    assert [c["id"] for c in cases] == [hit["case"]]
    detail = api.ok(api.get(api.a, f"/v1/risk/cases/{hit['case']}"))
    assert detail["evidence"]["screening_hits"][0]["entity_id"] == "syn-p-001"
    officer = api.key(api.a, auth.Role.RISK)
    refund = {"outcome": "refund", "reason": "no"}
    assert api.post(officer, f"/v1/risk/cases/{hit['case']}/decision", refund).status_code == 422
    cleared = {"outcome": "release", "reason": "different person: born 1990, passport seen"}
    api.ok(api.post(officer, f"/v1/risk/cases/{hit['case']}/decision", cleared))
    party = api.ok(api.get(api.a, f"/v1/aml/parties/buyer/{listed}"))
    assert party["held"] is None
    assert party["hits"][0]["status"] == "cleared"
    api.ok(api.post(api.a, f"/v1/customers/{listed}/withdrawals", WITHDRAW), 201)
    # the same list again changes nothing: the cleared hit stays cleared
    again = _load(api)
    assert again["already_active"] is True
    assert api.ok(api.get(api.a, "/v1/aml/hits", status="open"))["data"] == []
    with api.platform.ledger.reader() as conn:
        assert check_all(conn).ok


def test_a_list_update_screens_the_parties_already_known(api: Api) -> None:
    early = _buyer(api, "Long Haitao")  # no list yet: recorded, not screened
    party = api.ok(api.get(api.a, f"/v1/aml/parties/buyer/{early}"))
    assert party["screened_against"] is None
    assert party["held"] is None
    loaded = _load(api)
    assert loaded["screened"] >= 1
    assert loaded["new_hits"] >= 1
    party = api.ok(api.get(api.a, f"/v1/aml/parties/buyer/{early}"))
    assert party["screened_against"] == loaded["id"]
    assert party["held"] is not None
    assert [h["entity_id"] for h in party["hits"]] == ["syn-p-003"]
    types = [e["type"] for e in api.ok(api.get(api.a, "/v1/events", limit=100))["data"]]
    assert {"aml_watchlist_loaded", "aml_screening_hit", "risk_case_opened"} <= set(types)


def test_a_confirmed_merchant_is_kept_out_of_payouts(api: Api) -> None:
    _load(api)
    merchant = api.merchant(api.a, payout_preference="t0")
    bank = {"bank_token": "tok_12345678ab", "bank_last4": "4242"}
    api.ok(api.post(api.a, f"/v1/merchants/{merchant}/bank_account", bank))
    record = {"party_kind": "merchant", "party_id": merchant, "name": "Ada Books GmbH",
              "kind": "organization", "country": "DE"}  # fmt: skip
    party = api.ok(api.post(api.a, "/v1/aml/parties", record))
    assert party["held"] is None
    # a change of legal name is screened again: now a listed company's name
    renamed = {**record, "name": "Northern Pearl Logistics GmbH"}
    party = api.ok(api.post(api.a, "/v1/aml/parties", renamed))
    assert party["held"] is not None
    case_id = party["hits"][0]["case"]
    officer = api.key(api.a, auth.Role.RISK)
    confirmed = {"outcome": "reject", "reason": "registry extract matches the listed company"}
    api.ok(api.post(officer, f"/v1/risk/cases/{case_id}/decision", confirmed))
    buyer = _buyer(api, "Grace Hopper", funds=10_000)
    order = api.checkout(api.a, buyer, merchant, price=2_500)
    api.ok(api.post(api.a, f"/v1/orders/{order}/ship", {"tracking": "DHL-1"}))
    api.ok(api.post(api.a, f"/v1/orders/{order}/confirm"))
    run = api.ok(api.post(api.a, "/v1/settlement_runs", {"kind": "payouts"}), 201)
    assert run["lines"] == []
    held = [e for e in api.ok(api.get(api.a, "/v1/events", limit=100))["data"]
            if e["type"] == "payout_held"]  # fmt: skip
    assert held
    assert held[-1]["data"]["reason"] == "compliance_hold"
    party = api.ok(api.get(api.a, f"/v1/aml/parties/merchant/{merchant}"))
    assert party["hits"][0]["status"] == "confirmed"
    assert party["held"] is not None


def test_bad_details_and_bad_lists_are_refused_and_change_nothing(api: Api) -> None:
    buyer = _buyer(api, "Ada Lovelace")
    base = {"party_kind": "buyer", "party_id": buyer, "name": "Ada Lovelace", "kind": "person"}
    for change in (
        {"birth_date": "1990-02-30"},
        {"birth_date": "90-01-01"},
        {"kind": "robot"},
        {"country": "DEU"},
        {"name": ""},
        {"party_kind": "lender"},
        {"kind": "organization", "birth_date": "1990-01-01"},
        {"unknown": 1},
    ):
        response = api.post(api.a, "/v1/aml/parties", {**base, **change})
        assert response.status_code == 422, (change, response.text)
    missing = {**base, "party_id": "cus_nobody"}
    assert api.post(api.a, "/v1/aml/parties", missing).status_code == 404
    for ftm in ('{"id": "x"', '{"id": "x", "schema": "Person", "properties": {}}', "[]"):
        bad = api.post(api.a, "/v1/aml/watchlists", {"name": "bad", "ftm": ftm})
        assert bad.status_code == 422, bad.text
    assert api.ok(api.get(api.a, "/v1/aml/watchlists"))["data"] == []


def test_another_tenants_parties_and_hits_are_not_seen(api: Api) -> None:
    _load(api)
    listed = _buyer(api, "Boris Zheleznov")
    assert api.get(api.b, f"/v1/aml/parties/buyer/{listed}").status_code == 404
    assert api.ok(api.get(api.b, "/v1/aml/hits"))["data"] == []
    assert api.ok(api.get(api.b, "/v1/aml/watchlists"))["data"] == []
    other = {"party_kind": "buyer", "party_id": listed, "name": "X Y", "kind": "person"}
    assert api.post(api.b, "/v1/aml/parties", other).status_code == 404
    merchant_key = api.key(api.a, auth.Role.MERCHANT, api.merchant(api.a))
    assert api.get(merchant_key, "/v1/aml/hits").status_code == 403
    assert (
        api.post(merchant_key, "/v1/aml/watchlists", {"name": "x", "ftm": LIST}).status_code == 403
    )
