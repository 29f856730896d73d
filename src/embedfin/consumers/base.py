"""What a consumer is, and the records the runner reports: pure, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection

from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.events import StoredEvent
from embedfin.ledger.service import LedgerTransaction


class Consumer(Protocol):
    """Something that reacts to outbox events.

    Attributes:
        name: stable key of its cursor and parked events (renaming it starts from scratch).
        event_types: the types it is handed (None: every type); the runner moves its cursor
            past the others without reading them.
        batch_size: how many events one unit of work hands it at most.
    """

    @property
    def name(self) -> str: ...

    @property
    def event_types(self) -> frozenset[str] | None: ...

    @property
    def batch_size(self) -> int: ...

    def idle(self, conn: Connection) -> bool:
        """Whether it has nothing to do whatever the events (the webhook fan-out without an
        enabled endpoint): the runner then neither reads nor moves its cursor."""
        ...

    def handle(self, events: Sequence[StoredEvent], tx: LedgerTransaction) -> int:
        """Act on a batch, in outbox order, through ``tx`` (the runner advances the cursor in
        the same unit of work). Returns how many things it did (deliveries, rows, invoices);
        raises to have the batch retried."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failing event is retried: after ``base_s``, doubling up to ``cap_s``; parked on
    its ``max_attempts``-th failure."""

    max_attempts: int = 5
    base_s: float = 1.0
    cap_s: float = 300.0

    def delay_ns(self, attempts: int) -> int:
        """Wait after the ``attempts``-th failure."""
        return int(min(self.cap_s, self.base_s * 2 ** max(attempts - 1, 0)) * NS_PER_SECOND)


@dataclass(frozen=True, slots=True)
class ConsumerLag:
    """How far a consumer is behind.

    Attributes:
        consumer: its name.
        unread: committed events of its types after its cursor.
        oldest_unread_age_s: how long ago the oldest of them happened (0 when none).
        parked: events it set aside (``embedfin consumers parked``).
        retrying: whether it is waiting to retry a failed event.
    """

    consumer: str
    unread: int
    oldest_unread_age_s: float
    parked: int
    retrying: bool = False


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    """An event a consumer failed on ``attempts`` times, with the last error.

    Attributes:
        status: ``parked``, or ``replay`` once ``replay`` asked for another try.
    """

    consumer: str
    event_id: str
    event_type: str
    attempts: int
    error: str
    status: str
    parked_at_ns: int
