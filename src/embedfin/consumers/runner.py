"""The one runner of outbox consumers: cursor, batch, retry with backoff, parking, lag.

One batch of a consumer is one unit of work:

    read up to batch_size events of its types after its cursor
    hand them to it                           (in a savepoint)
    move its cursor past them, or past every final event when it has caught up
                                              (the same commit as the handler's writes)

When the handler raises, the batch is undone and tried again event by event, so that the
events before the failing one still commit; the failing event is retried on a later pass,
after ``RetryPolicy.delay_ns`` on the injected clock (the runner never sleeps: a pass that
comes too early skips the consumer). On its ``max_attempts``-th failure the event is parked
in ``parked_events`` with its error and the cursor moves past it; ``replay`` hands it to the
consumer once more on its next pass (success removes it, failure parks it again).

Failure counts live in the runner (a restarted process counts afresh); cursors and parked
events are durable. On PostgreSQL the cursor row is locked for the unit of work, so processes
running the same consumer take turns.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from embedfin.consumers.base import Consumer, ConsumerLag, ParkedEvent, RetryPolicy
from embedfin.consumers.parking import (
    ask_replay,
    counts,
    has_replays,
    listed,
    park,
    park_again,
    replays,
    unpark,
)
from embedfin.core.clock import NS_PER_SECOND, Clock
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.core.events import EventCursor, StoredEvent
from embedfin.db.outbox import (
    claim_cursor,
    events_by_id,
    has_events_after,
    load_cursor,
    read_batch,
    save_cursor,
    unread,
)
from embedfin.ledger.service import Ledger, LedgerTransaction

log = logging.getLogger("embedfin.consumers")


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one batch did.

    Attributes:
        read: outbox events read (the cursor moved past those before any failure).
        effects: what the handler reported doing.
        parked: events parked in this batch.
        failed: the batch stopped at an event to retry later (or the consumer is waiting).
    """

    read: int = 0
    effects: int = 0
    parked: int = 0
    failed: bool = False


@dataclass(frozen=True, slots=True)
class _Failing:
    event_id: str
    attempts: int
    retry_at_ns: int


