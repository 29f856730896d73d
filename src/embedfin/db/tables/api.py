"""The open API's tables: tenants, API keys, stored Idempotency-Key answers, webhooks."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from embedfin.db.tables.metadata import metadata

tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

#: API keys: only a SHA-256 of the secret is kept; the secret is shown once, at creation.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("merchant_id", String(64)),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(24), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

#: The first response to a POST with an Idempotency-Key, replayed on retry; while a command that
#: talks to a channel runs, its claim (``state`` running, the ``owner`` and its lease).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("api_key_id", String(40), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer),
    Column("response_body", Text),
    Column("state", String(8), nullable=False, server_default="done"),
    Column("owner", String(32)),
    Column("lease_until", BigInteger),
    Column("created_at", BigInteger, nullable=False, index=True),
    CheckConstraint(
        "state = 'running' OR (status_code IS NOT NULL AND response_body IS NOT NULL)",
        name="answered",
    ),
    CheckConstraint("state IN ('running', 'done')", name="state"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("endpoint_id", String(40), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("event_types", Text, nullable=False),
    Column("secrets_enc", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(40), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("endpoint_id", String(40), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("endpoint_id", "event_id"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

#: The delivery log: one row per HTTP attempt.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", String(40), primary_key=True),
    Column("attempt_no", Integer, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
)
