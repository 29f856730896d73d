"""The fund pool over the API, on both stores: a fund opened and its facility funded, a
customer subscribing from its wallet, redeeming fast and normally, a day accrued and disclosed,
an asset bought; bad bodies refused with problem+json and nothing written; retries replayed;
a merchant's key sees no holding."""

from __future__ import annotations

from embedfin.api.auth import Role
from embedfin.core.money import Money
from embedfin.payments.payouts.settlement import settle_channel
from tests.api.conftest import Api

FUND = "mmf-eur"


def _fund(api: Api) -> str:
    """A EUR fund (a fast cap of 1,000.00, the 2a-7 fee past 5%) with a funded facility, and a
    customer whose top-up the channel has settled into the reserve."""
    a = api.a
    body = {"id": FUND, "name": "Euro Balance", "currency": "EUR", "fast_cap": 100_000,
            "fee_threshold": "0.05", "fee_rate": "0.01"}  # fmt: skip
    api.ok(api.post(a, "/v1/fundpool/funds", body), 201)
    facility = {"amount": 1_000_000, "currency": "EUR"}
    api.ok(api.post(a, f"/v1/fundpool/funds/{FUND}/facility", facility), 201)
    customer = api.customer(a, funds=500_000)
    settle_channel(api.platform.ledger, a.id, "card-acquirer", Money(500_000, "EUR"),
                   Money(0, "EUR"), "fund-settle")  # fmt: skip
    return customer


def test_a_customer_subscribes_redeems_and_earns(api: Api) -> None:
    a, customer = api.a, _fund(api)
    path = f"/v1/fundpool/funds/{FUND}"
    sub = {"customer": customer, "amount": 400_000, "currency": "EUR"}
    made = api.ok(api.post(a, f"{path}/subscriptions", sub, key="sub-1"), 201)
    again = api.post(a, f"{path}/subscriptions", sub, key="sub-1")
    assert (again.status_code, again.json()) == (201, made)
    balance = api.ok(api.get(a, f"/v1/customers/{customer}/balance", currency="EUR"))
    assert balance["available"] == 100_000
    fast = {"customer": customer, "amount": 100_000, "currency": "EUR", "speed": "fast"}
    redeemed = api.ok(api.post(a, f"{path}/redemptions", fast), 201)
    assert (redeemed["status"], redeemed["paid"] + redeemed["fee"]) == ("advanced", 100_000)
    over = api.post(a, f"{path}/redemptions", fast | {"amount": 1})
    assert (over.status_code, over.json()["code"]) == (422, "fast_redemption_cap")
    normal = api.ok(api.post(a, f"{path}/redemptions", fast | {"speed": "normal",
                                                                "amount": 1_000}), 201)  # fmt: skip
    assert normal["status"] == "pending"
    day = api.ok(api.post(a, f"{path}/accruals", {"bank_interest": 30}), 201)
    assert (day["income"], day["holders"]) == (30, 1)
    days = api.ok(api.get(a, f"{path}/days"))["data"]
    assert [d["yield_7d"] for d in days] == [day["yield_7d"]]
    holding = api.ok(api.get(a, f"{path}/holdings/{customer}"))
    assert holding["units"] == 400_000 - 100_000 - 1_000 + day["distributed"]
    assert holding["tier"] == "standard"
    fund = api.ok(api.get(a, path))
    assert fund["net_assets"] == fund["units"]
    asset = {"kind": "reverse_repo", "cost": 100_000, "interest": 20, "currency": "EUR",
             "matures_on": "2026-11-19"}  # fmt: skip
    bought = api.ok(api.post(a, f"{path}/assets", asset), 201)
    assert [x["id"] for x in api.ok(api.get(a, f"{path}/assets"))["data"]] == [bought["id"]]
    liquidity = api.ok(api.get(a, f"{path}/liquidity"))
    assert liquidity["daily_ratio"] == "1.0000"  # cash and a repo maturing tomorrow
    assert api.ok(api.get(a, f"/v1/fundpool/redemptions/{normal['id']}"))["id"] == normal["id"]


def test_bad_fund_requests_are_refused_and_write_nothing(api: Api) -> None:
    a, customer = api.a, _fund(api)
    path = f"/v1/fundpool/funds/{FUND}"
    for body, code in (
        ({"customer": customer, "amount": 100, "currency": "USD"}, "currency_mismatch"),
        ({"customer": customer, "amount": -5, "currency": "EUR"}, "invalid_request"),
        ({"customer": customer, "amount": 600_000, "currency": "EUR"}, "insufficient_funds"),
    ):
        answer = api.post(a, f"{path}/subscriptions", body)
        assert answer.json()["code"] == code, answer.text
    redeem = {"customer": customer, "amount": 1, "currency": "EUR"}
    answer = api.post(a, f"{path}/redemptions", redeem)
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")  # holds nothing
    assert api.ok(api.get(a, path))["units"] == 0
    merchant_key = api.key(a, Role.MERCHANT, api.merchant(a))
    assert api.get(merchant_key, f"{path}/holdings/{customer}").status_code == 404
    assert api.post(merchant_key, f"{path}/subscriptions", redeem).status_code == 403
