"""Statements both stores spell differently, behind one function each."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_if_absent(conn: Connection, table: Table, values: Mapping[str, object]) -> bool:
    """Insert the row unless one with the same key exists; whether this call inserted it.

    ``INSERT … ON CONFLICT DO NOTHING`` on both stores: on PostgreSQL a concurrent insert of the
    same key waits for the other transaction and then does nothing if it committed, so two
    processes can never both insert (and never fail with a unique violation)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    statement = dialect.insert(table).values(dict(values)).on_conflict_do_nothing()
    # RETURNING tells what happened on both stores (psycopg reports no rowcount here)
    return conn.execute(statement.returning(key)).first() is not None
