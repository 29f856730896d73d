"""Idempotency-Key: replay, parameter mismatch, concurrent duplicates, one transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from embedfin.api.platform import Platform
from embedfin.core.clock import NS_PER_SECOND
from tests.api.conftest import Api


def _balance(api: Api, customer: str) -> int:
    body = api.ok(api.get(api.a, f"/v1/customers/{customer}/balance", currency="EUR"))
    return int(body["available"])


def test_a_retry_replays_the_first_response(api: Api) -> None:
    buyer = api.customer(api.a)
    path = f"/v1/customers/{buyer}/top_ups"
    first = api.post(api.a, path, {"amount": 700, "currency": "EUR"}, key="top-up-1")
    again = api.post(api.a, path, {"amount": 700, "currency": "EUR"}, key="top-up-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _balance(api, buyer) == 700
    other = api.post(api.a, path, {"amount": 701, "currency": "EUR"}, key="top-up-1")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert _balance(api, buyer) == 700


def test_a_replayed_refusal_names_the_request_path_as_its_instance(api: Api) -> None:
    buyer = api.customer(api.a)
    path = f"/v1/customers/{buyer}/withdrawals"
    body = {"amount": 500, "currency": "EUR", "bank_token": "tok_abcdefgh12", "bank_last4": "1234"}
    first = api.post(api.a, path, body, key="broke")
    again = api.post(api.a, path, body, key="broke")
    assert first.status_code == again.status_code == 402
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json()["instance"] == again.json()["instance"] == path


def test_the_same_key_on_another_path_is_another_request(api: Api) -> None:
    buyer, other = api.customer(api.a), api.customer(api.a)
    body = {"amount": 700, "currency": "EUR"}
    api.ok(api.post(api.a, f"/v1/customers/{buyer}/top_ups", body, key="k"), 201)
    reused = api.post(api.a, f"/v1/customers/{other}/top_ups", body, key="k")
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert _balance(api, other) == 0


def test_keys_belong_to_the_api_key_that_sent_them(api: Api) -> None:
    body = {"category": "books", "country": "DE", "settlement_currency": "EUR"}
    a = api.ok(api.post(api.a, "/v1/merchants", body, key="same"), 201)
    b = api.ok(api.post(api.b, "/v1/merchants", body, key="same"), 201)
    assert a["id"] != b["id"]


def test_a_checkout_retried_creates_one_order(api: Api) -> None:
    merchant = api.merchant(api.a)
    buyer = api.customer(api.a, funds=10_000)
    body = {
        "customer": buyer,
        "merchant": merchant,
        "currency": "EUR",
        "lines": [{"sku": "a", "quantity": 1, "unit_price": 1_000}],
    }
    for method in ("wallet", "channel"):
        responses = [
            api.post(api.a, "/v1/checkouts", body | {"payment_method": method}, key=method)
            for _ in range(3)
        ]
        assert len({r.json()["id"] for r in responses}) == 1
    orders = api.ok(api.get(api.a, "/v1/orders", limit=100))["data"]
    assert len(orders) == 2
    assert _balance(api, buyer) == 9_000


def test_a_refusal_is_replayed_too(api: Api) -> None:
    buyer = api.customer(api.a)
    body = {
        "amount": 500,
        "currency": "EUR",
        "bank_token": "tok_abcdefgh12",
        "bank_last4": "1234",
    }
    path = f"/v1/customers/{buyer}/withdrawals"
    first = api.post(api.a, path, body, key="w-1")
    assert first.status_code == 402
    api.ok(
        api.post(api.a, f"/v1/customers/{buyer}/top_ups", {"amount": 900, "currency": "EUR"}), 201
    )
    settled = {  # the channel pays the top-up into the client reserve
        "kind": "channel_settlement",
        "channel": "card-acquirer",
        "amount": 900,
        "fee": 0,
        "currency": "EUR",
    }
    api.ok(api.post(api.a, "/v1/settlement_runs", settled), 201)
    again = api.post(api.a, path, body, key="w-1")
    assert (again.status_code, again.json()) == (402, first.json())
    assert again.headers["content-type"] == "application/problem+json"
    ok = api.post(api.a, path, body, key="w-2")
    assert ok.status_code == 201, ok.text


def test_a_duplicate_in_flight_gets_409(api: Api) -> None:
    buyer = api.customer(api.a)
    api.platform._inflight.add((api.a.key_id, "busy"))
    response = api.post(
        api.a, f"/v1/customers/{buyer}/top_ups", {"amount": 5, "currency": "EUR"}, key="busy"
    )
    assert (response.status_code, response.json()["code"]) == (409, "idempotency_in_flight")
    assert _balance(api, buyer) == 0


def test_concurrent_duplicates_apply_once(api: Api) -> None:
    buyer = api.customer(api.a)
    path = f"/v1/customers/{buyer}/top_ups"

    def send(_: int) -> int:
        response = api.post(api.a, path, {"amount": 300, "currency": "EUR"}, key="race")
        return int(response.status_code)

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, range(16)))
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    assert _balance(api, buyer) == 300


def test_the_response_is_stored_in_the_effects_transaction(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    buyer = api.customer(api.a)

    def fail(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Platform, "_store", fail)
    response = api.post(
        api.a, f"/v1/customers/{buyer}/top_ups", {"amount": 400, "currency": "EUR"}, key="k"
    )
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "disk full" not in response.text
    monkeypatch.undo()
    assert _balance(api, buyer) == 0  # the top-up rolled back with the failed store
    retried = api.post(
        api.a, f"/v1/customers/{buyer}/top_ups", {"amount": 400, "currency": "EUR"}, key="k"
    )
    assert retried.status_code == 201
    assert _balance(api, buyer) == 400


def test_stored_responses_are_kept_a_day_then_purged(api: Api) -> None:
    buyer = api.customer(api.a)
    path = f"/v1/customers/{buyer}/top_ups"
    api.ok(api.post(api.a, path, {"amount": 1, "currency": "EUR"}, key="old"), 201)
    api.clock.advance(ns=25 * 3600 * NS_PER_SECOND)
    assert api.platform.purge_idempotency_keys() == 0
    replay = api.post(api.a, path, {"amount": 1, "currency": "EUR"}, key="old")
    assert replay.headers["idempotent-replayed"] == "true"
    api.clock.advance(ns=24 * 3600 * NS_PER_SECOND)
    assert api.platform.purge_idempotency_keys() >= 1


def test_malformed_keys_are_refused(api: Api) -> None:
    buyer = api.customer(api.a)
    response = api.post(
        api.a, f"/v1/customers/{buyer}/top_ups", {"amount": 1, "currency": "EUR"}, key="x" * 256
    )
    assert response.status_code == 422
    assert _balance(api, buyer) == 0
