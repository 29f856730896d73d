"""The Alembic migrations build exactly the schema the code's tables describe, on both stores."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from embedfin.core.events import Event, EventCursor
from embedfin.db.engine import make_engine
from embedfin.db.migrate import alembic_config, upgrade
from embedfin.db.outbox import append_events, load_cursor, read_events
from embedfin.db.scratch import scratch_database
from embedfin.db.tables import metadata


def test_migrations_match_the_tables(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)  # a second upgrade is a no-op
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.postgres
def test_cursors_saved_before_0017_keep_their_place(pg_server: str) -> None:
    """A cursor that was a position becomes (that event's transaction id, position)."""
    with scratch_database(pg_server, "mig17") as url:
        engine = make_engine(url)
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0016_aftersales")
        for n in range(3):
            with engine.begin() as conn:
                append_events(conn, [Event("order_paid", "order", f"o-{n}", {}, n)])
        with engine.begin() as conn:
            second = conn.execute(
                text("SELECT position, tx_id FROM outbox_events ORDER BY position")
            ).all()[1]
            conn.execute(
                text("INSERT INTO event_cursors (consumer, position) VALUES ('hooks', :p)"),
                {"p": second.position},
            )
        upgrade(engine)
        with engine.connect() as conn:
            cursor = load_cursor(conn, "hooks")
            assert cursor == EventCursor(second.tx_id, second.position)
            assert [e.event.aggregate_id for e in read_events(conn, cursor)] == ["o-2"]
        engine.dispose()
