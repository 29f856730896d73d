"""payments: reconciliation breaks

Revision ID: 0008_recon_breaks
Revises: 0007_fx_quotes
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_recon_breaks"
down_revision = "0007_fx_quotes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recon_breaks",
        sa.Column("break_id", sa.String(40), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("expected", sa.Text(), nullable=False),
        sa.Column("actual", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("resolved_at", sa.BigInteger()),
        sa.PrimaryKeyConstraint("break_id", name=op.f("pk_recon_breaks")),
    )
    op.create_index("ix_recon_breaks_open", "recon_breaks", ["tenant", "status"])


def downgrade() -> None:
    op.drop_index("ix_recon_breaks_open", table_name="recon_breaks")
    op.drop_table("recon_breaks")
