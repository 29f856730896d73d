"""The tamper-evident audit log."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from embedfin.db.tables.metadata import metadata

#: Tamper-evident log of privileged actions: each row's hash covers the previous row's hash.
#: ``key_id`` names the audit key whose HMAC-SHA256 ``hash`` is (the secret itself is kept
#: outside the database); NULL marks a legacy row hashed with plain SHA-256 before keying.
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
    Column("key_id", String(32), nullable=True),
    Index("ix_audit_log_tenant", "tenant", "seq"),
)
