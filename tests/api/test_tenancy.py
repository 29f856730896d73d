"""Tenants, roles and keys: another tenant's ids are 404 on every route; scopes hold."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from embedfin.api.auth import Role
from embedfin.core.money import Money
from embedfin.db.tables import api_keys
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.transparency import checkpoints
from tests.api.conftest import Api, Tenant


def _first_delivery(api: Api, a: Tenant, endpoint: str, timeout_s: float = 15.0) -> str:
    """The endpoint's first delivery, once the fan-out has read the events (on PostgreSQL an
    event is readable only when older transactions of its database have ended)."""
    deadline = time.monotonic() + timeout_s
    while True:
        api.platform.webhooks.dispatch()
        page = api.ok(api.get(a, f"/v1/webhook_endpoints/{endpoint}/deliveries"))["data"]
        if page or time.monotonic() > deadline:
            return str(page[0]["id"])
        time.sleep(0.05)


def _tenant_a_objects(api: Api) -> dict[str, str]:
    """One object of each kind in tenant A, keyed by the path parameter that names it."""
    a = api.a
    merchant = api.merchant(a)
    buyer = api.customer(a, funds=50_000)
    order = api.checkout(a, buyer, merchant)
    quote = api.ok(
        api.post(
            a,
            "/v1/fx_quotes",
            {"customer": buyer, "sell_amount": 100, "sell_currency": "EUR", "buy_currency": "USD"},
        ),
        201,
    )["id"]
    endpoint = api.ok(
        api.post(
            a,
            "/v1/webhook_endpoints",
            {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]},
        ),
        201,
    )["id"]
    delivery = _first_delivery(api, a, endpoint)
    key = api.ok(api.post(a, "/v1/api_keys", {"role": "regulator", "name": "auditor"}), 201)["id"]
    statement = "reference,amount,currency,value_date\nnope,1.00,EUR,2026-11-28\n"
    api.ok(
        api.post(
            a,
            "/v1/reconciliations",
            {"channel": "card-acquirer", "format": "csv", "content": statement},
        ),
        201,
    )
    brk = api.ok(api.get(a, "/v1/reconciliation_breaks"))["data"][0]["id"]
    event = api.ok(api.get(a, "/v1/events", limit=1))["data"][0]["id"]
    api.ok(api.post(a, "/v1/funder_deposits", {"amount": 1_000_000, "currency": "EUR"}), 201)
    line = api.ok(
        api.post(a, "/v1/credit_lines", {"customer": buyer, "limit": 20_000, "currency": "EUR"}),
        201,
    )
    card_order = api.ok(
        api.post(
            a,
            "/v1/orders",
            {
                "customer": buyer,
                "merchant": merchant,
                "currency": "EUR",
                "lines": [{"sku": "x", "quantity": 1, "unit_price": 1_000}],
            },
        ),
        201,
    )
    loan = api.ok(
        api.post(
            a, f"/v1/orders/{card_order['id']}/pay_with_card", {"card_token": line["card_token"]}
        ),
        201,
    )["id"]
    risk = _risk_objects(api, merchant)
    report = _report(api)
    return {
        **risk,
        "report_id": report,
        "buyer_id": buyer,
        "merchant_id": merchant,
        "customer_id": buyer,
        # every buyer is a screened party from sign-up (compliance/aml)
        "party_kind": "buyer",
        "party_id": buyer,
        "order_id": order,
        "quote_id": quote,
        "endpoint_id": endpoint,
        "delivery_id": delivery,
        "key_id": key,
        "break_id": brk,
        "event_id": event,
        "loan_id": loan,
        "line_id": line["id"],
        # a log's id is a name within the tenant; B has no log of that name
        "log_id": _log(api),
        **_certificates(api, merchant),
        **_fund(api, buyer),
        # the public routes name a log by its origin: A's log has no witness, so it is private
        "origin": api.ok(api.get(api.a, "/v1/logs/tenancy-a"))["origin"],
        # training one needs 200 labelled decisions: the model routes are walked with an id
        # no tenant has (tests/risk/test_monitoring.py trains and promotes on its own)
        "model_id": "fm_0123456789abcdef",
    }


def _certificates(api: Api, core: str) -> dict[str, str]:
    a = api.a
    rates = {"discount_rate": "0.04", "overdue_rate": "0.1"}
    api.ok(api.post(a, "/v1/scf/parties", {"id": core, "role": "core", "name": "C"} | rates), 201)
    api.ok(api.post(a, "/v1/scf/parties", {"id": "sup-a", "role": "supplier", "name": "S"}), 201)
    body = {"core": core, "supplier": "sup-a", "payable_ref": "INV-A", "amount": 1_000,
            "currency": "EUR", "matures_on": "2027-06-01"}  # fmt: skip
    first = api.ok(api.post(a, "/v1/scf/certificates", body), 201)
    order = {"buyer": core, "supplier": "sup-a", "po_ref": "PO-A", "amount": 1_000,
             "currency": "EUR", "due_on": "2027-03-01"}  # fmt: skip
    po = api.ok(api.post(a, "/v1/scf/purchase_orders", order), 201)
    api.ok(
        api.post(a, "/v1/scf/parties", {"id": "dist-a", "role": "distributor", "name": "D"}), 201
    )
    api.ok(api.post(a, "/v1/scf/parties", {"id": "bank-a", "role": "funder", "name": "B"}), 201)
    facility = {"distributor": "dist-a", "funder": "bank-a", "currency": "EUR", "advance_bp": 5000}
    stock = api.ok(api.post(a, "/v1/scf/inventory_facilities", facility), 201)
    lines = {"lines": [{"sku": "a", "quantity": 10, "unit_price": 100}]}
    doc = api.ok(api.post(a, f"/v1/scf/purchase_orders/{po['id']}/lines", lines), 201)
    return {"certificate_id": first["id"], "payable_id": first["payable"], "po_id": po["id"],
            "facility_id": stock["id"], "doc_id": doc["id"]}  # fmt: skip


def _fund(api: Api, buyer: str) -> dict[str, str]:
    """A fund of tenant A with a holder, a redemption and an asset."""
    a = api.a
    fund = {"id": "mmf-a", "name": "A's fund", "currency": "EUR", "fast_cap": 10_000}
    api.ok(api.post(a, "/v1/fundpool/funds", fund), 201)
    settle_channel(api.platform.ledger, a.id, "card-acquirer", Money(20_000, "EUR"),
                   Money(0, "EUR"), "tenancy-fund-settle")  # fmt: skip
    path = "/v1/fundpool/funds/mmf-a"
    sub = {"customer": buyer, "amount": 10_000, "currency": "EUR"}
    api.ok(api.post(a, f"{path}/subscriptions", sub), 201)
    redemption = api.ok(api.post(a, f"{path}/redemptions", sub | {"amount": 100}), 201)
    asset = {"kind": "short_bond", "cost": 1_000, "interest": 1, "currency": "EUR",
             "matures_on": "2027-01-05"}  # fmt: skip
    bought = api.ok(api.post(a, f"{path}/assets", asset), 201)
    return {"fund_id": "mmf-a", "redemption_id": redemption["id"], "asset_id": bought["id"]}


def _log(api: Api) -> str:
    api.ok(api.post(api.a, "/v1/logs/tenancy-a/entries", {"entries": ["a's own"]}), 201)
    api.ok(api.get(api.a, "/v1/logs/tenancy-a/checkpoint"))
    return "tenancy-a"


def _report(api: Api) -> str:
    """A large-value report of tenant A: its pack's line is low enough for the buyers' top-ups."""
    pack = {"id": "low", "title": "low", "report": "large_value", "timezone": "UTC",
            "calendar": "DE", "deadline_working_days": 5,
            "rules": [{"id": "eur", "currency": "EUR", "at_least": "50"}]}  # fmt: skip
    headers = api.a.headers | {"Idempotency-Key": "tenancy-pack"}
    assert api.client.put("/v1/aml/rulepack", json={"pack": pack}, headers=headers).is_success
    api.platform.consumers.run_all()
    return str(api.ok(api.get(api.a, "/v1/aml/reports"))["data"][0]["id"])


def _risk_objects(api: Api, merchant: str) -> dict[str, str]:
    """A held order's case and decision, a challenge, and a rule only tenant A has."""
    a = api.a
    farm = {"device_id": "farm-tablet"}
    for _ in range(4):
        body = {
            "customer": api.customer(a, funds=10_000),
            "merchant": merchant,
            "currency": "EUR",
            "lines": [{"sku": "x", "quantity": 1, "unit_price": 100}],
            "risk_context": farm,
        }
        api.ok(api.post(a, "/v1/checkouts", body), 201)
    case = api.ok(api.get(a, "/v1/risk/cases"))["data"][0]
    busy = api.customer(a, funds=10_000)
    for _ in range(11):
        answer = api.post(
            a,
            "/v1/checkouts",
            {
                "customer": busy,
                "merchant": merchant,
                "currency": "EUR",
                "lines": [{"sku": "x", "quantity": 1, "unit_price": 100}],
            },
        )
    challenge = answer.json()["challenge_id"]
    rule = {
        "id": "tenant-a-only",
        "version": 1,
        "owner": "risk-operations",
        "reason_code": "tenant_a_only",
        "description": "a rule tenant B does not have",
        "action": "review",
        "expression": "amount_minor > 999999",
    }
    api.ok(api.post(a, "/v1/risk/rules", rule))
    return {
        "case_id": case["id"],
        "decision_id": case["decision"],
        "challenge_id": challenge,
        "rule_id": "tenant-a-only",
    }


