"""The dashboard's sign-in sessions."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from embedfin.db.tables.metadata import metadata

#: Dashboard sign-ins: the cookie holds a random session id (only its SHA-256 is kept); the API
#: key it was opened with is stored encrypted, for the storefront's calls to the API.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("secret", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_dashboard_sessions_expires", "expires_at"),
)
