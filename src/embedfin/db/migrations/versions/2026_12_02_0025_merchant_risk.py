"""risk: merchant scores and reserve policies; payments: the rolling reserve's holds

Revision ID: 0025_merchant_risk
Revises: 0024_risk_models
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_merchant_risk"
down_revision = "0024_risk_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_merchant_scores",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("scored_at", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("reserve_bp", sa.Integer(), nullable=False),
        sa.Column("hold_days", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("signals", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "merchant_id", "scored_at", name=op.f("pk_risk_merchant_scores")
        ),
    )
    op.create_index(
        "ix_risk_merchant_scores_at", "risk_merchant_scores", ["tenant", "scored_at"], unique=False
    )
    op.create_table(
        "risk_merchant_policies",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.BigInteger(), nullable=False),
        sa.Column("reserve_bp", sa.Integer(), nullable=True),
        sa.Column("hold_days", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("set_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "merchant_id", "set_at", name=op.f("pk_risk_merchant_policies")
        ),
    )
    op.create_table(
        "reserve_holds",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("hold_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("drawn_minor", sa.BigInteger(), nullable=False),
        sa.Column("reserve_bp", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("held_at", sa.BigInteger(), nullable=False),
        sa.Column("release_at", sa.BigInteger(), nullable=False),
        sa.Column("released_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "hold_id", name=op.f("pk_reserve_holds")),
    )
    op.create_index(
        "ix_reserve_holds_merchant",
        "reserve_holds",
        ["tenant", "merchant_id", "currency", "released_at"],
        unique=False,
    )
    op.create_index(
        "ix_reserve_holds_due",
        "reserve_holds",
        ["tenant", "released_at", "release_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("reserve_holds")
    op.drop_table("risk_merchant_policies")
    op.drop_table("risk_merchant_scores")
