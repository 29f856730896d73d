"""The transactional outbox: appending events, reading them in order, consumer cursors.

A command appends its events to ``outbox_events`` in the same database transaction as its
effect, so an event exists if and only if the change it describes was committed. Consumers
(webhooks, credit features, fraud and AML monitors, reports) read forward from a cursor they keep
in ``event_cursors``.

Ordering: on SQLite writers are serialised, so ``position`` order is commit order and a cursor
is a position. On PostgreSQL positions come from a sequence and transactions commit in any order,
so position order is not commit order in either direction: a transaction may commit after a
younger one (its event has the lower position and appears later) or before one that took a
lower position and is still open. Each row therefore records its transaction id; ``read_events``
returns only rows whose transaction is older than every transaction still running (those are
final) and orders them by (transaction id, position). Every event that can still appear belongs
to a transaction at or above that horizon, so it sorts after everything a consumer has read:
a consumer's cursor is the (transaction id, position) of the last event it took, and it never
skips an event.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection, Select, func, insert, literal, select, tuple_

from embedfin.core.events import START, Event, EventCursor, StoredEvent
from embedfin.db.tables import event_cursors, outbox_events

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


#: The horizon (see the module docstring): the oldest transaction of the snapshot still running
#: that may belong to this database, else the snapshot's xmax. Transactions known to run in
#: another database of the server (``pg_stat_activity``) cannot write this outbox, so a long
#: transaction elsewhere on the server does not hold the consumers back. An xid the activity
#: view does not place (ended meanwhile, prepared, or hidden from this role) counts as ours:
#: that errs only towards waiting.
_HORIZON_SQL = """
WITH snap AS (SELECT pg_current_snapshot() AS s),
elsewhere AS (
    SELECT backend_xid FROM pg_stat_activity
    WHERE backend_xid IS NOT NULL
      AND datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())
)
SELECT coalesce(
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(snap.s) AS x
     WHERE NOT EXISTS (SELECT 1 FROM elsewhere WHERE elsewhere.backend_xid = x::xid)),
    pg_snapshot_xmax(snap.s)::text::bigint
) FROM snap
"""


def _horizon(conn: Connection) -> int | None:
    """On PostgreSQL, the oldest transaction still running here: rows of older ones are final."""
    if conn.dialect.name != "postgresql":
        return None
    horizon: int = conn.exec_driver_sql(_HORIZON_SQL).scalar_one()
    return horizon


def _after(conn: Connection, after: EventCursor, horizon: int | None = None) -> Select[Any]:
    """The outbox rows after a cursor that are final, in consumption order."""
    e = outbox_events.c
    if conn.dialect.name != "postgresql":
        return select(outbox_events).where(e.position > after.position).order_by(e.position)
    if horizon is None:
        horizon = _horizon(conn)
    return (
        select(outbox_events)
        .where(
            tuple_(e.tx_id, e.position) > tuple_(literal(after.tx_id), literal(after.position)),
            e.tx_id < horizon,
        )
        .order_by(e.tx_id, e.position)
    )


def read_batch(
    conn: Connection, after: EventCursor, limit: int, types: Collection[str] | None = None
) -> tuple[list[StoredEvent], EventCursor]:
    """Up to ``limit`` final events of these types (all when None) after a cursor, and the
    cursor to keep once they are handled.

    That cursor is past the last event returned — or, when fewer than ``limit`` came back,
    past every final event, so that a consumer of a few types does not scan the same tail of
    other events again. Both reads use one horizon: an event that was not final for the first
    cannot be final for the second."""
    horizon = _horizon(conn)
    query = _after(conn, after, horizon)
    if types is not None:
        query = query.where(outbox_events.c.type.in_(sorted(types)))
    events = [_stored(row, None) for row in conn.execute(query.limit(limit)).mappings()]
    if len(events) == limit:
        return events, events[-1].cursor
    e = outbox_events.c
    last = select(e.tx_id, e.position)
    if horizon is None:
        last = last.order_by(e.position.desc())
    else:
        last = last.where(e.tx_id < horizon).order_by(e.tx_id.desc(), e.position.desc())
    found = conn.execute(last.limit(1)).first()
    end = after if found is None else EventCursor(int(found[0] or 0), int(found[1]))
    return events, max(end, events[-1].cursor if events else after)


def read_events(
    conn: Connection,
    after: EventCursor = START,
    limit: int = 1000,
    types: Sequence[str] | None = None,
    *,
    payloads_of: Collection[str] | None = None,
) -> list[StoredEvent]:
    """Events after the cursor, in the order a consumer must take them (see the module text).

    ``payloads_of``: decode the payloads of these types only (the others come with an empty
    payload) — for a consumer that must move past every event but reads few of them."""
    query = _after(conn, after)
    if types:
        query = query.where(outbox_events.c.type.in_(list(types)))
    rows = conn.execute(query.limit(limit)).mappings()
    return [_stored(row, payloads_of) for row in rows]


def _stored(row: Any, payloads_of: Collection[str] | None) -> StoredEvent:
    decode = payloads_of is None or row["type"] in payloads_of
    return StoredEvent(
        row["position"],
        Event(
            row["type"],
            row["aggregate"],
            row["aggregate_id"],
            json.loads(row["payload"]) if decode else {},
            row["occurred_at"],
            row["tenant_id"],
            row["event_id"],
        ),
        row["tx_id"] or 0,
    )


def has_events_after(conn: Connection, after: EventCursor) -> bool:
    """Whether ``read_events`` would return anything (a cheap check before a write)."""
    found = conn.execute(_after(conn, after).with_only_columns(outbox_events.c.position).limit(1))
    return found.first() is not None


def load_cursor(conn: Connection, consumer: str) -> EventCursor:
    found = conn.execute(
        select(event_cursors.c.tx_id, event_cursors.c.position).where(
            event_cursors.c.consumer == consumer
        )
    ).first()
    return START if found is None else EventCursor(int(found[0]), int(found[1]))


def save_cursor(conn: Connection, consumer: str, cursor: EventCursor) -> None:
    values = {"tx_id": cursor.tx_id, "position": cursor.position}
    updated = conn.execute(
        event_cursors.update().where(event_cursors.c.consumer == consumer).values(**values)
    )
    if updated.rowcount == 0:
        conn.execute(insert(event_cursors).values(consumer=consumer, **values))


def claim_cursor(conn: Connection, consumer: str) -> EventCursor:
    """``load_cursor`` for a consumer about to read and move on, in a write transaction.

    On PostgreSQL the cursor row is locked until the transaction ends, so two processes running
    the same consumer take turns instead of both handling a batch; SQLite's writers are
    serialised already."""
    if conn.dialect.name != "postgresql":
        return load_cursor(conn, consumer)
    conn.exec_driver_sql(
        "INSERT INTO event_cursors (consumer, position, tx_id) VALUES (%(c)s, 0, 0) "
        "ON CONFLICT (consumer) DO NOTHING",
        {"c": consumer},
    )
    found = conn.execute(
        select(event_cursors.c.tx_id, event_cursors.c.position)
        .where(event_cursors.c.consumer == consumer)
        .with_for_update()
    ).one()
    return EventCursor(int(found[0]), int(found[1]))


def unread(
    conn: Connection, after: EventCursor, types: Collection[str] | None = None
) -> tuple[int, int | None]:
    """(how many, when the oldest happened) of the committed events after a cursor, of these
    types (all when None) — what a consumer has still to read, final or not."""
    e = outbox_events.c
    if conn.dialect.name == "postgresql":
        newer = tuple_(e.tx_id, e.position) > tuple_(literal(after.tx_id), literal(after.position))
    else:
        newer = e.position > after.position
    query = select(func.count(), func.min(e.occurred_at)).where(newer)
    if types is not None:
        query = query.where(e.type.in_(sorted(types)))
    count, oldest = conn.execute(query).one()
    return int(count), None if oldest is None else int(oldest)


def events_by_id(conn: Connection, event_ids: Collection[str]) -> list[StoredEvent]:
    """Stored events by id, in position order (ids not found are left out)."""
    if not event_ids:
        return []
    rows = conn.execute(
        select(outbox_events)
        .where(outbox_events.c.event_id.in_(sorted(event_ids)))
        .order_by(outbox_events.c.position)
    ).mappings()
    return [_stored(row, None) for row in rows]
