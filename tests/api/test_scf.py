"""Supply-chain finance over the API, on both stores: a certificate issued, split, passed down
the tiers, discounted and settled at maturity, each event proved in the ``scf`` log; bad bodies
refused with problem+json and nothing written; retries replayed; merchants' keys see their own."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from embedfin.api.auth import Role
from embedfin.core.clock import ns_to_datetime
from embedfin.transparency import merkle
from tests.api.conftest import Api, Tenant

DAY_NS = 86_400 * 10**9


def _chain(api: Api) -> dict[str, str]:
    """A core enterprise that has sold goods (a T+0 merchant), two suppliers, a funded bank."""
    a = api.a
    core = api.merchant(a, payout_preference="t0")
    sup1, sup2 = api.merchant(a), api.merchant(a)
    buyer = api.customer(a, funds=500_000)
    order = api.checkout(a, buyer, core, price=400_000)
    api.ok(api.post(a, f"/v1/orders/{order}/ship", {"tracking": "T-1"}))
    api.ok(api.post(a, f"/v1/orders/{order}/confirm"))
    api.ok(api.post(a, "/v1/funder_deposits", {"amount": 1_000_000, "currency": "EUR"}), 201)
    bank = api.platform.funder_id
    parties = [
        {"id": core, "role": "core", "name": "Core AG", "discount_rate": "0.036",
         "overdue_rate": "0.12", "day_basis": 360},
        {"id": sup1, "role": "supplier", "name": "Tier One GmbH"},
        {"id": sup2, "role": "supplier", "name": "Tier Two KG"},
        {"id": bank, "role": "funder", "name": "The platform's funder"},
    ]  # fmt: skip
    for party in parties:
        api.ok(api.post(a, "/v1/scf/parties", party), 201)
    return {"core": core, "sup1": sup1, "sup2": sup2, "bank": bank}


def _today(api: Api) -> Any:
    return ns_to_datetime(api.clock.now_ns()).date()


def _issue(api: Api, p: dict[str, str], amount: int = 100_000, days: int = 90) -> dict[str, Any]:
    body = {"core": p["core"], "supplier": p["sup1"], "payable_ref": "INV-1", "amount": amount,
            "currency": "EUR", "matures_on": str(_today(api) + timedelta(days=days))}  # fmt: skip
    return api.ok(api.post(api.a, "/v1/scf/certificates", body), 201)


def test_a_certificate_over_the_api_from_issue_to_settlement_with_proofs(api: Api) -> None:
    a, p = api.a, _chain(api)
    first = _issue(api, p)
    assert (first["holder"], first["tier"], first["amount"], first["status"]) == (
        p["sup1"], 1, 100_000, "live")  # fmt: skip
    body: dict[str, Any] = {"holder": p["sup1"], "parts": [60_000, 40_000]}
    parts = api.ok(api.post(a, f"/v1/scf/certificates/{first['id']}/split", body), 201)["data"]
    body = {"holder": p["sup1"], "to": p["sup2"], "amount": 10_000}
    passed = api.ok(api.post(a, f"/v1/scf/certificates/{parts[1]['id']}/transfer", body), 201)
    assert [(c["holder"], c["tier"], c["amount"]) for c in passed["data"]] == [
        (p["sup2"], 2, 10_000), (p["sup1"], 1, 30_000)]  # fmt: skip
    sold = api.ok(api.post(a, f"/v1/scf/certificates/{parts[0]['id']}/discount",
                           {"holder": p["sup1"], "funder": p["bank"]}), 201)["data"][0]  # fmt: skip
    assert sold["price"] == 60_000 - 540  # 3.6% a year for 90 days of a 360-day year
    held = api.ok(api.get(a, "/v1/scf/certificates", holder=p["sup1"], status="live"))["data"]
    assert [c["amount"] for c in held] == [30_000]
    early = api.post(a, f"/v1/scf/payables/{first['payable']}/settle")
    assert (early.status_code, early.json()["code"]) == (422, "certificate_refused")
    api.clock.advance(ns=90 * DAY_NS)
    run = api.ok(api.post(a, "/v1/scf/maturity_runs"))
    assert (run["settled"], run["overdue"]) == (1, 0)
    payable = api.ok(api.get(a, f"/v1/scf/payables/{first['payable']}"))
    assert payable["status"] == "settled"
    reach = api.ok(api.get(a, "/v1/scf/reach", core=p["core"]))["data"]
    assert [(r["tier"], r["suppliers"], r["received"]) for r in reach] == [
        (1, 1, 100_000), (2, 1, 10_000)]  # fmt: skip
    assert reach[0]["discounted"] == 60_000
    events = api.ok(api.get(a, f"/v1/scf/payables/{first['payable']}/events"))["data"]
    assert [e["kind"] for e in events] == ["issue", "split", "transfer", "discount", "settle"]
    checkpoint = api.ok(api.get(a, "/v1/logs/scf/checkpoint"))
    root = base64.b64decode(checkpoint["root"])
    for event in events:
        proof = api.ok(api.get(a, "/v1/logs/scf/proofs/inclusion", index=event["log_index"],
                               size=checkpoint["size"]))  # fmt: skip
        merkle.verify_inclusion(event["log_index"], proof["size"],
                                base64.b64decode(proof["leaf_hash"]),
                                [base64.b64decode(x) for x in proof["proof"]], root)  # fmt: skip
    check = api.platform.ledger
    from embedfin.bootstrap import check_all

    with check.reader() as conn:
        assert check_all(conn).ok


def test_bad_bodies_are_refused_and_write_nothing(api: Api) -> None:
    a, p = api.a, _chain(api)
    first = _issue(api, p)
    split = f"/v1/scf/certificates/{first['id']}/split"
    bad: list[tuple[str, dict[str, Any], int, str]] = [
        (split, {"holder": p["sup1"], "parts": [1, 2]}, 422, "certificate_refused"),
        (split, {"holder": p["sup1"], "parts": [0, 100_000]}, 422, "invalid_request"),
        (split, {"holder": p["sup1"], "parts": [50_000.0, 50_000]}, 422, "invalid_request"),
        (split, {"holder": p["sup1"], "parts": ["50000", 50_000]}, 422, "invalid_request"),
        (split, {"holder": p["sup1"], "parts": [100_000]}, 422, "invalid_request"),
        (split, {"holder": p["sup2"], "parts": [1, 99_999]}, 422, "certificate_refused"),
        (split, {"holder": p["sup1"], "parts": [1, 99_999], "x": 1}, 422, "invalid_request"),
        ("/v1/scf/certificates/crt_nope/split", {"holder": p["sup1"], "parts": [1, 1]}, 404,
         "not_found"),
        (f"/v1/scf/certificates/{first['id']}/transfer", {"holder": p["sup1"], "to": p["bank"]},
         422, "certificate_refused"),
        (f"/v1/scf/certificates/{first['id']}/discount",
         {"holder": p["sup1"], "funder": p["bank"], "amount": -1}, 422, "invalid_request"),
        ("/v1/scf/certificates", {"core": p["core"], "supplier": p["sup1"], "payable_ref": "X",
         "amount": 5, "currency": "EUR", "matures_on": str(_today(api) + timedelta(days=400))},
         422, "certificate_refused"),
        ("/v1/scf/certificates", {"core": p["core"], "supplier": p["sup1"], "payable_ref": "X",
         "amount": 5, "currency": "XXQ", "matures_on": "2027-01-01"}, 422, "unknown_currency"),
        ("/v1/scf/certificates", {"core": p["core"], "supplier": p["sup1"], "payable_ref": "INV-1",
         "amount": 5, "currency": "EUR", "matures_on": str(_today(api) + timedelta(days=9))},
         409, "invalid_state_transition"),
        ("/v1/scf/parties", {"id": "c2", "role": "core", "name": "C", "discount_rate": "1.5",
         "overdue_rate": "0.1"}, 422, "invalid_request"),
        ("/v1/scf/parties", {"id": "c2", "role": "core", "name": "C", "discount_rate": 0.03,
         "overdue_rate": "0.1"}, 422, "invalid_request"),
        ("/v1/scf/parties", {"id": "s9", "role": "supplier", "name": "S", "discount_rate": "0.1"},
         422, "invalid_input"),
        ("/v1/scf/parties", {"id": "s9", "role": "bank", "name": "S"}, 422, "invalid_request"),
        ("/v1/scf/parties", {"id": "c3", "role": "core", "name": "C"}, 422, "invalid_input"),
        ("/v1/scf/certificates", {"core": p["core"], "supplier": p["sup1"], "payable_ref": "Y",
         "amount": 5, "currency": "EUR", "matures_on": "2027-01-01T00:00:00"}, 422,
         "invalid_request"),
    ]  # fmt: skip
    before = api.ok(api.get(a, "/v1/logs/scf"))["size"]
    listing = api.ok(api.get(a, "/v1/scf/certificates"))["data"]
    for path, body, status, code in bad:
        response = api.post(a, path, body)
        assert (response.status_code, response.json()["code"]) == (status, code), (path, body)
    forged = api.post(a, "/v1/logs/scf/entries", {"entries": ['{"event":"issue"}']})
    assert (forged.status_code, forged.json()["code"]) == (409, "log_reserved")
    assert api.ok(api.get(a, "/v1/logs/scf"))["size"] == before
    assert api.ok(api.get(a, "/v1/scf/certificates"))["data"] == listing


def test_a_retry_replays_and_a_merchant_key_sees_only_what_it_holds(api: Api) -> None:
    a, p = api.a, _chain(api)
    first = _issue(api, p)
    body = {"holder": p["sup1"], "parts": [70_000, 30_000]}
    path = f"/v1/scf/certificates/{first['id']}/split"
    once = api.post(a, path, body, key="split-1")
    again = api.post(a, path, body, key="split-1")
    assert once.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    parts = once.json()["data"]
    api.ok(api.post(a, f"/v1/scf/certificates/{parts[1]['id']}/transfer",
                    {"holder": p["sup1"], "to": p["sup2"]}), 201)  # fmt: skip
    sup2: Tenant = api.key(a, Role.MERCHANT, p["sup2"])
    mine = api.ok(api.get(sup2, "/v1/scf/certificates"))["data"]
    assert [(c["holder"], c["amount"]) for c in mine] == [(p["sup2"], 30_000)]
    assert api.ok(api.get(sup2, "/v1/scf/certificates", holder=p["sup1"]))["data"] == []
    assert api.get(sup2, f"/v1/scf/certificates/{parts[0]['id']}").status_code == 404
    assert api.get(sup2, f"/v1/scf/payables/{first['payable']}").status_code == 404
    assert api.post(sup2, path, body).status_code == 403  # no scf:write


def test_a_purchase_order_is_advanced_and_the_funder_repaid_first(api: Api) -> None:
    a, p = api.a, _chain(api)
    body = {"buyer": p["core"], "supplier": p["sup1"], "po_ref": "PO-1", "amount": 200_000,
            "currency": "EUR", "due_on": str(_today(api) + timedelta(days=45))}  # fmt: skip
    order = api.ok(api.post(a, "/v1/scf/purchase_orders", body), 201)
    assert (order["status"], order["advance"]) == ("confirmed", None)
    path = f"/v1/scf/purchase_orders/{order['id']}"
    terms = {"funder": p["bank"], "advance_bp": 7_000, "fee_bp": 200}
    advanced = api.ok(api.post(a, f"{path}/advance", terms))
    assert (advanced["advance"]["advance"], advanced["advance"]["fee"]) == (140_000, 2_800)
    for bad, code in (({"funder": p["bank"], "advance_bp": 9_001, "fee_bp": 0}, 422),
                      (terms, 409)):  # fmt: skip
        assert api.post(a, f"{path}/advance", bad).status_code == code
    assert api.ok(api.post(a, f"{path}/receipt"))["status"] == "received"
    paid = api.ok(api.post(a, f"{path}/payment"))
    assert (paid["status"], paid["advance"]["repaid"]) == ("paid", True)
    again = api.post(a, f"{path}/payment")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_state_transition")
    supplier = api.key(a, Role.MERCHANT, p["sup1"])
    assert [o["id"] for o in api.ok(api.get(supplier, "/v1/scf/purchase_orders"))["data"]] == [
        order["id"]]  # fmt: skip
    outsider = api.key(a, Role.MERCHANT, p["sup2"])
    assert api.get(outsider, path).status_code == 404
