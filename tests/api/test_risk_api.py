"""Risk through the API: the risk context on money-moving calls, challenges, the case queue,
the rules, roles, and another tenant's ids."""

from __future__ import annotations

from typing import Any

from embedfin.api import auth
from tests.api.conftest import Api

FARM = {"device_id": "farm-tablet", "ip": "198.51.100.7"}


def _checkout(
    api: Api,
    customer: str,
    merchant: str,
    context: dict[str, Any] | None,
    payment: dict[str, Any] | None = None,
) -> Any:
    body: dict[str, Any] = {
        "customer": customer,
        "merchant": merchant,
        "currency": "EUR",
        "lines": [{"sku": "book", "quantity": 1, "unit_price": 2_500}],
        **(payment or {}),
    }
    if context is not None:
        body["risk_context"] = context
    return api.post(api.a, "/v1/checkouts", body)


def _held_case(api: Api) -> tuple[str, str]:
    """Multi-accounting on one tablet: the fourth account's checkout is paid and held."""
    merchant = api.merchant(api.a)
    for _ in range(3):
        api.ok(_checkout(api, api.customer(api.a, funds=10_000), merchant, FARM), 201)
    held = api.ok(_checkout(api, api.customer(api.a, funds=10_000), merchant, FARM), 201)
    assert held["status"] == "paid"
    cases = api.ok(api.get(api.a, "/v1/risk/cases"))["data"]
    assert [c["order"] for c in cases] == [held["id"]]
    return held["id"], cases[0]["id"]


def test_a_held_order_cannot_ship_until_its_case_is_released(api: Api) -> None:
    order_id, case_id = _held_case(api)
    shipped = api.post(api.a, f"/v1/orders/{order_id}/ship", {"tracking": "TRACK-1"})
    assert shipped.status_code == 409, shipped.text
    detail = api.ok(api.get(api.a, f"/v1/risk/cases/{case_id}"))
    assert detail["evidence"]["order"]["id"] == order_id
    assert detail["evidence"]["decision"]["reasons"][0]["code"] == "multi_accounting"
    assert len(detail["evidence"]["linked_accounts"]) == 3
    merchant_key = api.key(api.a, auth.Role.MERCHANT, detail["merchant"])
    denied = api.post(
        merchant_key, f"/v1/risk/cases/{case_id}/decision", {"outcome": "release", "reason": "x"}
    )
    assert denied.status_code == 403
    officer = api.key(api.a, auth.Role.RISK)
    decided = api.post(
        officer, f"/v1/risk/cases/{case_id}/decision", {"outcome": "release", "reason": "family"}
    )
    assert api.ok(decided)["outcome"] == "release"
    again = api.post(
        officer, f"/v1/risk/cases/{case_id}/decision", {"outcome": "refund", "reason": "again"}
    )
    assert again.status_code == 409
    api.ok(api.post(api.a, f"/v1/orders/{order_id}/ship", {"tracking": "TRACK-1"}))


def test_another_tenants_cases_and_decisions_are_not_found(api: Api) -> None:
    _, case_id = _held_case(api)
    detail = api.ok(api.get(api.a, f"/v1/risk/cases/{case_id}"))
    assert api.get(api.b, f"/v1/risk/cases/{case_id}").status_code == 404
    assert api.get(api.b, f"/v1/risk/decisions/{detail['decision']}").status_code == 404
    decide = {"outcome": "refund", "reason": "not mine"}
    assert api.post(api.b, f"/v1/risk/cases/{case_id}/decision", decide).status_code == 404
    assert api.ok(api.get(api.b, "/v1/risk/cases"))["data"] == []


def test_a_challenged_checkout_is_paid_after_the_code(api: Api) -> None:
    merchant = api.merchant(api.a)
    buyer = api.customer(api.a, funds=100_000)
    for _ in range(10):
        api.ok(_checkout(api, buyer, merchant, None), 201)
    refused = _checkout(api, buyer, merchant, None)
    assert refused.status_code == 402, refused.text
    problem = refused.json()
    assert problem["code"] == "challenge_required"
    assert problem["reasons"] == ["velocity_buyer"]
    challenge = problem["challenge_id"]
    sandbox = f"/v1/risk/challenges/{challenge}/sandbox_code"
    assert api.get(api.key(api.a, auth.Role.RISK), sandbox).status_code == 403
    code = api.ok(api.get(api.a, sandbox))["code"]
    answered = api.post(api.a, f"/v1/risk/challenges/{challenge}/answers", {"code": code})
    assert api.ok(answered)["status"] == "passed"
    orders = api.ok(api.get(api.a, "/v1/orders", limit=100))["data"]
    unpaid = [o["id"] for o in orders if o["status"] == "awaiting_payment"]
    assert len(unpaid) == 1
    paid = api.post(api.a, f"/v1/orders/{unpaid[0]}/pay", {"method": "wallet"})
    assert api.ok(paid)["status"] == "paid"


