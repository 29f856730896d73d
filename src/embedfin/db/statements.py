"""Statements both stores spell differently, behind one function each."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

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


def insert_many_if_absent(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, object]]
) -> set[tuple[object, ...]]:
    """``insert_if_absent`` of many rows in one statement (SQLAlchemy's insertmanyvalues on
    both stores); the primary keys of the rows this call inserted."""
    if not rows:
        return set()
    statement = _insert_many_if_absent(conn.dialect.name, table)
    return {tuple(row) for row in conn.execute(statement, [dict(r) for r in rows])}


@functools.cache
def _insert_many_if_absent(dialect_name: str, table: Table) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    keys = list(table.primary_key.columns)
    statement: Insert = dialect.insert(table).on_conflict_do_nothing().returning(*keys)
    return statement


def insert_many_ignoring_present(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, object]]
) -> None:
    """Insert many rows, skipping any whose key is present (``ON CONFLICT DO NOTHING``), as one
    executemany without RETURNING: the fastest bulk insert both stores offer when the caller
    need not know which rows were new."""
    if rows:
        conn.execute(_insert_ignoring(conn.dialect.name, table), [dict(r) for r in rows])


@functools.cache
def _insert_ignoring(dialect_name: str, table: Table) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement: Insert = dialect.insert(table).on_conflict_do_nothing()
    return statement


def add_many(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, object]], column: str
) -> list[tuple[object, ...]]:
    """Add each row's ``column`` to the stored row with its key, or insert the row, in one
    ``INSERT … ON CONFLICT DO UPDATE SET column = column + excluded.column … RETURNING``
    (SQLAlchemy's insertmanyvalues on both stores); each row's key and new ``column``."""
    if not rows:
        return []
    statement = _add(conn.dialect.name, table, column)
    return [tuple(row) for row in conn.execute(statement, [dict(r) for r in rows])]


@functools.cache
def _add(dialect_name: str, table: Table, column: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table)
    keys = list(table.primary_key.columns)
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=keys, set_={column: table.c[column] + statement.excluded[column]}
    ).returning(*keys, table.c[column])
    return upsert
