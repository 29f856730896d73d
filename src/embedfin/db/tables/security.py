"""The tamper-evident audit log."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from embedfin.db.tables.metadata import metadata

#: Tamper-evident log of privileged actions: each row's hash covers the previous row's hash.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("tenant", String(64), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_tenant", "tenant", "seq"),
)
