"""risk: fraud models per tenant (champion and challengers)

Revision ID: 0024_risk_models
Revises: 0023_risk
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_risk_models"
down_revision = "0023_risk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_models",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("artifact", sa.Text(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "model_id", name=op.f("pk_risk_models")),
    )
    op.create_index("ix_risk_models_status", "risk_models", ["tenant", "status"], unique=False)


def downgrade() -> None:
    op.drop_table("risk_models")
