"""The outbox's latest domain events of a tenant."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from embedfin.db.tables import outbox_events


@dataclass(frozen=True, slots=True)
class EventRow:
    position: int
    type: str
    aggregate_id: str
    occurred_at_ns: int


def recent_events(conn: Connection, tenant: str, limit: int = 15) -> list[EventRow]:
    """The newest events first."""
    rows = conn.execute(
        select(
            outbox_events.c.position,
            outbox_events.c.type,
            outbox_events.c.aggregate_id,
            outbox_events.c.occurred_at,
        )
        .where(outbox_events.c.tenant_id == tenant)
        .order_by(outbox_events.c.position.desc())
        .limit(limit)
    ).all()
    return [EventRow(int(p), t, a, int(o)) for p, t, a, o in rows]
