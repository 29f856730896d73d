"""Statements both stores spell differently, behind one function each."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def insert_if_absent(conn: Connection, table: Table, values: Mapping[str, object]) -> bool:
    """Insert the row unless one with the same key exists; whether this call inserted it.

    ``INSERT … ON CONFLICT DO NOTHING`` on both stores: on PostgreSQL a concurrent insert of the
    same key waits for the other transaction and then does nothing if it committed, so two
    processes can never both insert (and never fail with a unique violation)."""
    statement = _insert_if_absent(conn.dialect.name, table)
    return conn.execute(statement, dict(values)).first() is not None


@functools.cache
def _insert_if_absent(dialect_name: str, table: Table) -> Insert:
    """Built once per store and table, its values bound at execution: a statement object built
    per call spends more time on its cache key than the insert itself takes."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    # RETURNING tells what happened on both stores (psycopg reports no rowcount here)
    statement: Insert = dialect.insert(table).on_conflict_do_nothing().returning(key)
    return statement
