"""credit: the feature events table fed from the outbox; revolving lines and virtual cards

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
    op.create_table(
        "credit_preapprovals",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("buyer_id", sa.String(64), primary_key=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("limit_minor", sa.BigInteger, nullable=False),
        sa.Column("previous_limit_minor", sa.BigInteger, nullable=False),
        sa.Column("score", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("computed_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "credit_lines",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("line_id", sa.String(64), primary_key=True),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("funder_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("limit_minor", sa.BigInteger, nullable=False),
        sa.Column("card_token", sa.String(64), nullable=False, unique=True),
        sa.Column("card_last4", sa.String(4), nullable=False),
        sa.Column("card_expiry", sa.String(7), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("credit_lines")
    op.drop_table("credit_preapprovals")
    op.drop_table("credit_feature_events")
