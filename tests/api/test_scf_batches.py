"""``POST /v1/scf/batches`` on both stores: a certificate's life in one batch with references,
replays by Idempotency-Key and by item, a refused item's index with nothing written, the cap,
and another tenant's certificate refused as not found."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.conftest import Api
from tests.api.test_scf import _chain, _today


def _items(api: Api, p: dict[str, str]) -> list[dict[str, Any]]:
    due = str(_today(api) + timedelta(days=90))
    return [
        {"kind": "issue", "request_id": "iss-1", "core": p["core"], "supplier": p["sup1"],
         "payable_ref": "INV-1", "amount": 100_000, "currency": "EUR", "matures_on": due},
        {"kind": "split", "request_id": "sp-1", "certificate": "@iss-1/0", "holder": p["sup1"],
         "parts": [60_000, 40_000]},
        {"kind": "transfer", "request_id": "tr-1", "certificate": "@sp-1/0", "holder": p["sup1"],
         "to": p["sup2"]},
        {"kind": "discount", "request_id": "d-1", "certificate": "@sp-1/1", "holder": p["sup1"],
         "funder": p["bank"]},
    ]  # fmt: skip


def _log_size(api: Api) -> int:
    logs = api.ok(api.get(api.a, "/v1/logs"))["data"]
    return next((log["size"] for log in logs if log["id"] == "scf"), 0)


def test_a_batch_issues_splits_passes_on_and_discounts_in_one_request(api: Api) -> None:
    p = _chain(api)
    done = api.ok(api.post(api.a, "/v1/scf/batches", {"items": _items(api, p)}, key="b-1"), 201)
    kinds = [(d["request_id"], d["kind"], d["replayed"]) for d in done["data"]]
    assert kinds == [("iss-1", "issue", False), ("sp-1", "split", False),
                     ("tr-1", "transfer", False), ("d-1", "discount", False)]  # fmt: skip
    passed = done["data"][2]["certificates"][0]
    assert (passed["holder"], passed["tier"], passed["amount"]) == (p["sup2"], 2, 60_000)
    bought = done["data"][3]["certificates"][0]
    assert (bought["holder"], bought["price"]) == (p["bank"], 40_000 - 360)
    assert _log_size(api) == 4
    again = api.post(api.a, "/v1/scf/batches", {"items": _items(api, p)}, key="b-1")
    assert again.headers.get("Idempotent-Replayed") == "true"
    # the same items under another key are replayed item by item
    replayed = api.ok(api.post(api.a, "/v1/scf/batches", {"items": _items(api, p)}), 201)
    assert all(d["replayed"] for d in replayed["data"])
    assert [d["certificates"][0]["id"] for d in replayed["data"]] == [
        d["certificates"][0]["id"] for d in done["data"]
    ]
    assert _log_size(api) == 4


def test_a_refused_item_refuses_the_batch_with_its_index(api: Api) -> None:
    p = _chain(api)
    items = _items(api, p)
    items[2]["to"] = p["bank"]  # a funder is no supplier
    refused = api.post(api.a, "/v1/scf/batches", {"items": items})
    assert refused.status_code == 422
    problem = refused.json()
    assert (problem["code"], problem["index"], problem["item_code"]) == (
        "batch_item_refused", 2, "certificate_refused")  # fmt: skip
    assert _log_size(api) == 0
    assert api.ok(api.get(api.a, "/v1/scf/certificates"))["data"] == []


def test_more_items_than_the_cap_is_batch_too_large(api: Api) -> None:
    items = [{"kind": "settle", "request_id": f"st-{i}", "payable": "pay_x"} for i in range(1001)]
    refused = api.post(api.a, "/v1/scf/batches", {"items": items})
    assert (refused.status_code, refused.json()["code"]) == (422, "batch_too_large")


def test_another_tenants_certificate_in_a_batch_is_not_found(api: Api) -> None:
    p = _chain(api)
    first = api.ok(api.post(api.a, "/v1/scf/batches", {"items": _items(api, p)[:1]}), 201)
    theirs = first["data"][0]["certificates"][0]["id"]
    item = {"kind": "split", "request_id": "sp-9", "certificate": theirs, "holder": p["sup1"],
            "parts": [1, 99_999]}  # fmt: skip
    refused = api.post(api.b, "/v1/scf/batches", {"items": [item]})
    assert refused.status_code == 404
    assert (refused.json()["index"], refused.json()["item_code"]) == (0, "not_found")
