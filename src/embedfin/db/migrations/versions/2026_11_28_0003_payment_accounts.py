"""payments: account registry and wallet movements

Revision ID: 0003_payment_accounts
Revises: 0002_outbox
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from embedfin.db.types import U128

revision = "0003_payment_accounts"
down_revision = "0002_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_accounts",
        sa.Column("account_id", U128(), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_payment_accounts")),
    )
    op.create_index(
        "ix_payment_accounts_owner", "payment_accounts", ["tenant", "owner_kind", "owner_id"]
    )
    op.create_table(
        "wallet_movements",
        sa.Column("transfer_id", U128(), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("bank_token", sa.String(64)),
        sa.Column("bank_last4", sa.String(4)),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_wallet_movements")),
        sa.UniqueConstraint("tenant", "request_id", name="uq_wallet_movements_tenant_request"),
    )
    op.create_index(
        "ix_wallet_movements_owner_day",
        "wallet_movements",
        ["tenant", "owner_id", "kind", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_wallet_movements_owner_day", table_name="wallet_movements")
    op.drop_table("wallet_movements")
    op.drop_index("ix_payment_accounts_owner", table_name="payment_accounts")
    op.drop_table("payment_accounts")
