"""Alembic environment: runs on the connection embedfin hands over (or the configured URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from embedfin.db.engine import make_engine
from embedfin.db.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with make_engine(context.config.get_main_option("sqlalchemy.url")).connect() as conn:
        _run(conn)