class Runner:
    """Runs consumers over one database (see the module text)."""

    def __init__(
        self,
        ledger: Ledger,
        consumers: Iterable[Consumer] = (),
        *,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.ledger = ledger
        self.clock = clock or ledger.clock
        self.retry = retry or RetryPolicy()
        self.consumers: dict[str, Consumer] = {}
        for consumer in consumers:
            if consumer.name in self.consumers:
                raise InvalidInput(f"two consumers are named {consumer.name!r}")
            self.consumers[consumer.name] = consumer
        self._failing: dict[str, _Failing] = {}

    # --- running -------------------------------------------------------------------------------
    def run_all(self, max_batches: int | None = None) -> dict[str, int]:
        """Each registered consumer until it has caught up (or ``max_batches`` each); the
        effects by consumer."""
        return {
            name: self.run(consumer, max_batches=max_batches)
            for name, consumer in self.consumers.items()
        }

    def run(
        self,
        consumer: Consumer,
        *,
        batch_size: int | None = None,
        max_batches: int | None = None,
    ) -> int:
        """Batches until the consumer has caught up, stops at a failure, or has run
        ``max_batches``; returns the effects."""
        size = batch_size or consumer.batch_size
        effects = batches = 0
        while max_batches is None or batches < max_batches:
            batch = self.run_batch(consumer, size)
            effects += batch.effects
            batches += 1
            if batch.failed or batch.read < size:
                break
        return effects

    def run_batch(self, consumer: Consumer, batch_size: int | None = None) -> BatchResult:
        """One unit of work of ``consumer``: its replays, then one batch after its cursor.

        When nothing is new, or the consumer is idle, it only reads (no write transaction)."""
        name = consumer.name
        failing = self._failing.get(name)
        if failing is not None and self.clock.now_ns() < failing.retry_at_ns:
            return BatchResult(failed=True)
        with self.ledger.current() as conn:
            if consumer.idle(conn):
                return BatchResult()
            newer = has_events_after(conn, load_cursor(conn, name))
            asked = has_replays(conn, name)
        if not newer and not asked:
            return BatchResult()
        with self.ledger.transaction() as tx:
            replayed = self._replay_parked(consumer, tx) if asked else 0
            after = claim_cursor(tx.conn, name)
            size = batch_size or consumer.batch_size
            events, end = read_batch(tx.conn, after, size, consumer.event_types)
            if not events:
                if end != after:  # only other consumers' types: move past them
                    save_cursor(tx.conn, name, end)
                return BatchResult(effects=replayed)
            batch = self._handle(consumer, tx, events, end)
        return BatchResult(batch.read, batch.effects + replayed, batch.parked, batch.failed)

    def _handle(
        self,
        consumer: Consumer,
        tx: LedgerTransaction,
        events: list[StoredEvent],
        end: EventCursor,
    ) -> BatchResult:
        try:
            with tx.savepoint():
                effects = consumer.handle(events, tx)
        except Exception:
            return self._one_by_one(consumer, tx, events, end)
        save_cursor(tx.conn, consumer.name, end)
        self._failing.pop(consumer.name, None)
        return BatchResult(len(events), effects)

    def _one_by_one(
        self,
        consumer: Consumer,
        tx: LedgerTransaction,
        events: list[StoredEvent],
        end: EventCursor,
    ) -> BatchResult:
        """The batch failed: commit what precedes the failing event, and count its failure."""
        effects = parked = 0
        cursor: EventCursor | None = None
        for stored in events:
            try:
                with tx.savepoint():
                    effects += consumer.handle([stored], tx)
            except Exception as error:
                if not self._failed(consumer, tx, stored, error):
                    if cursor is not None:
                        save_cursor(tx.conn, consumer.name, cursor)
                    return BatchResult(len(events), effects, parked, failed=True)
                parked += 1
            cursor = stored.cursor
        save_cursor(tx.conn, consumer.name, end)
        if not parked:
            self._failing.pop(consumer.name, None)  # it failed only in company: a passing fault
        return BatchResult(len(events), effects, parked)

    def _failed(
        self, consumer: Consumer, tx: LedgerTransaction, stored: StoredEvent, error: Exception
    ) -> bool:
        """Count a failure of ``stored``; park it on the last allowed one (returns whether)."""
        name, event_id = consumer.name, stored.event.event_id
        now = self.clock.now_ns()
        previous = self._failing.get(name)
        attempts = previous.attempts + 1 if previous and previous.event_id == event_id else 1
        text = f"{type(error).__name__}: {error}"
        if attempts >= self.retry.max_attempts:
            park(tx.conn, name, stored, attempts, text, now)
            self._failing.pop(name, None)
            log.warning("consumer %s parked event %s after %d failures", name, event_id, attempts)
            return True
        self._failing[name] = _Failing(event_id, attempts, now + self.retry.delay_ns(attempts))
        log.info("consumer %s failed on event %s (attempt %d): %s", name, event_id, attempts, text)
        return False

    def _replay_parked(self, consumer: Consumer, tx: LedgerTransaction) -> int:
        effects = 0
        name = consumer.name
        for stored in events_by_id(tx.conn, replays(tx.conn, name)):
            try:
                with tx.savepoint():
                    effects += consumer.handle([stored], tx)
            except Exception as error:
                park_again(
                    tx.conn,
                    name,
                    stored.event.event_id,
                    f"{type(error).__name__}: {error}",
                    self.clock.now_ns(),
                )
                continue
            unpark(tx.conn, name, stored.event.event_id)
        return effects

    # --- operating -----------------------------------------------------------------------------
    def lag(self) -> list[ConsumerLag]:
        """How far behind each registered consumer is, in registration order."""
        now = self.clock.now_ns()
        with self.ledger.current() as conn:
            held = counts(conn)
            figures = []
            for name, consumer in self.consumers.items():
                count, oldest = unread(conn, load_cursor(conn, name), consumer.event_types)
                age_s = 0.0 if oldest is None else max(0, now - oldest) / NS_PER_SECOND
                figures.append(
                    ConsumerLag(name, count, age_s, held.get(name, 0), name in self._failing)
                )
        return figures

    def parked(self, consumer: str | None = None) -> list[ParkedEvent]:
        with self.ledger.current() as conn:
            return listed(conn, consumer)

    def replay(self, event_id: str, consumer: str | None = None) -> int:
        """Un-park an event (for one consumer, or for each that parked it): the consumer is
        handed it again on its next pass. Returns how many parked entries were released."""
        with self.ledger.transaction() as tx:
            released = ask_replay(tx.conn, event_id, consumer)
        if not released:
            raise NotFound(f"no parked event {event_id}")
        return released
