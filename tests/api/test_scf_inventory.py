"""Inventory financing over the API, on both stores: a distributor's facility drawn within the
borrowing base its stock and sales give, frozen when the base falls and paid down by its plan;
bad bodies refused with problem+json and nothing written; a merchant key sees its own only."""

from __future__ import annotations

from typing import Any

from embedfin.api.auth import Role
from tests.api.conftest import Api

DAY_NS = 86_400 * 10**9


def _facility(api: Api) -> tuple[str, str, dict[str, Any]]:
    """A distributor that sold 50 books, a funded bank, and a facility at 50 % with a 1 % fee."""
    a = api.a
    dist = api.merchant(a, payout_preference="t0")
    buyer = api.customer(a, funds=500_000)
    body = {"customer": buyer, "merchant": dist, "currency": "EUR",
            "lines": [{"sku": "book", "quantity": 50, "unit_price": 4_000}]}  # fmt: skip
    order = api.ok(api.post(a, "/v1/checkouts", body), 201)["id"]
    api.ok(api.post(a, f"/v1/orders/{order}/ship", {"tracking": "T-1"}))
    api.ok(api.post(a, f"/v1/orders/{order}/confirm"))
    api.ok(api.post(a, "/v1/funder_deposits", {"amount": 1_000_000, "currency": "EUR"}), 201)
    bank = api.platform.funder_id
    for party in ({"id": dist, "role": "distributor", "name": "Books Wholesale"},
                  {"id": bank, "role": "funder", "name": "The platform's funder"}):  # fmt: skip
        api.ok(api.post(a, "/v1/scf/parties", party), 201)
    terms = {"distributor": dist, "funder": bank, "currency": "EUR", "advance_bp": 5_000,
             "fee_bp": 100, "installments": 2}  # fmt: skip
    made = api.ok(api.post(a, "/v1/scf/inventory_facilities", terms), 201)
    return dist, bank, made


def test_a_facility_over_the_api_draws_is_frozen_and_paid_down(api: Api) -> None:
    a = api.a
    dist, _, made = _facility(api)
    path = f"/v1/scf/inventory_facilities/{made['id']}"
    assert (made["status"], made["drawn"], made["valuation"]) == ("open", 0, None)
    report = {"lines": [{"sku": "book", "on_hand": 100, "unit_cost": 2_000}]}
    base = api.ok(api.post(a, f"{path}/stock_reports", report), 201)
    assert (base["stock_value"], base["sold_30d"], base["sell_through_bp"]) == (200_000, 50, 3_333)
    assert (base["days_of_stock"], base["limit"]) == (60.0, 100_000)
    drawn = api.ok(api.post(a, f"{path}/draws", {"amount": 80_000, "currency": "EUR"}))
    assert (drawn["drawn"], drawn["valuation"]["limit"]) == (80_000, 100_000)
    over = api.post(a, f"{path}/draws", {"amount": 20_001, "currency": "EUR"})
    assert (over.status_code, over.json()["code"]) == (422, "inventory_refused")
    report = {"lines": [{"sku": "book", "on_hand": 40, "unit_cost": 2_000}]}
    api.ok(api.post(a, f"{path}/stock_reports", report), 201)
    run = api.ok(api.post(a, "/v1/scf/inventory_runs"))
    assert (run["valued"], run["frozen"]) == (1, 1)
    frozen = api.ok(api.get(a, path))
    assert frozen["status"] == "frozen"
    assert sum(i["amount"] for i in frozen["plan"]) == 80_000 - frozen["valuation"]["limit"]
    refused = api.post(a, f"{path}/draws", {"amount": 1, "currency": "EUR"})
    assert (refused.status_code, refused.json()["code"]) == (422, "inventory_refused")
    shortfall = 80_000 - frozen["valuation"]["limit"]
    paid = api.ok(api.post(a, f"{path}/repayments", {"amount": shortfall, "currency": "EUR"}))
    assert [i["status"] for i in paid["plan"]] == ["paid", "paid"]
    assert api.ok(api.post(a, "/v1/scf/inventory_runs"))["unfrozen"] == 1
    valuations = api.ok(api.get(a, f"{path}/valuations"))["data"]
    assert valuations[0]["limit"] == frozen["valuation"]["limit"]
    mine = api.key(a, Role.MERCHANT, dist)
    assert [f["id"] for f in api.ok(api.get(mine, "/v1/scf/inventory_facilities"))["data"]] == [
        made["id"]]  # fmt: skip
    outsider = api.key(a, Role.MERCHANT, api.merchant(a))
    assert api.get(outsider, path).status_code == 404
    assert api.ok(api.get(outsider, "/v1/scf/inventory_facilities"))["data"] == []
    assert api.post(mine, f"{path}/draws", {"amount": 1, "currency": "EUR"}).status_code == 403


def test_bad_inventory_bodies_are_refused_and_write_nothing(api: Api) -> None:
    a = api.a
    dist, bank, made = _facility(api)
    path = f"/v1/scf/inventory_facilities/{made['id']}"
    opened = {"distributor": dist, "funder": bank, "currency": "EUR", "advance_bp": 5_000}
    bad: list[tuple[str, dict[str, Any], int, str]] = [
        ("/v1/scf/inventory_facilities", opened | {"advance_bp": 6_501}, 422, "invalid_request"),
        ("/v1/scf/inventory_facilities", opened | {"advance_bp": "5000"}, 422, "invalid_request"),
        ("/v1/scf/inventory_facilities", opened | {"fee_bp": -1}, 422, "invalid_request"),
        ("/v1/scf/inventory_facilities", opened | {"funder": dist}, 422, "certificate_refused"),
        ("/v1/scf/inventory_facilities", opened | {"currency": "XXQ"}, 422, "unknown_currency"),
        ("/v1/scf/inventory_facilities", opened | {"x": 1}, 422, "invalid_request"),
        (f"{path}/stock_reports", {"lines": [{"sku": "a", "on_hand": -1, "unit_cost": 1}]}, 422,
         "invalid_request"),
        (f"{path}/stock_reports", {"lines": [{"sku": "a", "on_hand": 1, "unit_cost": 1},
                                             {"sku": "a", "on_hand": 2, "unit_cost": 1}]}, 422,
         "invalid_input"),
        (f"{path}/stock_reports", {"lines": [{"sku": "a", "on_hand": 1.5, "unit_cost": 1}]}, 422,
         "invalid_request"),
        (f"{path}/draws", {"amount": 0, "currency": "EUR"}, 422, "invalid_request"),
        (f"{path}/draws", {"amount": 10**19, "currency": "EUR"}, 422, "invalid_request"),
        (f"{path}/draws", {"amount": 5, "currency": "USD"}, 422, "inventory_refused"),
        (f"{path}/draws", {"amount": 5, "currency": "EUR"}, 422, "inventory_refused"),  # no base
        (f"{path}/repayments", {"amount": 5, "currency": "EUR"}, 422, "inventory_refused"),
        ("/v1/scf/inventory_facilities/inv_nope/draws", {"amount": 5, "currency": "EUR"}, 404,
         "not_found"),
    ]  # fmt: skip
    before = api.ok(api.get(a, "/v1/logs/scf"))["size"]
    for target, body, status, code in bad:
        response = api.post(a, target, body)
        assert (response.status_code, response.json()["code"]) == (status, code), (target, body)
    assert api.ok(api.get(a, "/v1/logs/scf"))["size"] == before
    assert len(api.ok(api.get(a, "/v1/scf/inventory_facilities"))["data"]) == 1
