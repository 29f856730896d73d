"""Domain events and the transactional outbox.

A command appends its events to ``outbox_events`` in the same database transaction as its
effect, so an event exists if and only if the change it describes was committed. Consumers
(webhooks, credit features, fraud and AML monitors, reports) read forward from a cursor they keep
in ``event_cursors``.

Ordering: on SQLite writers are serialised, so ``position`` order is commit order. On PostgreSQL
positions come from a sequence and a transaction that started earlier may commit later; each row
therefore records its transaction id and ``read_events`` only returns rows whose transaction is
older than every transaction still running, so a consumer never skips a late-committing event.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select

from embedfin.db.tables import event_cursors, outbox_events

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


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    event: Event


_INSERT = insert(outbox_events)


def append_events(conn: Connection, events: Sequence[Event]) -> None:
    """Write events in the caller's transaction."""
    if not events:
        return
    tx_id = None
    if conn.dialect.name == "postgresql":
        tx_id = conn.exec_driver_sql("SELECT pg_current_xact_id()::text::bigint").scalar_one()
    rows = [
        (
            e.event_id,
            e.type,
            e.aggregate,
            e.aggregate_id,
            e.tenant_id,
            json.dumps(e.payload, sort_keys=True, separators=(",", ":")),
            e.occurred_at_ns,
            tx_id,
        )
        for e in events
    ]
    if conn.dialect.name == "sqlite":  # driver-level executemany: no per-row binding work
        conn.exec_driver_sql(_INSERT_SQLITE, rows)
        return
    conn.execute(_INSERT, [dict(zip(_COLUMNS, row, strict=True)) for row in rows])


_COLUMNS = (
    "event_id",
    "type",
    "aggregate",
    "aggregate_id",
    "tenant_id",
    "payload",
    "occurred_at",
    "tx_id",
)
_INSERT_SQLITE = (
    f"INSERT INTO outbox_events ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
)


def read_events(
    conn: Connection,
    after: int = 0,
    limit: int = 1000,
    types: Sequence[str] | None = None,
    *,
    payloads_of: Collection[str] | None = None,
) -> list[StoredEvent]:
    """Events after position ``after``, oldest first, that are safe to consume in order.

    ``payloads_of``: decode the payloads of these types only (the others come with an empty
    payload) — for a consumer that must move past every event but reads few of them."""
    query = select(outbox_events).where(outbox_events.c.position > after)
    if types:
        query = query.where(outbox_events.c.type.in_(list(types)))
    if conn.dialect.name == "postgresql":
        horizon = conn.exec_driver_sql(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
        ).scalar_one()
        query = query.where(outbox_events.c.tx_id < horizon)
    rows = conn.execute(query.order_by(outbox_events.c.position).limit(limit)).mappings()
    return [
        StoredEvent(
            row["position"],
            Event(
                row["type"],
                row["aggregate"],
                row["aggregate_id"],
                json.loads(row["payload"])
                if payloads_of is None or row["type"] in payloads_of
                else {},
                row["occurred_at"],
                row["tenant_id"],
                row["event_id"],
            ),
        )
        for row in rows
    ]


def load_cursor(conn: Connection, consumer: str) -> int:
    found = conn.execute(
        select(event_cursors.c.position).where(event_cursors.c.consumer == consumer)
    ).scalar_one_or_none()
    return int(found or 0)


def save_cursor(conn: Connection, consumer: str, position: int) -> None:
    updated = conn.execute(
        event_cursors.update().where(event_cursors.c.consumer == consumer).values(position=position)
    )
    if updated.rowcount == 0:
        conn.execute(insert(event_cursors).values(consumer=consumer, position=position))
