"""payments: the wallet part of a split-tender payment attempt

Revision ID: 0010_split_tender
Revises: 0009_invoices
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_split_tender"
down_revision = "0009_invoices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_attempts") as batch:
        batch.add_column(
            sa.Column("wallet_minor", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_attempts") as batch:
        batch.drop_column("wallet_minor")
