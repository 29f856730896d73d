"""credit: the feature events table fed from the outbox

Revision ID: 0015_credit_features
Revises: 0014_credit
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_credit_features"
down_revision = "0014_credit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_feature_events",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at_ns", sa.BigInteger, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("on_time", sa.Integer, nullable=False),
        sa.Index("ix_credit_feature_events_buyer", "tenant", "buyer_id", "at_ns"),
    )


def downgrade() -> None:
    op.drop_table("credit_feature_events")
