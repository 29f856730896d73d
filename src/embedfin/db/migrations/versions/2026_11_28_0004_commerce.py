"""commerce: merchants, orders, order lines, refunds

Revision ID: 0004_commerce
Revises: 0003_payment_accounts
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_commerce"
down_revision = "0003_payment_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merchants",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("kyc_status", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("settlement_currency", sa.String(3), nullable=False),
        sa.Column("payout_preference", sa.String(4), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "merchant_id", name=op.f("pk_merchants")),
    )
    money = [
        sa.Column(name, sa.BigInteger(), nullable=False)
        for name in ("paid_minor", "refunded_minor", "released_minor", "commission_minor")
    ]
    times = [
        sa.Column(name, sa.BigInteger(), nullable=False)
        for name in ("placed_at", "paid_at", "shipped_at", "completed_at", "closed_at")
    ]
    op.create_table(
        "orders",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("goods_kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        *money,
        sa.Column("frozen", sa.Integer(), nullable=False),
        sa.Column("auto_confirm_at", sa.BigInteger(), nullable=False),
        sa.Column("auto_confirm_left_ns", sa.BigInteger(), nullable=False),
        sa.Column("tracking", sa.String(64), nullable=False),
        *times,
        sa.PrimaryKeyConstraint("tenant", "order_id", name=op.f("pk_orders")),
    )
    op.create_index("ix_orders_auto_confirm", "orders", ["auto_confirm_at"])
    op.create_index("ix_orders_buyer", "orders", ["tenant", "buyer_id"])
    op.create_index("ix_orders_merchant", "orders", ["tenant", "merchant_id"])
    op.create_table(
        "order_lines",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "order_id", "line_no", name=op.f("pk_order_lines")),
    )
    op.create_table(
        "order_refunds",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("after_release", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "request_id", name=op.f("pk_order_refunds")),
    )


def downgrade() -> None:
    op.drop_table("order_refunds")
    op.drop_table("order_lines")
    op.drop_index("ix_orders_merchant", table_name="orders")
    op.drop_index("ix_orders_buyer", table_name="orders")
    op.drop_index("ix_orders_auto_confirm", table_name="orders")
    op.drop_table("orders")
    op.drop_table("merchants")