WITNESS_KEY = Ed25519PrivateKey.generate()

#: A valid body for each POST route with a path parameter (validation runs before the handler).
BODIES: dict[str, dict[str, Any]] = {
    "/v1/merchants/{merchant_id}/bank_account": {
        "bank_token": "tok_abcdefgh12",
        "bank_last4": "1234",
    },
    "/v1/customers/{customer_id}/top_ups": {"amount": 100, "currency": "EUR"},
    "/v1/customers/{customer_id}/withdrawals": {
        "amount": 100,
        "currency": "EUR",
        "bank_token": "tok_abcdefgh12",
        "bank_last4": "1234",
    },
    "/v1/orders/{order_id}/pay": {"method": "wallet"},
    "/v1/orders/{order_id}/ship": {"tracking": "T-1"},
    "/v1/orders/{order_id}/fx_quote": {"currency": "USD"},
    "/v1/orders/{order_id}/confirm": {},
    "/v1/orders/{order_id}/cancel": {},
    "/v1/orders/{order_id}/refunds": {"amount": 100, "currency": "EUR"},
    "/v1/orders/{order_id}/extend": {"days": 3},
    "/v1/orders/{order_id}/disputes": {"reason": "late"},
    "/v1/orders/{order_id}/disputes/resolve": {"outcome": "release"},
    "/v1/fx_quotes/{quote_id}/convert": {},
    "/v1/api_keys/{key_id}/revoke": {},
    "/v1/webhook_endpoints/{endpoint_id}/rotate_secret": {},
    "/v1/webhook_endpoints/{endpoint_id}/disable": {},
    "/v1/webhook_endpoints/{endpoint_id}/enable": {},
    "/v1/webhook_deliveries/{delivery_id}/replay": {},
    "/v1/reconciliation_breaks/{break_id}/resolve": {"note": "checked"},
    "/v1/orders/{order_id}/finance": {"decision": "dec_x", "plan": "months_6"},
    "/v1/orders/{order_id}/delivered": {},
    "/v1/orders/{order_id}/returns": {"reason": "broken"},
    "/v1/orders/{order_id}/returns/receive": {},
    "/v1/orders/{order_id}/returns/reject": {},
    "/v1/orders/{order_id}/reviews": {"rating": 5},
    "/v1/orders/{order_id}/pay_with_card": {"card_token": "vc_abcdefghijkl"},
    "/v1/loans/{loan_id}/repayments": {"amount": 100, "currency": "EUR"},
    "/v1/credit_lines/{line_id}/freeze": {},
    "/v1/credit_lines/{line_id}/unfreeze": {},
    "/v1/credit_lines/{line_id}/limit": {"limit": 100, "currency": "EUR", "reason": "r"},
    "/v1/risk/challenges/{challenge_id}/answers": {"code": "123456"},
    "/v1/risk/cases/{case_id}/assignment": {"assignee": "analyst"},
    "/v1/risk/cases/{case_id}/notes": {"text": "looked"},
    "/v1/risk/cases/{case_id}/decision": {"outcome": "release", "reason": "ok"},
    "/v1/risk/rules/{rule_id}/promotion": {},
    "/v1/risk/models/{model_id}/promotion": {},
    "/v1/risk/merchants/{merchant_id}/reserve": {
        "reserve_bp": 500,
        "hold_days": 30,
        "reason": "not mine",
    },
    "/v1/aml/reports/{report_id}/file": {"narrative": "not mine"},
    "/v1/aml/reports/{report_id}/corrections": {"narrative": "not mine", "reason": "x"},
    "/v1/scf/certificates/{certificate_id}/split": {"holder": "sup-a", "parts": [1, 999]},
    "/v1/scf/certificates/{certificate_id}/transfer": {"holder": "sup-a", "to": "sup-b"},
    "/v1/scf/certificates/{certificate_id}/discount": {"holder": "sup-a", "funder": "bank"},
    "/v1/scf/payables/{payable_id}/settle": {},
    "/v1/scf/purchase_orders/{po_id}/receipt": {},
    "/v1/scf/purchase_orders/{po_id}/advance": {"funder": "bank", "advance_bp": 5000, "fee_bp": 0},
    "/v1/scf/purchase_orders/{po_id}/payment": {},
    "/v1/scf/inventory_facilities/{facility_id}/stock_reports": {"lines": []},
    "/v1/scf/purchase_orders/{po_id}/lines": {
        "lines": [{"sku": "a", "quantity": 1, "unit_price": 1}]
    },
    "/v1/scf/purchase_orders/{po_id}/goods_receipts": {"lines": [{"sku": "a", "quantity": 1}]},
    "/v1/scf/purchase_orders/{po_id}/invoices": {
        "invoice_ref": "X",
        "lines": [{"sku": "a", "quantity": 1, "unit_price": 1}],
    },
    "/v1/scf/documents/{doc_id}/certificate": {"matures_on": "2027-06-01"},
    "/v1/scf/inventory_facilities/{facility_id}/draws": {"amount": 1, "currency": "EUR"},
    "/v1/scf/inventory_facilities/{facility_id}/repayments": {"amount": 1, "currency": "EUR"},
    "/v1/fundpool/funds/{fund_id}/facility": {"amount": 100, "currency": "EUR"},
    "/v1/fundpool/funds/{fund_id}/subscriptions": {"customer": "c", "amount": 1, "currency": "EUR"},
    "/v1/fundpool/funds/{fund_id}/redemptions": {"customer": "c", "amount": 1, "currency": "EUR"},
    "/v1/fundpool/funds/{fund_id}/order_payments": {"order": "{order_id}"},
    "/v1/fundpool/funds/{fund_id}/settlement": {},
    "/v1/fundpool/funds/{fund_id}/accruals": {},
    "/v1/fundpool/funds/{fund_id}/assets": {
        "kind": "short_bond",
        "cost": 1,
        "interest": 0,
        "currency": "EUR",
        "matures_on": "2027-01-05",
    },
    "/v1/fundpool/assets/{asset_id}/maturity": {},
    "/v1/logs/{log_id}/cosignatures": {"note": "x\n1\nAAAA\n\n\u2014 w AAAAAAAA\n"},
    "/v1/logs/{log_id}/witnesses": {"vkey": str(checkpoints.verifier_of("w", WITNESS_KEY))},
    "/v1/logs/{log_id}/witnesses/remove": {"name": "w"},
    "/v1/aml/merchants/{merchant_id}/kyb": {
        "legal_name": "Not Mine GmbH",
        "registration_number": "HRB 1",
        "country": "DE",
    },
}

