"""The Alembic migrations build exactly the schema the code's tables describe, on both stores."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade
from embedfin.db.tables import metadata


def test_migrations_match_the_tables(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)  # a second upgrade is a no-op
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []
