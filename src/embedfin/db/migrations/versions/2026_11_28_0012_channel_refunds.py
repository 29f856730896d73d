"""payments: refunds back through the channel that took the payment

Revision ID: 0012_channel_refunds
Revises: 0011_api_security
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_channel_refunds"
down_revision = "0011_api_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_refunds",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(255), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("wallet_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel_ref", sa.String(64)),
        sa.Column("decline_code", sa.String(32)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Index("ix_channel_refunds_order", "tenant", "order_id"),
    )


def downgrade() -> None:
    op.drop_table("channel_refunds")
