"""Refunds reach the buyer's next check (the ``risk-refund-signals`` consumer), on both
counter stores, once each however often the events are read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from embedfin.bootstrap import Services, TenantServices, risk_consumers
from embedfin.commerce.orders import OrderLine
from embedfin.consumers.runner import Runner
from embedfin.core.clock import NS_PER_SECOND, ManualClock
from embedfin.core.events import Event, StoredEvent
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.risk.config import RiskSettings
from embedfin.risk.counters import CounterStore, SqlCounters
from embedfin.risk.decision import Action
from embedfin.risk.feature_types import Entity
from embedfin.risk.redis_counters import RedisCounters
from embedfin.risk.refund_signals import RefundSignals, observation_of
from embedfin.risk.signals import DAY_NS, REFUND_KIND, Observation, Status
from tests.conftest import settled_events


def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture(params=["sql", "redis"])
def counters(request: pytest.FixtureRequest) -> Iterator[CounterStore]:
    if request.param == "sql":
        yield SqlCounters()
        return
    store = RedisCounters(str(request.getfixturevalue("redis_server")))
    yield store
    store.redis.close()


@pytest.fixture
def shop(ledger: Ledger, counters: CounterStore) -> Iterator[TenantServices]:
    tenant = f"refunds-{uuid.uuid4().hex[:8]}"  # Redis keys are per tenant: one per test
    services = Services(ledger, risk=RiskSettings(True, counters)).tenant(tenant)
    services.checkout.register_merchant(
        "m-1", category="books", country="US", settlement_currency="USD"
    )
    services.wallets.top_up("b-1", usd(100_000), "card", "top-up")
    settle_channel(ledger, tenant, "card", usd(100_000), usd(0), "settle-1")
    yield services
    if isinstance(counters, RedisCounters):
        for key in counters.redis.scan_iter(match=f"rk:{tenant}:*"):
            counters.redis.delete(key)


def _worker(shop: TenantServices) -> Runner:
    return Runner(shop.ledger, risk_consumers(shop.ledger, shop.wiring.risk))


def _paid(shop: TenantServices, order_id: str, amount: int = 4_000) -> None:
    clock = shop.ledger.clock
    assert isinstance(clock, ManualClock)
    clock.advance(ns=60 * NS_PER_SECOND)  # decisions list newest first
    shop.checkout.place_order(
        order_id, buyer_id="b-1", merchant_id="m-1", currency_code="USD",
        lines=[OrderLine("book", 1, amount)],
    )  # fmt: skip
    shop.checkout.pay_with_wallet(order_id)


def _refunded(shop: TenantServices, order_id: str, amount: int) -> None:
    _paid(shop, order_id, amount)
    shop.checkout.ship(order_id, "T-1")
    shop.refunds.refund(order_id, usd(amount), f"claim-{order_id}")


def test_a_serial_refunders_next_order_is_held_for_review(shop: TenantServices) -> None:
    for n, amount in enumerate((3_000, 4_000, 5_000)):
        _refunded(shop, f"o-{n}", amount)
    worker = _worker(shop)
    worker.run_all()
    worker.run_all()  # nothing new: nothing counted twice
    _paid(shop, "o-next")
    decision = shop.risk.decisions(limit=1)[0]
    assert decision.reference == "o-next"
    assert decision.features["buyer_refunds_7d"] == 3
    assert decision.features["buyer_refunded_amount_7d"] == 12_000
    assert decision.action is Action.REVIEW
    assert "refund_abuse" in {reason["code"] for reason in decision.reasons}
    assert shop.checkout.get_order("o-next").risk_hold


def test_a_flood_of_other_operations_does_not_push_refunds_out_of_the_read(
    shop: TenantServices,
) -> None:
    for n in range(3):
        _refunded(shop, f"o-{n}", 1_000)
    _worker(shop).run_all()
    clock = shop.ledger.clock
    assert isinstance(clock, ManualClock)
    start = clock.now_ns()
    flood = [  # 600 one-cent top-ups: more than a check reads of the buyer's rows
        Observation(
            f"rd_flood{n:016d}",
            shop.tenant,
            start + (n + 1) * 1_000,
            "top_up",
            "card",
            1,
            "USD",
            {Entity.BUYER: "b-1"},
            "b:b-1",
            Status.SUCCEEDED,
        )  # fmt: skip
        for n in range(600)
    ]
    with shop.ledger.transaction() as tx:
        shop.wiring.risk.counters.record_many(tx.conn, flood)
    _paid(shop, "o-next")
    decision = shop.risk.decisions(limit=1)[0]
    assert decision.features["buyer_refunds_7d"] == 3
    assert decision.action is Action.REVIEW


def test_refunds_read_again_count_once(shop: TenantServices) -> None:
    _refunded(shop, "o-1", 2_500)
    events = [s for s in settled_events(shop.ledger.engine) if s.event.type == "refunded"]
    feed = RefundSignals(shop.wiring.risk.counters)
    for _ in range(3):  # a replay, a crash before the checkpoint's commit
        with shop.ledger.transaction() as tx:
            assert feed.handle(events, tx) == 1
    _paid(shop, "o-2")
    assert shop.risk.decisions(limit=1)[0].features["buyer_refunds_7d"] == 1


def test_a_refund_leaves_the_window_after_a_week(shop: TenantServices) -> None:
    _refunded(shop, "o-1", 2_500)
    _worker(shop).run_all()
    clock = shop.ledger.clock
    assert isinstance(clock, ManualClock)
    clock.advance(ns=7 * DAY_NS)
    _paid(shop, "o-2")
    features = shop.risk.decisions(limit=1)[0].features
    assert (features["buyer_refunds_7d"], features["buyer_refunded_amount_7d"]) == (0, 0)


def test_a_refund_does_not_break_a_streak_of_declines_nor_count_as_an_order(
    shop: TenantServices,
) -> None:
    _refunded(shop, "o-1", 2_500)
    _worker(shop).run_all()
    _paid(shop, "o-2")
    features = shop.risk.decisions(limit=1)[0].features
    assert features["buyer_orders_24h"] == 1  # o-1's checkout; its refund is no order
    assert features["declines_in_a_row"] == 0


def _event(**payload: object) -> StoredEvent:
    return StoredEvent(
        1,
        Event("refunded", "order", "o-1", payload, 5_000_123_456, "t-1"),
    )


def test_an_event_becomes_the_buyers_settled_refund_observation() -> None:
    obs = observation_of(
        _event(buyer_id="b-1", amount_minor=700, currency="EUR", reason="chargeback")
    )
    assert obs is not None
    assert (obs.kind, obs.payment_method) == (REFUND_KIND, "chargeback")
    assert obs.status is Status.SUCCEEDED
    assert (obs.amount_minor, obs.currency, obs.account) == (700, "EUR", "b:b-1")
    assert obs.at == 5_000_123_000  # whole microseconds
    odd = observation_of(_event(buyer_id="b-1", amount_minor=700, currency="EUR", reason="x" * 90))
    assert odd is not None
    assert odd.payment_method == "refund"


@pytest.mark.parametrize(
    "payload",
    [
        {"buyer_id": None, "amount_minor": 700, "currency": "EUR"},  # a guest's order
        {"buyer_id": "b-1", "amount_minor": 0, "currency": "EUR"},
        {"buyer_id": "b-1", "amount_minor": True, "currency": "EUR"},
        {"buyer_id": "b-1", "amount_minor": "700", "currency": "EUR"},
        {"buyer_id": "b-1", "amount_minor": 700, "currency": "EURO"},
        {"buyer_id": "b" * 65, "amount_minor": 700, "currency": "EUR"},
    ],
)
def test_a_malformed_or_guest_refund_is_no_signal(payload: dict[str, object]) -> None:
    assert observation_of(_event(**payload)) is None