def test_malformed_risk_context_is_refused_and_changes_nothing(api: Api) -> None:
    merchant = api.merchant(api.a)
    buyer = api.customer(api.a, funds=10_000)
    for bad in (
        {"ip": "999.1.1.1"},
        {"device_id": "x" * 129},
        {"browser": "firefox"},
        {"device_id": 7},
        {"shipping_address": "a\u202eb"},
        {"ip": "fe80::1%eth0"},
        {"ip": "01.2.3.4"},
    ):
        for payment in ({}, {"payment_method": "channel", "channel_kind": "card"}):
            response = _checkout(api, buyer, merchant, bad, payment)
            assert response.status_code == 422, (bad, payment, response.text)
    assert api.ok(api.get(api.a, "/v1/orders"))["data"] == []
    balance = api.ok(api.get(api.a, f"/v1/customers/{buyer}/balance", currency="EUR"))
    assert balance["available"] == 10_000


def test_rules_are_versioned_backtested_and_refused_when_broken(api: Api) -> None:
    officer = api.key(api.a, auth.Role.RISK)
    before = api.ok(api.get(officer, "/v1/risk/rules"))
    assert before["version"] == 1
    rule = {
        "id": "big-ticket",
        "version": 1,
        "owner": "risk-operations",
        "reason_code": "big_ticket",
        "description": "a very large order",
        "action": "review",
        "expression": "amount_minor > 1000000",
        "currency": "EUR",
    }
    after = api.ok(api.post(officer, "/v1/risk/rules", rule))
    assert after["version"] == 2
    assert after["history"][0]["change"].startswith("big-ticket v1")
    assert after["history"][0]["backtest"]["rows"] == 0  # nothing stored yet in EUR
    assert {r["id"]: r["mode"] for r in after["rules"]}["big-ticket"] == "shadow"
    broken = api.post(officer, "/v1/risk/rules", rule | {"id": "x", "expression": "nope > 1"})
    assert broken.status_code == 422
    unparsable = api.post(officer, "/v1/risk/rules", rule | {"id": "y", "expression": "1 +"})
    assert unparsable.status_code == 422
    assert api.ok(api.get(officer, "/v1/risk/rules"))["version"] == 2
    merchant_key = api.key(api.a, auth.Role.MERCHANT, api.merchant(api.a))
    assert api.post(merchant_key, "/v1/risk/rules", rule).status_code == 403
    promoted = api.ok(api.post(officer, "/v1/risk/rules/big-ticket/promotion"))
    assert {r["id"]: r["mode"] for r in promoted["rules"]}["big-ticket"] == "live"


def test_the_merchant_ranking_scores_reserves_and_stays_in_its_tenant(api: Api) -> None:
    merchant = api.merchant(api.a)
    quiet = api.merchant(api.a)
    instant = api.merchant(api.a, payout_preference="t0")
    for _ in range(3):
        api.ok(_checkout(api, api.customer(api.a, funds=10_000), merchant, FARM), 201)
    officer = api.key(api.a, auth.Role.RISK)
    ranked = api.ok(api.post(officer, "/v1/risk/merchants/scoring", {}))["data"]
    assert [m["merchant"] for m in ranked][:1] == [merchant]
    assert {m["merchant"] for m in ranked} >= {merchant, quiet}
    assert ranked[0]["signals"]["checks"] == 3
    assert ranked[0]["rank"] == 1
    assert api.ok(api.get(officer, "/v1/risk/merchants"))["data"] == ranked

    body = {"reserve_bp": 1_500, "hold_days": 60, "reason": "ring on one tablet"}
    detail = api.ok(api.post(officer, f"/v1/risk/merchants/{merchant}/reserve", body))
    assert detail["reserve_in_force"] == {"reserve_bp": 1_500, "hold_days": 60}
    assert detail["policy"]["reason"] == "ring on one tablet"
    entries = api.ok(api.get(api.a, "/v1/audit_log"))["data"]
    assert "merchant_reserve_set" in {e["action"] for e in entries}
    back = {"reserve_bp": None, "hold_days": None, "reason": "cleared"}
    detail = api.ok(api.post(officer, f"/v1/risk/merchants/{merchant}/reserve", back))
    assert detail["reserve_in_force"] == detail["reserve"]

    for bad in (
        {"reserve_bp": 1_500, "hold_days": None, "reason": "half"},
        {"reserve_bp": 9_000, "hold_days": 30, "reason": "over the cap"},
        {"reserve_bp": 500, "hold_days": 0, "reason": "no term"},
        {"reserve_bp": 500, "hold_days": 30, "reason": ""},
        {"reserve_bp": -1, "hold_days": 30, "reason": "negative"},
        {"reserve_bp": "100", "hold_days": 30, "reason": "a string"},
        {"reserve_bp": 100.0, "hold_days": 30, "reason": "a float"},
        {"reserve_bp": True, "hold_days": 30, "reason": "a boolean"},
    ):
        refused = api.post(officer, f"/v1/risk/merchants/{merchant}/reserve", bad)
        assert refused.status_code == 422, (bad, refused.text)
    merchant_key = api.key(api.a, auth.Role.MERCHANT, merchant)
    assert api.get(merchant_key, "/v1/risk/merchants").status_code == 403
    assert api.post(merchant_key, f"/v1/risk/merchants/{merchant}/reserve", body).status_code == 403
    assert api.get(api.b, f"/v1/risk/merchants/{merchant}").status_code == 404
    assert api.post(api.b, f"/v1/risk/merchants/{merchant}/reserve", body).status_code == 404
    assert api.ok(api.get(api.b, "/v1/risk/merchants"))["data"] == []
    assert api.get(officer, "/v1/risk/merchants/nobody").status_code == 404
    t0 = api.post(officer, f"/v1/risk/merchants/{instant}/reserve", body)  # settles T+0
    assert t0.status_code == 409, t0.text


