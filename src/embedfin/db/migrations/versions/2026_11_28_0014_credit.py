"""credit: the model registry and recorded decisions

Revision ID: 0014_credit
Revises: 0013_loans
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_credit"
down_revision = "0013_loans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_models",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("data_window", sa.String(64), nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("artifact", sa.Text, nullable=False),
        sa.Column("reference_scores", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )

    op.create_table(
        "credit_decisions",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("decision_id", sa.String(64), primary_key=True),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("limit_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("score", sa.String(16), nullable=False),
        sa.Column("probability_of_default", sa.String(16), nullable=False),
        sa.Column("plans", sa.Text, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("funder_id", sa.String(64)),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("decided_at", sa.BigInteger, nullable=False),
        sa.Index("ix_credit_decisions_buyer", "tenant", "buyer_id"),
    )


def downgrade() -> None:
    for name in ("credit_decisions", "credit_models"):
        op.drop_table(name)
