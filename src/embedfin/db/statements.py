"""Statements both stores spell differently, behind one function each."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    String,
    Table,
    Text,
    TextClause,
    text,
)
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
    if conn.dialect.name == "postgresql":  # every column as one array: see insert_new
        return [
            tuple(row) for row in conn.execute(_unnest_add(table, column), _arrays(table, rows))
        ]
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


def insert_new(conn: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> set[str]:
    """:func:`insert_many_if_absent` for a table keyed by (tenant, id): the ids this call
    inserted. On PostgreSQL one ``INSERT … SELECT FROM unnest(arrays) … ON CONFLICT DO NOTHING
    RETURNING`` — each column sent as one array — which is several times faster than a
    multi-row VALUES with RETURNING; elsewhere :func:`insert_many_if_absent`."""
    if not rows:
        return set()
    if conn.dialect.name != "postgresql":
        return {str(key[-1]) for key in insert_many_if_absent(conn, table, rows)}
    return {str(row[0]) for row in conn.execute(_unnest(table), _arrays(table, rows))}


def _array_type(column: Column[Any]) -> str:
    """The PostgreSQL array type of a column (the types the tables use)."""
    if isinstance(column.type, BigInteger):
        return "bigint[]"
    if isinstance(column.type, Integer):
        return "integer[]"
    if isinstance(column.type, String | Text):
        return "text[]"
    raise TypeError(f"no array type for {column.name} ({column.type})")


def _unnest_select(table: Table) -> str:
    arrays = ", ".join(f"CAST(:a{i} AS {_array_type(c)})" for i, c in enumerate(table.columns))
    names = ", ".join(c.name for c in table.columns)
    return f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})"


@functools.cache
def _unnest(table: Table) -> TextClause:
    key = list(table.primary_key.columns)[-1].name
    return text(f"{_unnest_select(table)} ON CONFLICT DO NOTHING RETURNING {key}")


@functools.cache
def _unnest_add(table: Table, column: str) -> TextClause:
    keys = ", ".join(c.name for c in table.primary_key.columns)
    return text(
        f"{_unnest_select(table)} ON CONFLICT ({keys}) DO UPDATE SET {column} ="
        f" {table.name}.{column} + excluded.{column} RETURNING {keys}, {column}"
    )


def _arrays(table: Table, rows: Sequence[Mapping[str, object]]) -> dict[str, list[object]]:
    return {f"a{i}": [row[c.name] for row in rows] for i, c in enumerate(table.columns)}