def test_fraud_models_need_labels_a_risk_key_and_stay_in_their_tenant(api: Api) -> None:
    officer = api.key(api.a, auth.Role.RISK)
    assert api.ok(api.get(officer, "/v1/risk/models"))["data"] == []
    refused = api.post(officer, "/v1/risk/models", {"champion": True})
    assert refused.status_code == 422, refused.text  # no labelled decisions yet
    assert "200 labelled" in refused.json()["detail"]
    for bad in ({"seed": -1}, {"seed": "7"}, {"seed": 7.0}, {"seed": True}, {"champion": "yes"}):
        assert api.post(officer, "/v1/risk/models", bad).status_code == 422, bad
    assert api.post(officer, "/v1/risk/models/fm_nope/promotion", {}).status_code == 404
    merchant_key = api.key(api.a, auth.Role.MERCHANT, api.merchant(api.a))
    assert api.post(merchant_key, "/v1/risk/models", {}).status_code == 403
    assert api.get(merchant_key, "/v1/risk/monitoring").status_code == 403
    merchant = api.merchant(api.a)
    api.ok(_checkout(api, api.customer(api.a, funds=10_000), merchant, FARM), 201)
    days: Any = api.ok(api.get(officer, "/v1/risk/monitoring"))
    (today,) = days
    assert (today["decisions"], today["psi"]) == (2, None)  # top-up and checkout; no champion
    other: Any = api.ok(api.get(api.b, "/v1/risk/monitoring"))
    assert other == []


def test_the_case_queue_pages_and_notes_keep_their_lines(api: Api) -> None:
    merchant = api.merchant(api.a)
    for _ in range(3):
        api.ok(_checkout(api, api.customer(api.a, funds=10_000), merchant, FARM), 201)
    for _ in range(3):  # the fourth account on the tablet and after: each held for a case
        api.ok(_checkout(api, api.customer(api.a, funds=10_000), merchant, FARM), 201)
    officer = api.key(api.a, auth.Role.RISK)
    first = api.ok(api.get(officer, "/v1/risk/cases", limit=2))
    assert first["has_more"]
    second = api.ok(
        api.get(officer, "/v1/risk/cases", limit=2, starting_after=first["data"][-1]["id"])
    )
    ids = [c["id"] for c in first["data"] + second["data"]]
    assert len(ids) == len(set(ids)) == 3
    assert not second["has_more"]
    assert api.get(officer, "/v1/risk/cases", starting_after="nope").status_code == 404
    assert api.get(api.b, "/v1/risk/cases", starting_after=ids[0]).status_code == 404
    assert api.ok(api.get(officer, "/v1/risk/cases", status="deciding"))["data"] == []
    assert len(api.ok(api.get(officer, "/v1/risk/cases", kind="fraud_review"))["data"]) == 3
    decisions = api.ok(api.get(officer, "/v1/risk/decisions", limit=4))
    rest = api.ok(
        api.get(
            officer, "/v1/risk/decisions", limit=100, starting_after=decisions["data"][-1]["id"]
        )
    )
    seen = [d["id"] for d in decisions["data"] + rest["data"]]
    assert len(seen) == len(set(seen)) == 12  # six top-ups and six checkouts
    note = api.post(officer, f"/v1/risk/cases/{ids[0]}/notes", {"text": "line one\nline two"})
    assert note.status_code in (200, 201), note.text
    bad = api.post(officer, f"/v1/risk/cases/{ids[0]}/notes", {"text": "a\u202eb"})
    assert bad.status_code == 422
