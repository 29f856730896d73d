"""The transparency log's tables (``transparency/``).

``tlog_logs``: one row per log — a tenant's ``scf`` log, the platform's ``audit`` log — with its
small integer ``log_key`` (the nodes' rows repeat it, not the names), origin and size.
``tlog_entries``: what was appended, in order (``body`` is the leaf's data as UTF-8 text).
``tlog_nodes``: every *complete* node of each tree (RFC 9162 hashes; level 0 holds the leaf
hashes), written once when its last leaf is appended, so any proof is a handful of reads.
``tlog_checkpoints``: the signed tree heads (C2SP checkpoint notes), one per size signed, and
the witnesses' cosignatures beside them in ``tlog_cosignatures``.
``tlog_witnesses``: the witnesses each log accepts cosignatures from — a name and an Ed25519
public key each (their note verifier key); at most one key per name.

Entries and nodes are immutable in the database itself (triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from embedfin.db.tables.metadata import metadata

tlog_logs = Table(
    "tlog_logs",
    metadata,
    Column("log_key", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("log_id", String(32), nullable=False),
    Column("origin", String(200), nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("tenant", "log_id", name="uq_tlog_logs_tenant_log"),
)

tlog_entries = Table(
    "tlog_entries",
    metadata,
    Column("log_key", Integer, primary_key=True),
    Column("idx", BigInteger, primary_key=True),
    Column("body", Text, nullable=False),
    Column("appended_at", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

tlog_nodes = Table(
    "tlog_nodes",
    metadata,
    Column("log_key", Integer, primary_key=True),
    Column("level", SmallInteger, primary_key=True),
    Column("idx", BigInteger, primary_key=True),
    Column("hash", LargeBinary(32), nullable=False),
    sqlite_with_rowid=False,
)

tlog_checkpoints = Table(
    "tlog_checkpoints",
    metadata,
    Column("log_key", Integer, primary_key=True),
    Column("size", BigInteger, primary_key=True),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", BigInteger, nullable=False),
)

tlog_cosignatures = Table(
    "tlog_cosignatures",
    metadata,
    Column("log_key", Integer, primary_key=True),
    Column("size", BigInteger, primary_key=True),
    Column("witness", String(200), primary_key=True),
    Column("signature", Text, nullable=False),
    Column("signed_at", BigInteger, nullable=False),
)

tlog_witnesses = Table(
    "tlog_witnesses",
    metadata,
    Column("log_key", Integer, primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("added_at", BigInteger, nullable=False),
)
