"""commerce: deliveries, returns and reviews; lending: collections contacts and complaints

Revision ID: 0016_aftersales
Revises: 0015_credit_features
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_aftersales"
down_revision = "0015_credit_features"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_deliveries",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("delivered_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "order_returns",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("requested_at", sa.BigInteger, nullable=False),
        sa.Column("resolved_at", sa.BigInteger),
    )
    op.create_table(
        "reviews",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("rating", sa.SmallInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("posted_at", sa.BigInteger, nullable=False),
        sa.Index("ix_reviews_merchant", "tenant", "merchant_id"),
    )
    op.create_table(
        "collection_contacts",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("contact_id", sa.String(64), primary_key=True),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("made", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("at_ns", sa.BigInteger, nullable=False),
        sa.Index("ix_collection_contacts_buyer", "tenant", "buyer_id", "at_ns"),
    )
    op.create_table(
        "complaints",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("complaint_id", sa.String(64), primary_key=True),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("opened_at", sa.BigInteger, nullable=False),
        sa.Column("resolved_at", sa.BigInteger),
    )


def downgrade() -> None:
    for name in (
        "complaints",
        "collection_contacts",
        "reviews",
        "order_returns",
        "order_deliveries",
    ):
        op.drop_table(name)
