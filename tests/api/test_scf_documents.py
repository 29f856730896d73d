"""Purchase-order documents over the API, on both stores: lines, a goods receipt, an invoice
matched and one with exceptions, the matched one certified; bad bodies refused; merchants see
only their own orders' documents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from embedfin.api.auth import Role
from tests.api.conftest import Api
from tests.api.test_scf import _chain, _today


def test_an_invoice_is_matched_against_order_and_receipt_and_certified(api: Api) -> None:
    a, p = api.a, _chain(api)
    body = {"buyer": p["core"], "supplier": p["sup1"], "po_ref": "PO-7", "amount": 100_000,
            "currency": "EUR", "due_on": str(_today(api) + timedelta(days=45))}  # fmt: skip
    order = api.ok(api.post(a, "/v1/scf/purchase_orders", body), 201)
    path = f"/v1/scf/purchase_orders/{order['id']}"
    lines = {"lines": [{"sku": "bolt", "quantity": 1_000, "unit_price": 100}], "tolerance_bp": 50}
    stated = api.ok(api.post(a, f"{path}/lines", lines), 201)
    assert (stated["kind"], stated["amount"]) == ("lines", 100_000)
    receipt = api.ok(api.post(a, f"{path}/goods_receipts",
                              {"lines": [{"sku": "bolt", "quantity": 800}]}), 201)  # fmt: skip
    assert receipt["amount"] == 80_000
    over = {"invoice_ref": "INV-A", "lines": [{"sku": "bolt", "quantity": 900, "unit_price": 100}]}
    refused = api.ok(api.post(a, f"{path}/invoices", over), 201)
    assert (refused["status"], refused["exceptions"]) == ("exception", ["over_received:bolt"])
    denied = api.post(a, f"/v1/scf/documents/{refused['id']}/certificate",
                      {"matures_on": str(_today(api) + timedelta(days=90))})  # fmt: skip
    assert (denied.status_code, denied.json()["code"]) == (409, "invalid_state_transition")
    fine = {"invoice_ref": "INV-B", "lines": [{"sku": "bolt", "quantity": 800, "unit_price": 100}]}
    matched = api.ok(api.post(a, f"{path}/invoices", fine), 201)
    assert matched["status"] == "matched"
    made = api.ok(api.post(a, f"/v1/scf/documents/{matched['id']}/certificate",
                           {"matures_on": str(_today(api) + timedelta(days=90))}), 201)  # fmt: skip
    assert (made["holder"], made["amount"], made["tier"]) == (p["sup1"], 80_000, 1)
    docs = api.ok(api.get(a, f"{path}/documents"))["data"]
    assert [(d["kind"], d["status"]) for d in docs][:2] == [
        ("lines", "recorded"), ("receipt", "recorded")]  # fmt: skip
    assert sorted(d["status"] for d in docs[2:]) == ["certified", "exception"]  # same instant
    supplier = api.key(a, Role.MERCHANT, p["sup1"])
    assert api.ok(api.get(supplier, f"/v1/scf/documents/{matched['id']}"))["payable"] == made[
        "payable"]  # fmt: skip
    outsider = api.key(a, Role.MERCHANT, p["sup2"])
    assert api.get(outsider, f"/v1/scf/documents/{matched['id']}").status_code == 404
    assert api.get(outsider, f"{path}/documents").status_code == 404


def test_bad_document_bodies_are_refused(api: Api) -> None:
    a, p = api.a, _chain(api)
    body = {"buyer": p["core"], "supplier": p["sup1"], "po_ref": "PO-8", "amount": 1_000,
            "currency": "EUR", "due_on": str(_today(api) + timedelta(days=45))}  # fmt: skip
    path = (
        f"/v1/scf/purchase_orders/{api.ok(api.post(a, '/v1/scf/purchase_orders', body), 201)['id']}"
    )
    line = {"sku": "a", "quantity": 10, "unit_price": 100}
    bad: list[tuple[str, dict[str, Any], int, str]] = [
        (f"{path}/goods_receipts", {"lines": [{"sku": "a", "quantity": 1}]}, 409,
         "invalid_state_transition"),  # no lines yet
        (f"{path}/lines", {"lines": [line | {"quantity": 9}]}, 422, "invalid_input"),  # ≠ amount
        (f"{path}/lines", {"lines": []}, 422, "invalid_request"),
        (f"{path}/lines", {"lines": [line | {"unit_price": 0}]}, 422, "invalid_request"),
        (f"{path}/lines", {"lines": [line], "tolerance_bp": 1_001}, 422, "invalid_request"),
        (f"{path}/lines", {"lines": [line | {"quantity": "10"}]}, 422, "invalid_request"),
        ("/v1/scf/purchase_orders/po_nope/lines", {"lines": [line]}, 404, "not_found"),
        ("/v1/scf/documents/doc_nope/certificate", {"matures_on": "2027-01-01"}, 404,
         "not_found"),
    ]  # fmt: skip
    for target, sent, status, code in bad:
        response = api.post(a, target, sent)
        assert (response.status_code, response.json()["code"]) == (status, code), (target, sent)
    assert api.ok(api.get(a, f"{path}/documents"))["data"] == []
