"""consumers: events parked after too many failures

Revision ID: 0020_parked_events
Revises: 0019_refunds
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_parked_events"
down_revision = "0019_refunds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parked_events",
        sa.Column("consumer", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("tx_id", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("parked_at", sa.BigInteger, nullable=False),
        sa.CheckConstraint("status IN ('parked', 'replay')", name=op.f("ck_parked_events_status")),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_parked_events")),
    )


def downgrade() -> None:
    op.drop_table("parked_events")
