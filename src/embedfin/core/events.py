"""Domain events: what happened, as immutable records, and where a consumer has read to.

Pure records only: writing and reading the outbox is ``embedfin.db.outbox``; emitting belongs
to the unit of work (``LedgerTransaction.emit``); consumers run on ``embedfin.consumers``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

JSONValue = Any


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, in the past tense (``order_paid``, ``receipt_confirmed``).

    Attributes:
        type: snake_case event name.
        aggregate: kind of object it happened to (``order``, ``wallet``).
        aggregate_id: that object's id.
        payload: JSON-serialisable facts; money as integer minor units plus currency.
        occurred_at_ns: when it happened (injected clock, nanoseconds UTC).
        tenant_id: the marketplace tenant, when there is one.
        event_id: unique id (consumers de-duplicate on it).
    """

    type: str
    aggregate: str
    aggregate_id: str
    payload: Mapping[str, JSONValue]
    occurred_at_ns: int
    tenant_id: str | None = None
    event_id: str = field(default_factory=lambda: os.urandom(16).hex())  # 128 random bits


class EventCursor(NamedTuple):
    """Where a consumer has read to: the last event's transaction id (0 on SQLite) and
    position. ``EventCursor()`` is the start."""

    tx_id: int = 0
    position: int = 0


START = EventCursor()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    event: Event
    tx_id: int = 0

    @property
    def cursor(self) -> EventCursor:
        """The cursor that reads on after this event."""
        return EventCursor(self.tx_id, self.position)
