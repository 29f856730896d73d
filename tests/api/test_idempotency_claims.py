"""Idempotency-Keys claimed in the database: one effect per key across processes, never a 500.

Two ``Platform`` objects on one database stand for two API worker processes: each has its own
engine, its own in-process claims and its own write lock, so only the database can keep them
from running a key twice. They share one channel processor, as workers share the acquirer.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from embedfin.api.app import create_app
from embedfin.api.idempotency import KeyInFlight, claim, finish, release, stale_claims
from embedfin.api.platform import ApiSettings, Platform
from embedfin.bootstrap import check_all
from embedfin.core.clock import NS_PER_SECOND, ManualClock
from embedfin.core.errors import IdempotencyMismatch
from embedfin.core.money import Money
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.processors import (
    ChannelKind,
    ChannelResponse,
    FeeSchedule,
    SimulatedProcessor,
)
from embedfin.payments.channels.routing import Router
from tests.api.conftest import Tenant, make_tenant

SLOT = ("key_1", "idem-1")
LEASE = 30 * NS_PER_SECOND


def test_a_claim_is_held_then_answered_then_replayed(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        assert claim(conn, SLOT, "h1", "owner-a", 0, LEASE) is None
        with pytest.raises(KeyInFlight):
            claim(conn, SLOT, "h1", "owner-b", 1, LEASE)
        with pytest.raises(IdempotencyMismatch):
            claim(conn, SLOT, "other", "owner-b", 1, LEASE)
        assert not finish(conn, SLOT, "owner-b", 201, {"id": "x"})  # not its claim
        assert finish(conn, SLOT, "owner-a", 201, {"id": "x"})
        assert claim(conn, SLOT, "h1", "owner-b", 2, LEASE) == (201, {"id": "x"})
        assert stale_claims(conn, 10 * LEASE) == 0
    engine.dispose()


def test_a_claim_left_by_a_dead_process_is_taken_over_after_its_lease(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        assert claim(conn, SLOT, "h1", "dead", 0, LEASE) is None
        with pytest.raises(KeyInFlight):
            claim(conn, SLOT, "h1", "alive", LEASE - 1, LEASE)
        assert stale_claims(conn, LEASE) == 1
        assert claim(conn, SLOT, "h1", "alive", LEASE, LEASE) is None
        assert not finish(conn, SLOT, "dead", 201, {})  # the dead owner's late answer is refused
        assert finish(conn, SLOT, "alive", 201, {"ok": True})
        assert stale_claims(conn, 10 * LEASE) == 0
    engine.dispose()


def test_a_released_claim_can_be_claimed_again(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        assert claim(conn, SLOT, "h1", "a", 0, LEASE) is None
        release(conn, SLOT, "a")
        assert claim(conn, SLOT, "h1", "b", 1, LEASE) is None
    engine.dispose()


class SlowCard(SimulatedProcessor):
    """The shared processor, slow enough that concurrent requests overlap inside the effect."""

    def __init__(self) -> None:
        super().__init__(
            "card-acquirer", ChannelKind.CARD, ["EUR"], FeeSchedule(290, 30), approval_rate=1.0
        )
        self._lock = threading.Lock()

    def charge(self, idempotency_key: str, amount: Money, payer_ref: str) -> ChannelResponse:
        time.sleep(0.05)
        with self._lock:
            return super().charge(idempotency_key, amount, payer_ref)

    def refund(self, idempotency_key: str, charge_key: str, amount: Money) -> ChannelResponse:
        time.sleep(0.05)
        with self._lock:
            return super().refund(idempotency_key, charge_key, amount)


class Workers:
    def __init__(self, url: str) -> None:
        self.clock = ManualClock(1_795_000_000 * NS_PER_SECOND)
        self.card = SlowCard()
        self.platforms = [
            Platform(
                Ledger(make_engine(url), self.clock),
                ApiSettings(run_worker=False),
                router=Router([self.card]),
            )
            for _ in range(2)
        ]
        self.clients = [
            TestClient(create_app(p), raise_server_exceptions=False) for p in self.platforms
        ]
        self.tenant: Tenant = make_tenant(self.platforms[0], "Workers")

    def post(self, worker: int, path: str, body: Any, key: str) -> Any:
        headers = self.tenant.headers | {"Idempotency-Key": key}
        return self.clients[worker].post(path, json=body, headers=headers)

    def burst(self, path: str, body: Any, key: str, n: int = 8) -> list[Any]:
        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(lambda i: self.post(i % 2, path, body, key), range(n)))

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for platform in self.platforms:
            platform.ledger.close()


@pytest.fixture
def workers(db_url: str) -> Iterator[Workers]:
    w = Workers(db_url)
    yield w
    w.close()


def _setup_order(w: Workers) -> tuple[str, dict[str, Any]]:
    merchant = {
        "category": "books",
        "country": "DE",
        "settlement_currency": "EUR",
        "kyc_status": "verified",
    }
    m = w.post(0, "/v1/merchants", merchant, "m-1").json()["id"]
    customer = {"name": "Ada Lovelace", "phone": "+44 20 7946 0958", "email": "ada@example.org"}
    c = w.post(1, "/v1/customers", customer, "c-1").json()["id"]
    body = {
        "customer": c,
        "merchant": m,
        "currency": "EUR",
        "payment_method": "channel",
        "lines": [{"sku": "lamp", "quantity": 1, "unit_price": 3_000}],
    }
    return c, body


def test_the_same_key_sent_to_two_workers_at_once_charges_once(workers: Workers) -> None:
    w = workers
    _, body = _setup_order(w)
    answers = w.burst("/v1/checkouts", body, "card-checkout-1")
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, [a.text for a in answers]
    assert statuses[201] >= 1
    assert len({a.json()["id"] for a in answers if a.status_code == 201}) == 1
    assert len(w.card.charges) == 1
    again = w.post(0, "/v1/checkouts", body, "card-checkout-1")
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    with w.platforms[0].ledger.reader() as conn:
        assert check_all(conn).ok


def test_the_same_refund_key_sent_to_two_workers_at_once_refunds_once(workers: Workers) -> None:
    w = workers
    _, body = _setup_order(w)
    order = w.post(0, "/v1/checkouts", body, "card-checkout-2").json()
    path = f"/v1/orders/{order['id']}/refunds"
    answers = w.burst(path, {"amount": 1_000, "currency": "EUR"}, "refund-1")
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {200, 409}, [a.text for a in answers]
    assert statuses[200] >= 1
    assert {a.json()["amount_refunded"] for a in answers if a.status_code == 200} == {1_000}
    assert sum(m.amount_minor for _, _, m in w.card.refunds.values()) == 1_000
    final = w.post(1, path, {"amount": 1_000, "currency": "EUR"}, "refund-1")
    assert final.status_code == 200
    assert final.json()["amount_refunded"] == 1_000
    with w.platforms[1].ledger.reader() as conn:
        entries = conn.exec_driver_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'order.refunds'"
        ).scalar_one()
        assert entries == 1
        assert check_all(conn).ok


def test_same_key_wallet_checkouts_on_two_workers_place_one_order_each(workers: Workers) -> None:
    """Wallet checkouts go through each worker's group commit: a key's lock is taken before its
    stored answer is read, so a burst never runs a key twice (which was a 500 for the batch)."""
    w = workers
    buyer, body = _setup_order(w)
    top_up = w.post(0, f"/v1/customers/{buyer}/top_ups", {"amount": 50_000, "currency": "EUR"}, "t")
    assert top_up.status_code == 201, top_up.text
    wallet = body | {"payment_method": "wallet"}
    for n in range(6):
        answers = w.burst("/v1/checkouts", wallet, f"wallet-checkout-{n}")
        statuses = Counter(a.status_code for a in answers)
        assert set(statuses) <= {201, 409}, [a.text for a in answers]
        assert len({a.json()["id"] for a in answers if a.status_code == 201}) <= 1
    orders = w.clients[0].get("/v1/orders", params={"limit": 100}, headers=w.tenant.headers)
    assert len(orders.json()["data"]) == 6
    balance = w.clients[1].get(
        f"/v1/customers/{buyer}/balance", params={"currency": "EUR"}, headers=w.tenant.headers
    )
    assert balance.json()["available"] == 50_000 - 6 * 3_000
