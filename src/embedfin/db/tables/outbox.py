"""The transactional outbox, the consumers' cursors and their parked events."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Integer, String, Table, Text

from embedfin.db.tables.metadata import metadata

#: The transactional outbox: every committed command's domain events, in commit order.
outbox_events = Table(
    "outbox_events",
    metadata,
    Column(
        "position",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("aggregate", String(32), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("tenant_id", String(64)),
    Column("payload", Text, nullable=False),
    Column("occurred_at", BigInteger, nullable=False),
    Column("tx_id", BigInteger),
    Index("ix_outbox_events_aggregate", "aggregate", "aggregate_id"),
    Index("ix_outbox_events_tx_position", "tx_id", "position"),
)

#: Where each consumer has read to: the last event's position and (PostgreSQL) transaction id.
event_cursors = Table(
    "event_cursors",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("tx_id", BigInteger, nullable=False, server_default="0"),
)

#: Events a consumer failed on too often, set aside with the error so that it could move on
#: (``status``: parked, or replay once someone asked for another try).
parked_events = Table(
    "parked_events",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("tx_id", BigInteger, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("parked_at", BigInteger, nullable=False),
    CheckConstraint("status IN ('parked', 'replay')", name="status"),
)
