"""Webhooks: signatures (round trip, tampering, tolerance, rotation) and real deliveries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.api.webhooks import backoff_s
from embedfin.client import SignatureError, verify_webhook
from embedfin.client.signing import HEADER, header_value
from tests.api.conftest import Api

SECRET = "whsec_test"


@given(st.binary(max_size=2_000), st.integers(0, 2**40))
def test_signature_round_trip(body: bytes, stamp: int) -> None:
    header = header_value([SECRET], stamp, body)
    assert verify_webhook(body, header, SECRET, now=stamp) == stamp


@given(st.binary(min_size=1, max_size=500), st.integers(0, 499))
def test_any_tampering_fails(body: bytes, position: int) -> None:
    header = header_value([SECRET], 1_000, body)
    index = position % len(body)
    tampered = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
    with pytest.raises(SignatureError):
        verify_webhook(tampered, header, SECRET, now=1_000)


def test_timestamps_outside_the_tolerance_and_foreign_secrets_fail() -> None:
    body = b'{"id":"evt_1"}'
    header = header_value([SECRET], 1_000, body)
    assert verify_webhook(body, header, SECRET, now=1_300) == 1_000
    with pytest.raises(SignatureError, match="tolerance"):
        verify_webhook(body, header, SECRET, now=1_301)
    with pytest.raises(SignatureError, match="tolerance"):
        verify_webhook(body, header, SECRET, now=699)
    with pytest.raises(SignatureError, match="no signature"):
        verify_webhook(body, header, "whsec_other", now=1_000)
    forged = header.replace("t=1000", "t=1200")  # moving the timestamp breaks the MAC
    with pytest.raises(SignatureError):
        verify_webhook(body, forged, SECRET, now=1_200)
    for bad in ("", "t=abc,v1=00", "v1=00", "t=1000"):
        with pytest.raises(SignatureError):
            verify_webhook(body, bad, SECRET, now=1_000)


def test_during_rotation_both_secrets_verify() -> None:
    body = b"{}"
    header = header_value(["whsec_new", "whsec_old"], 5, body)
    assert header.count("v1=") == 2
    assert verify_webhook(body, header, "whsec_old", now=5) == 5
    assert verify_webhook(body, header, ["whsec_new"], now=5) == 5


def test_backoff_grows_exponentially_and_is_capped() -> None:
    waits = [backoff_s(n) for n in range(1, 15)]
    assert waits[:4] == [30, 60, 120, 240]
    assert waits == sorted(waits)
    assert max(waits) == 6 * 3600


class Receiver:
    """A real HTTP endpoint on loopback that records deliveries and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers["Content-Length"])
                outer.received.append((dict(self.headers), self.rfile.read(length)))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_events_are_delivered_signed_retried_and_replayed(api: Api, receiver: Receiver) -> None:
    a = api.a
    endpoint = api.ok(
        api.post(
            a,
            "/v1/webhook_endpoints",
            {"url": receiver.url, "event_types": ["order_paid", "escrow_released"]},
        ),
        201,
    )
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    listed = api.ok(api.get(a, f"/v1/webhook_endpoints/{endpoint['id']}"))
    assert listed["secret"] is None
    merchant = api.merchant(a)
    buyer = api.customer(a, funds=5_000)
    order = api.checkout(a, buyer, merchant, price=1_000)
    api.merchant(api.b)  # another tenant's events never reach this endpoint
    hooks = api.platform.webhooks
    assert hooks.dispatch() == 1  # order_paid only: the endpoint chose its types
    assert hooks.dispatch() == 0  # the cursor moved: no duplicates
    with api.platform.webhooks.client() as client:
        assert hooks.deliver_due(client) == 1
    headers, body = receiver.received[0]
    stamp = verify_webhook(body, headers[HEADER], secret, now=api.clock.now_ns() / 1e9)
    assert stamp == api.clock.now_ns() // 10**9
    event = json.loads(body)
    assert event["type"] == "order_paid"
    assert event["data"]["aggregate_id"] == order

    # the receiver fails: the delivery stays pending, backs off, and is logged
    receiver.status = 500
    api.ok(api.post(a, f"/v1/orders/{order}/ship", {"tracking": "x"}))
    api.ok(api.post(a, f"/v1/orders/{order}/confirm"))
    assert hooks.dispatch() == 1
    with api.platform.webhooks.client() as client:
        hooks.deliver_due(client)
        assert hooks.deliver_due(client) == 0  # not due again until the backoff has passed
    deliveries = api.ok(api.get(a, f"/v1/webhook_endpoints/{endpoint['id']}/deliveries"))["data"]
    failed = next(d for d in deliveries if d["event_type"] == "escrow_released")
    assert (failed["status"], failed["attempts"], failed["last_status_code"]) == (
        "pending",
        1,
        500,
    )
    receiver.status = 204
    api.clock.advance(seconds=31)
    with api.platform.webhooks.client() as client:
        assert hooks.deliver_due(client) == 1
    assert [json.loads(b)["type"] for _, b in receiver.received] == [
        "order_paid",
        "escrow_released",
        "escrow_released",
    ]

    # manual replay of a delivered event, signed again
    replayed = api.ok(api.post(a, f"/v1/webhook_deliveries/{failed['id']}/replay"))
    assert replayed["status"] == "pending"
    with api.platform.webhooks.client() as client:
        assert hooks.deliver_due(client) == 1
    headers, body = receiver.received[-1]
    verify_webhook(body, headers[HEADER], secret, now=api.clock.now_ns() / 1e9)

    # rotation: the new secret signs, the old one still verifies during the grace period
    rotated = api.ok(api.post(a, f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret"))
    api.ok(api.post(a, f"/v1/webhook_deliveries/{failed['id']}/replay"))
    with api.platform.webhooks.client() as client:
        hooks.deliver_due(client)
    headers, body = receiver.received[-1]
    now = api.clock.now_ns() / 1e9
    assert headers[HEADER].count("v1=") == 2
    verify_webhook(body, headers[HEADER], rotated["secret"], now=now)
    verify_webhook(body, headers[HEADER], secret, now=now)


def test_unreachable_endpoints_give_up_after_max_attempts(api: Api) -> None:
    a = api.a
    api.post(a, "/v1/webhook_endpoints", {"url": "http://127.0.0.1:9/x", "event_types": ["*"]})
    api.merchant(a)
    hooks = api.platform.webhooks
    hooks.max_attempts = 3
    assert hooks.dispatch() == 1
    with hooks.client(timeout_s=2) as client:
        for _ in range(3):
            hooks.deliver_due(client)
            api.clock.advance(seconds=7 * 3600)
    endpoint = api.ok(api.get(a, "/v1/webhook_endpoints"))["data"][0]["id"]
    (delivery,) = api.ok(api.get(a, f"/v1/webhook_endpoints/{endpoint}/deliveries"))["data"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 3)
    assert "ConnectError" in delivery["last_error"]
