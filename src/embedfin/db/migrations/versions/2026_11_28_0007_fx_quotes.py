"""payments: locked FX quotes

Revision ID: 0007_fx_quotes
Revises: 0006_payouts
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_fx_quotes"
down_revision = "0006_payouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fx_quotes",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("quote_id", sa.String(64), nullable=False),
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("sell_minor", sa.BigInteger(), nullable=False),
        sa.Column("sell_currency", sa.String(3), nullable=False),
        sa.Column("buy_minor", sa.BigInteger(), nullable=False),
        sa.Column("buy_currency", sa.String(3), nullable=False),
        sa.Column("rate", sa.String(40), nullable=False),
        sa.Column("mid_rate", sa.String(40), nullable=False),
        sa.Column("spread_bp", sa.Integer(), nullable=False),
        sa.Column("reference_date", sa.String(10), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger()),
        sa.PrimaryKeyConstraint("tenant", "quote_id", name=op.f("pk_fx_quotes")),
    )


def downgrade() -> None:
    op.drop_table("fx_quotes")