APPEND = "/v1/logs/{log_id}/entries"
#: Path numbers (a log's entry index, a tree size): not ids, so not looked for in answers.
NUMBERS = {"index": "0", "size": "1"}

#: Query parameters a GET route needs.
QUERIES: dict[str, dict[str, str]] = {
    "/v1/customers/{customer_id}/balance": {"currency": "EUR"},
    "/v1/logs/{log_id}/proofs/inclusion": {"index": "0"},
    "/v1/logs/{log_id}/proofs/consistency": {"first": "1"},
    "/v1/public/logs/checkpoints/{size}": {"origin": "{origin}"},
}
#: The public routes without a path parameter, walked too: a private log is 404 there.
PUBLIC_READS: dict[str, dict[str, str]] = {
    "/v1/public/logs/checkpoint": {"origin": "{origin}"},
    "/v1/public/logs/proofs/inclusion": {"origin": "{origin}", "index": "0"},
    "/v1/public/logs/proofs/consistency": {"origin": "{origin}", "first": "1"},
}


def _routes(api: Api) -> list[str]:
    return list(api.client.get("/openapi.json").json()["paths"])


def _routes_with_ids(api: Api) -> list[tuple[str, str]]:
    spec = api.client.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if "{" in path
        for method in operations
    ]


def test_every_route_answers_404_to_another_tenants_ids(api: Api) -> None:
    ids = _tenant_a_objects(api)
    routes = _routes_with_ids(api)
    assert len(routes) >= 25
    snapshot = api.ok(api.get(api.a, f"/v1/orders/{ids['order_id']}"))
    for method, template in routes:
        if template == APPEND:
            continue  # appending to "a log of that name" makes B's own: checked below
        path = re.sub(r"\{(\w+)\}", lambda m: (ids | NUMBERS)[m.group(1)], template)
        if method == "POST":
            assert template in BODIES, f"add a body for {template}"
            body = {k: v.format(**ids) if isinstance(v, str) and "{" in v else v
                    for k, v in BODIES[template].items()}  # fmt: skip
            response = api.post(api.b, path, body)
        else:
            params = {k: v.format(**ids) for k, v in QUERIES.get(template, {}).items()}
            response = api.client.get(path, params=params, headers=api.b.headers)
        assert response.status_code == 404, (method, template, response.text)
        problem = response.json()
        assert problem["code"] == "not_found"
        for value in ids.values():  # nothing about A's object leaks beyond the id we sent
            if value not in path:
                assert value not in response.text
    public = [p for p in _routes(api) if p.startswith("/v1/public/") and "{" not in p]
    assert set(public) == {*PUBLIC_READS, "/v1/public/logs/cosignatures"}, "walk the new route"
    for template, query in PUBLIC_READS.items():
        params = {k: v.format(**ids) for k, v in query.items()}
        for headers in (api.b.headers, {}):  # another tenant's key, or none at all
            response = api.client.get(template, params=params, headers=headers)
            assert (response.status_code, response.json()["code"]) == (404, "not_found"), template
            assert ids["origin"] not in response.text
    assert api.ok(api.get(api.a, f"/v1/orders/{ids['order_id']}")) == snapshot
    theirs = api.ok(api.post(api.b, "/v1/logs/tenancy-a/entries", {"entries": ["b's"]}), 201)
    assert theirs["size"] == 1
    assert api.ok(api.get(api.a, "/v1/logs/tenancy-a/entries/0"))["body"] == "a's own"
    assert api.ok(api.get(api.a, "/v1/logs/tenancy-a"))["size"] == 1
    # and B's lists show none of A's objects
    for listing in ("/v1/orders", "/v1/merchants", "/v1/customers", "/v1/events", "/v1/api_keys"):
        page = api.ok(api.get(api.b, listing, limit=100))
        assert not {o.get("id") for o in page["data"]} & set(ids.values()), listing


