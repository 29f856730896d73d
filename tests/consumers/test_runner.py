"""The consumer runner: cursor, batch size, retry with backoff, parking and replay, lag."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Connection

from embedfin.consumers import ConsumerLag, RetryPolicy, Runner
from embedfin.core.clock import ManualClock
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.core.events import StoredEvent
from embedfin.db.outbox import load_cursor
from embedfin.ledger.service import Ledger, LedgerTransaction
from tests.conftest import settled_events


@dataclass
class Recorder:
    """A consumer that notes what it handled in the outbox (``noted`` events) and fails on
    the events named in ``failing`` (as many times as given, -1 for ever)."""

    name: str = "recorder"
    event_types: frozenset[str] | None = frozenset({"order_paid"})
    batch_size: int = 100
    failing: dict[str, int] = field(default_factory=dict)
    handled: list[str] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    asleep: bool = False

    def idle(self, conn: Connection) -> bool:
        return self.asleep

    def handle(self, events: Sequence[StoredEvent], tx: LedgerTransaction) -> int:
        self.batches.append(len(events))
        for stored in events:
            order = stored.event.aggregate_id
            left = self.failing.get(order, 0)
            if left:
                self.failing[order] = left - 1
                raise RuntimeError(f"cannot handle {order}")
            tx.emit("t", "noted", "order", order, {})
        self.handled += [e.event.aggregate_id for e in events]
        return len(events)


def _pay(ledger: Ledger, *orders: str, kind: str = "order_paid") -> None:
    with ledger.transaction() as tx:
        for order in orders:
            tx.emit("t", kind, "order", order, {"amount_minor": 100, "currency": "EUR"})
    settled_events(ledger.engine)  # on PostgreSQL, wait out other transactions on the server


def _noted(ledger: Ledger) -> list[str]:
    return [e.event.aggregate_id for e in settled_events(ledger.engine) if e.event.type == "noted"]


def test_the_cursor_moves_on_and_nothing_is_handled_twice(ledger: Ledger) -> None:
    consumer = Recorder()
    runner = Runner(ledger, [consumer])
    _pay(ledger, "o-1", "o-2", "o-3")
    assert runner.run_all() == {"recorder": 3}
    assert runner.run_all() == {"recorder": 0}
    _pay(ledger, "o-4")
    assert runner.run(consumer) == 1
    assert consumer.handled == ["o-1", "o-2", "o-3", "o-4"]
    assert _noted(ledger) == ["o-1", "o-2", "o-3", "o-4"]  # written with the cursor's move


def test_a_batch_is_at_most_batch_size_events(ledger: Ledger) -> None:
    consumer = Recorder(batch_size=2)
    runner = Runner(ledger, [consumer])
    _pay(ledger, *(f"o-{n}" for n in range(5)))
    first = runner.run_batch(consumer)
    assert (first.read, first.effects) == (2, 2)
    assert runner.run(consumer) == 3
    assert consumer.batches == [2, 2, 1]
    assert runner.run(consumer, max_batches=1) == 0


def test_a_consumer_gets_only_its_types_and_a_caught_up_cursor_passes_the_rest(
    ledger: Ledger,
) -> None:
    consumer = Recorder()
    runner = Runner(ledger, [consumer])
    _pay(ledger, "o-1")
    _pay(ledger, "o-1", "o-2", kind="shipped")
    runner.run(consumer)
    assert consumer.handled == ["o-1"]
    last = [e for e in settled_events(ledger.engine) if e.event.type == "shipped"][-1]
    with ledger.reader() as conn:  # past the last event there was to read, not left at o-1
        assert load_cursor(conn, "recorder") == last.cursor
    assert runner.lag()[0].unread == 0


def test_a_failing_event_is_retried_with_backoff_on_the_injected_clock(
    ledger: Ledger, clock: ManualClock
) -> None:
    consumer = Recorder(failing={"o-2": -1})
    runner = Runner(ledger, [consumer], retry=RetryPolicy(max_attempts=5, base_s=10))
    _pay(ledger, "o-1", "o-2", "o-3")
    assert runner.run(consumer) == 1  # what precedes the failing event commits
    assert consumer.handled == ["o-1"]
    assert runner.lag()[0].retrying
    for wait_s in (10, 20, 40):  # each failure doubles the wait
        tried = len(consumer.batches)
        clock.advance(seconds=wait_s - 1)
        assert runner.run_batch(consumer).failed
        assert len(consumer.batches) == tried  # too early: not even tried
        clock.advance(seconds=1)
        if wait_s == 40:
            consumer.failing.clear()
        runner.run(consumer)
        assert len(consumer.batches) > tried
    assert consumer.handled == ["o-1", "o-2", "o-3"]
    assert _noted(ledger) == ["o-1", "o-2", "o-3"]  # the failed attempts wrote nothing
    assert not runner.lag()[0].retrying
    assert runner.parked() == []


def test_an_event_that_keeps_failing_is_parked_and_the_consumer_moves_on(
    ledger: Ledger, clock: ManualClock
) -> None:
    consumer = Recorder(failing={"o-2": -1})
    runner = Runner(ledger, [consumer], retry=RetryPolicy(max_attempts=3, base_s=1))
    _pay(ledger, "o-1", "o-2", "o-3")
    for _ in range(3):
        runner.run(consumer)
        clock.advance(seconds=60)
    assert consumer.handled == ["o-1", "o-3"]
    (parked,) = runner.parked()
    assert (parked.consumer, parked.event_type, parked.attempts, parked.status) == (
        "recorder",
        "order_paid",
        3,
        "parked",
    )
    assert parked.error == "RuntimeError: cannot handle o-2"
    assert runner.lag() == [ConsumerLag("recorder", 0, 0.0, 1)]


def test_a_replayed_event_is_handed_back_and_leaves_the_parking(
    ledger: Ledger, clock: ManualClock
) -> None:
    consumer = Recorder(failing={"o-1": -1})
    runner = Runner(ledger, [consumer], retry=RetryPolicy(max_attempts=1))
    _pay(ledger, "o-1")
    runner.run(consumer)
    (parked,) = runner.parked("recorder")
    assert runner.replay(parked.event_id) == 1
    assert runner.parked()[0].status == "replay"
    runner.run(consumer)  # still failing: parked again, one more attempt counted
    assert [(p.status, p.attempts) for p in runner.parked()] == [("parked", 2)]
    consumer.failing.clear()
    runner.replay(parked.event_id, "recorder")
    assert runner.run(consumer) == 1
    assert consumer.handled == ["o-1"]
    assert runner.parked() == []
    with pytest.raises(NotFound):
        runner.replay(parked.event_id)


def test_lag_counts_unread_events_and_the_age_of_the_oldest(
    ledger: Ledger, clock: ManualClock
) -> None:
    runner = Runner(ledger, [Recorder()])
    assert runner.lag() == [ConsumerLag("recorder", 0, 0.0, 0)]
    _pay(ledger, "o-1")
    clock.advance(seconds=30)
    _pay(ledger, "o-2")
    _pay(ledger, "o-3", kind="shipped")  # not its type
    clock.advance(seconds=15)
    assert runner.lag() == [ConsumerLag("recorder", 2, 45.0, 0)]
    runner.run_all()
    assert runner.lag() == [ConsumerLag("recorder", 0, 0.0, 0)]


def test_an_idle_consumer_reads_nothing_and_keeps_its_place(ledger: Ledger) -> None:
    consumer = Recorder(asleep=True)
    runner = Runner(ledger, [consumer])
    _pay(ledger, "o-1")
    assert runner.run(consumer) == 0
    assert runner.lag()[0].unread == 1
    consumer.asleep = False
    assert runner.run(consumer) == 1


def test_two_consumers_may_not_share_a_name(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput):
        Runner(ledger, [Recorder(), Recorder()])
