"""payments: e-invoices

Revision ID: 0009_invoices
Revises: 0008_recon_breaks
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_invoices"
down_revision = "0008_recon_breaks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("payment_reference", sa.String(128), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "invoice_id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("tenant", "order_id", name="uq_invoices_tenant_order"),
    )


def downgrade() -> None:
    op.drop_table("invoices")