def test_a_merchant_key_sees_and_moves_only_its_own_orders(api: Api) -> None:
    a = api.a
    mine, theirs = api.merchant(a), api.merchant(a)
    buyer = api.customer(a, funds=50_000)
    my_order = api.checkout(a, buyer, mine)
    their_order = api.checkout(a, buyer, theirs)
    me = api.key(a, Role.MERCHANT, mine)
    assert [o["id"] for o in api.ok(api.get(me, "/v1/orders"))["data"]] == [my_order]
    assert api.get(me, f"/v1/orders/{their_order}").status_code == 404
    assert api.post(me, f"/v1/orders/{their_order}/ship", {"tracking": "x"}).status_code == 404
    assert api.get(me, f"/v1/merchants/{theirs}").status_code == 404
    assert api.ok(api.post(me, f"/v1/orders/{my_order}/ship", {"tracking": "x"}))["status"] == (
        "shipped"
    )
    # scopes: a merchant may not place orders, see buyers, move wallets or mint keys
    assert api.post(me, "/v1/merchants", {}).status_code in (403, 422)
    denied = api.post(
        me,
        "/v1/orders",
        {
            "customer": buyer,
            "merchant": mine,
            "currency": "EUR",
            "lines": [{"sku": "a", "quantity": 1, "unit_price": 1}],
        },
    )
    assert (denied.status_code, denied.json()["code"]) == (403, "forbidden")
    assert api.get(me, f"/v1/customers/{buyer}").status_code == 403
    assert api.post(me, "/v1/api_keys", {"role": "operator", "name": "x"}).status_code == 403


