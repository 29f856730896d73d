"""payments: merchant bank accounts and payouts

Revision ID: 0006_payouts
Revises: 0005_payment_attempts
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from embedfin.db.types import U128

revision = "0006_payouts"
down_revision = "0005_payment_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merchant_bank_accounts",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("bank_token", sa.String(64), nullable=False),
        sa.Column("bank_last4", sa.String(4), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "merchant_id", name=op.f("pk_merchant_bank_accounts")),
    )
    op.create_table(
        "payouts",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("transfer_id", U128(), nullable=False),
        sa.Column("bank_last4", sa.String(4), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "batch_id", "merchant_id", "currency", name=op.f("pk_payouts")
        ),
    )


def downgrade() -> None:
    op.drop_table("payouts")
    op.drop_table("merchant_bank_accounts")
