"""transparency: the witnesses each log accepts cosignatures from

Revision ID: 0033_log_witnesses
Revises: 0032_aml_stream_typologies
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033_log_witnesses"
down_revision = "0032_aml_stream_typologies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tlog_witnesses",
        sa.Column("log_key", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log_key", "name", name=op.f("pk_tlog_witnesses")),
    )


def downgrade() -> None:
    op.drop_table("tlog_witnesses")