def test_regulator_reads_but_cannot_write(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)
    regulator = api.key(a, Role.REGULATOR)
    assert api.ok(api.get(regulator, f"/v1/merchants/{merchant}"))["id"] == merchant
    assert api.ok(api.get(regulator, "/v1/audit_log"))["data"]
    for path, body in (
        ("/v1/merchants", {"category": "books", "country": "DE", "settlement_currency": "EUR"}),
        ("/v1/settlement_runs", {"kind": "payouts"}),
        ("/v1/webhook_endpoints", {"url": "http://x.test/h", "event_types": ["*"]}),
    ):
        response = api.post(regulator, path, body)
        assert (response.status_code, response.json()["code"]) == (403, "forbidden"), path
    risk = api.key(a, Role.RISK)
    assert api.get(risk, "/v1/audit_log").status_code == 403


def test_keys_are_hashed_shown_once_and_revocable(api: Api) -> None:
    a = api.a
    created = api.ok(api.post(a, "/v1/api_keys", {"role": "operator", "name": "ci"}), 201)
    secret = created["secret"]
    assert secret.startswith("efk_")
    with api.platform.ledger.reader() as conn:
        stored = [tuple(r) for r in conn.execute(select(api_keys)).all()]
    assert secret not in repr(stored)
    listed = api.ok(api.get(a, "/v1/api_keys", limit=100))["data"]
    assert all(k["secret"] is None for k in listed)
    new = Tenant(a.id, created["id"], secret)
    assert api.get(new, "/v1/ping").status_code == 200
    api.ok(api.post(a, f"/v1/api_keys/{created['id']}/revoke"))
    revoked = api.get(new, "/v1/ping")
    assert (revoked.status_code, revoked.json()["code"]) == (401, "unauthenticated")
    assert revoked.headers["www-authenticate"] == "Bearer"
    for bad in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = api.client.get("/v1/ping", headers=bad)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
    audit = [e["action"] for e in api.ok(api.get(a, "/v1/audit_log", limit=100))["data"]]
    assert audit[:2] == ["api_key.revoke", "api_key.create"]


