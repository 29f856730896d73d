"""The ``parked_events`` table: events set aside by a consumer, and their replays."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, select, update

from embedfin.consumers.base import ParkedEvent
from embedfin.core.events import StoredEvent
from embedfin.db.tables import parked_events

PARKED = "parked"
REPLAY = "replay"
_ERROR_MAX = 2_000


def park(
    conn: Connection, consumer: str, stored: StoredEvent, attempts: int, error: str, now_ns: int
) -> None:
    conn.execute(
        insert(parked_events).values(
            consumer=consumer,
            event_id=stored.event.event_id,
            event_type=stored.event.type,
            position=stored.position,
            tx_id=stored.tx_id,
            attempts=attempts,
            error=error[:_ERROR_MAX],
            status=PARKED,
            parked_at=now_ns,
        )
    )


def listed(conn: Connection, consumer: str | None = None) -> list[ParkedEvent]:
    t = parked_events.c
    query = select(parked_events).order_by(t.consumer, t.position)
    if consumer is not None:
        query = query.where(t.consumer == consumer)
    return [
        ParkedEvent(
            r.consumer, r.event_id, r.event_type, r.attempts, r.error, r.status, r.parked_at
        )
        for r in conn.execute(query).all()
    ]


def counts(conn: Connection) -> dict[str, int]:
    """Parked events by consumer."""
    t = parked_events.c
    rows = conn.execute(select(t.consumer, func.count()).group_by(t.consumer)).all()
    return {consumer: int(n) for consumer, n in rows}


def ask_replay(conn: Connection, event_id: str, consumer: str | None) -> int:
    """Mark a parked event (of one consumer, or of each that parked it) for another try."""
    t = parked_events.c
    query = update(parked_events).where(t.event_id == event_id, t.status == PARKED)
    if consumer is not None:
        query = query.where(t.consumer == consumer)
    return int(conn.execute(query.values(status=REPLAY)).rowcount or 0)


def replays(conn: Connection, consumer: str) -> list[str]:
    """Event ids a consumer is asked to try again, in outbox order."""
    t = parked_events.c
    return list(
        conn.execute(
            select(t.event_id)
            .where(t.consumer == consumer, t.status == REPLAY)
            .order_by(t.tx_id, t.position)
        ).scalars()
    )


def has_replays(conn: Connection, consumer: str) -> bool:
    t = parked_events.c
    query = select(t.event_id).where(t.consumer == consumer, t.status == REPLAY).limit(1)
    return conn.execute(query).first() is not None


def unpark(conn: Connection, consumer: str, event_id: str) -> None:
    t = parked_events.c
    conn.execute(delete(parked_events).where(t.consumer == consumer, t.event_id == event_id))


def park_again(conn: Connection, consumer: str, event_id: str, error: str, now_ns: int) -> None:
    t = parked_events.c
    conn.execute(
        update(parked_events)
        .where(t.consumer == consumer, t.event_id == event_id)
        .values(
            status=PARKED,
            attempts=t.attempts + 1,
            error=error[:_ERROR_MAX],
            parked_at=now_ns,
        )
    )
