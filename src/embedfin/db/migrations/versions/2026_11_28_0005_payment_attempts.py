"""payments: channel payment attempts

Revision ID: 0005_payment_attempts
Revises: 0004_commerce
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_payment_attempts"
down_revision = "0004_commerce"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_attempts",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("method", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("tried", sa.Text(), nullable=False),
        sa.Column("channel_ref", sa.String(64)),
        sa.Column("decline_code", sa.String(32)),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "request_id", name=op.f("pk_payment_attempts")),
    )
    op.create_index("ix_payment_attempts_status", "payment_attempts", ["status", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_payment_attempts_status", table_name="payment_attempts")
    op.drop_table("payment_attempts")