def test_bodies_naming_another_tenants_objects_are_not_found(api: Api) -> None:
    a, b = api.a, api.b
    merchant = api.merchant(a)
    buyer = api.customer(a, funds=10_000)
    order = {
        "customer": buyer,
        "merchant": merchant,
        "currency": "EUR",
        "lines": [{"sku": "x", "quantity": 1, "unit_price": 100}],
    }
    for path, body in (
        ("/v1/orders", order),
        ("/v1/checkouts", order),
        (
            "/v1/credit_decisions",
            {"customer": buyer, "amount": 1_000, "currency": "EUR", "category": "books"},
        ),
        ("/v1/credit_lines", {"customer": buyer, "limit": 1_000, "currency": "EUR"}),
        (
            "/v1/fx_quotes",
            {"customer": buyer, "sell_amount": 100, "sell_currency": "EUR", "buy_currency": "USD"},
        ),
    ):
        response = api.post(b, path, body)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path


def test_bad_credit_requests_are_refused_and_change_nothing(api: Api) -> None:
    a = api.a
    buyer = api.customer(a, funds=1_000)
    base = {"customer": buyer, "amount": 1_000, "currency": "EUR", "category": "books"}
    for body in (
        base | {"amount": -5},
        base | {"amount": 2**63},
        base | {"currency": "eur"},
        base | {"category": "Books!"},
    ):
        assert api.post(a, "/v1/credit_decisions", body).status_code == 422
    assert api.get(a, "/v1/loans/loan_nope").status_code == 404
    missing = api.post(a, "/v1/loans/loan_nope/repayments", {"amount": 1, "currency": "EUR"})
    assert missing.status_code == 404
    limit = api.post(
        a, "/v1/credit_lines/cl_nope/limit", {"limit": 1, "currency": "EUR", "reason": "x"}
    )
    assert limit.status_code == 404
    bad_card = api.post(a, "/v1/orders/ord_nope/pay_with_card", {"card_token": "4111111111111111"})
    assert bad_card.status_code == 422  # a card number is not a token


