"""The outbox: events commit with their change, and consumers never skip one."""

from __future__ import annotations

import pytest

from embedfin.core.events import START, Event, EventCursor
from embedfin.db.engine import make_engine
from embedfin.db.outbox import append_events, load_cursor, read_events, save_cursor
from embedfin.db.scratch import scratch_database
from tests.conftest import settled_events


def _event(n: int) -> Event:
    return Event("order_paid", "order", f"ord_{n}", {"amount_minor": n, "currency": "USD"}, n)


def test_events_are_read_in_order_from_a_cursor(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        append_events(conn, [_event(1), _event(2)])
    with engine.begin() as conn:
        append_events(conn, [_event(3)])
    settled_events(engine)  # on PostgreSQL, wait out other transactions on the shared server
    with engine.connect() as conn:
        first = read_events(conn, limit=2)
        rest = read_events(conn, after=first[-1].cursor)
    assert [e.event.aggregate_id for e in first + rest] == ["ord_1", "ord_2", "ord_3"]
    assert rest[0].event.payload == {"amount_minor": 3, "currency": "USD"}
    engine.dispose()


def test_rolled_back_change_leaves_no_event(db_url: str) -> None:
    engine = make_engine(db_url)

    def failing_command() -> None:
        with engine.begin() as conn:
            append_events(conn, [_event(1)])
            raise RuntimeError("the command failed after writing")

    with pytest.raises(RuntimeError):
        failing_command()
    with engine.connect() as conn:
        assert read_events(conn) == []
    engine.dispose()


def test_consumer_cursor_is_durable(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        assert load_cursor(conn, "webhooks") == START
        save_cursor(conn, "webhooks", EventCursor(3, 7))
        save_cursor(conn, "webhooks", EventCursor(4, 9))
    with engine.connect() as conn:
        assert load_cursor(conn, "webhooks") == EventCursor(4, 9)
    engine.dispose()


@pytest.mark.postgres
def test_event_of_a_slower_transaction_is_not_skipped(pg_url: str) -> None:
    engine = make_engine(pg_url)
    slow = engine.connect()
    slow_tx = slow.begin()
    append_events(slow, [_event(1)])  # takes the lower position, commits last
    with engine.begin() as conn:
        append_events(conn, [_event(2)])
    with engine.connect() as conn:
        assert read_events(conn) == []  # ord_2 must wait: ord_1 may still commit before it
    slow_tx.commit()
    slow.close()
    with engine.connect() as conn:
        assert [e.event.aggregate_id for e in read_events(conn)] == ["ord_1", "ord_2"]
    engine.dispose()


@pytest.mark.postgres
def test_event_of_a_younger_open_transaction_is_not_skipped(pg_url: str) -> None:
    """An older transaction (smaller id) writes its event after a younger one wrote its own,
    and commits while the younger is still open: the consumer must not move past the younger
    transaction's event, which has the lower position but commits later."""
    engine = make_engine(pg_url)
    older = engine.connect()
    older_tx = older.begin()
    older.exec_driver_sql("SELECT pg_current_xact_id()")  # its id is taken first
    younger = engine.connect()
    younger_tx = younger.begin()
    append_events(younger, [_event(1)])  # the lower position, the younger transaction
    append_events(older, [_event(2)])  # the higher position, the older transaction
    older_tx.commit()
    older.close()
    with engine.connect() as conn:
        first = read_events(conn)
        assert [e.event.aggregate_id for e in first] == ["ord_2"]
        save_cursor(conn, "test", first[-1].cursor)
        conn.commit()
    younger_tx.commit()
    younger.close()
    with engine.connect() as conn:
        rest = read_events(conn, after=load_cursor(conn, "test"))
    assert [e.event.aggregate_id for e in rest] == ["ord_1"]  # delivered, not skipped
    engine.dispose()


@pytest.mark.postgres
def test_a_long_transaction_in_another_database_does_not_hold_the_consumers_back(
    pg_url: str, pg_server: str
) -> None:
    """Transaction ids are server-wide, but a transaction in another database cannot write this
    outbox: an open one there (another application, another test run) must not stall us."""
    with scratch_database(pg_server, "elsewhere") as other_url:
        other = make_engine(other_url)
        elsewhere = other.connect()
        elsewhere_tx = elsewhere.begin()
        elsewhere.exec_driver_sql("SELECT pg_current_xact_id()")  # holds an id, stays open
        engine = make_engine(pg_url)
        with engine.begin() as conn:
            append_events(conn, [_event(1)])
        with engine.connect() as conn:
            assert [e.event.aggregate_id for e in read_events(conn)] == ["ord_1"]
        elsewhere_tx.rollback()
        elsewhere.close()
        other.dispose()
        engine.dispose()
