"""A tenant's event stream as an operator browses it: newest first, a page at a time.

Consumers read the outbox forward by cursor (``core/events.py``); this is the other read, for
the API's ``/v1/events``: by tenant, optionally by type, paged by event id.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from embedfin.core.errors import NotFound
from embedfin.core.events import Event, StoredEvent
from embedfin.db.tables import outbox_events

_e = outbox_events.c


def _stored(row: Any) -> StoredEvent:
    event = Event(
        row.type,
        row.aggregate,
        row.aggregate_id,
        json.loads(row.payload),
        row.occurred_at,
        row.tenant_id,
        row.event_id,
    )
    return StoredEvent(row.position, event, row.tx_id or 0)


def list_events(
    conn: Connection,
    tenant: str,
    limit: int,
    starting_after: str | None = None,
    event_type: str | None = None,
) -> tuple[list[StoredEvent], bool]:
    """The tenant's events, newest first, after the event ``starting_after`` (an id with or
    without its ``evt_`` prefix); and whether there are more."""
    where = [_e.tenant_id == tenant]
    if event_type is not None:
        where.append(_e.type == event_type)
    if starting_after is not None:
        position = conn.execute(
            select(_e.position).where(
                _e.tenant_id == tenant, _e.event_id == starting_after.removeprefix("evt_")
            )
        ).scalar_one_or_none()
        if position is None:
            raise NotFound(f"no event {starting_after}")
        where.append(_e.position < position)
    rows = conn.execute(
        select(outbox_events).where(*where).order_by(_e.position.desc()).limit(limit + 1)
    ).all()
    return [_stored(r) for r in rows[:limit]], len(rows) > limit


def find_event(conn: Connection, tenant: str, event_id: str) -> StoredEvent | None:
    """One of the tenant's events by id (with or without its ``evt_`` prefix)."""
    row = conn.execute(
        select(outbox_events).where(
            _e.tenant_id == tenant, _e.event_id == event_id.removeprefix("evt_")
        )
    ).first()
    return None if row is None else _stored(row)