def _cosign_anonymously(api: Api, note: str) -> Any:
    """A witness's POST with no API key (an Idempotency-Key, as every POST sends)."""
    headers = {"Idempotency-Key": f"cosign-{uuid.uuid4()}"}
    return api.client.post("/v1/public/logs/cosignatures", json={"note": note}, headers=headers)


def test_a_witness_of_another_tenant_reads_a_public_log_and_cosigns_but_sees_no_entry(
    api: Api,
) -> None:
    a, b = api.a, api.b
    api.ok(api.post(a, "/v1/logs/shared/entries", {"entries": ["a's secret", "more"]}), 201)
    log = api.ok(api.get(a, "/v1/logs/shared"))
    head = api.ok(api.get(a, "/v1/logs/shared/checkpoint"))
    key = Ed25519PrivateKey.generate()
    note = checkpoints.add_signature(head["note"], "witness.b", key)
    early = _cosign_anonymously(api, note)
    assert early.status_code == 404  # not yet public: no witness registered
    vkey = str(checkpoints.verifier_of("witness.b", key))
    api.ok(api.post(a, "/v1/logs/shared/witnesses", {"vkey": vkey}), 201)
    origin = {"origin": log["origin"]}
    for headers in (b.headers, {}):  # tenant B's witness, or one on another instance
        seen = api.ok(api.client.get("/v1/public/logs/checkpoint", params=origin, headers=headers))
        assert seen["note"] == head["note"]
        proof = api.client.get("/v1/public/logs/proofs/inclusion", headers=headers,
                               params=origin | {"index": "1"})  # fmt: skip
        assert api.ok(proof)["size"] == 2
        consistent = api.client.get("/v1/public/logs/proofs/consistency", headers=headers,
                                    params=origin | {"first": "1"})  # fmt: skip
        assert api.ok(consistent)["second"] == 2
        assert "a's secret" not in seen["note"] + proof.text + consistent.text
    kept = api.ok(_cosign_anonymously(api, note))
    assert kept["witnesses"] == ["witness.b"]
    assert api.ok(_cosign_anonymously(api, note)) == kept
    assert api.ok(api.get(a, "/v1/logs/shared/checkpoint"))["note"] == note
    at = api.client.get("/v1/public/logs/checkpoints/2", params=origin)
    assert api.ok(at)["note"] == note
    # entry bodies stay behind audit:read of the owning tenant, by id, in its tenant only
    assert api.get(b, "/v1/logs/shared/entries/0").status_code == 404
    assert api.get(b, "/v1/logs/shared/checkpoint").status_code == 404
    assert api.ok(api.get(a, "/v1/logs/shared/entries/0"))["body"] == "a's secret"
    forged = checkpoints.add_signature(head["note"], "witness.b", Ed25519PrivateKey.generate())
    refused = _cosign_anonymously(api, forged)
    assert (refused.status_code, refused.json()["code"]) == (422, "witness_not_registered")
