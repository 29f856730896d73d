"""compliance: sanctions and PEP lists, the parties screened against them, and their hits

Revision ID: 0026_aml_screening
Revises: 0025_merchant_risk
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_aml_screening"
down_revision = "0025_merchant_risk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aml_watchlists",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("list_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.BigInteger(), nullable=False),
        sa.Column("loaded_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "list_id", name=op.f("pk_aml_watchlists")),
    )
    op.create_table(
        "aml_watch_entries",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("list_id", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "list_id", "entity_id", name=op.f("pk_aml_watch_entries")
        ),
    )
    op.create_table(
        "aml_parties",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("party_kind", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_enc", sa.Text(), nullable=False),
        sa.Column("birth_date_enc", sa.Text(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("screened_list_id", sa.String(length=40), nullable=True),
        sa.Column("screened_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "party_kind", "party_id", name=op.f("pk_aml_parties")),
    )
    op.create_table(
        "aml_screening_hits",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("hit_id", sa.String(length=40), nullable=False),
        sa.Column("party_kind", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("list_id", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("caption", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "hit_id", name=op.f("pk_aml_screening_hits")),
    )
    op.create_index(
        "ix_aml_screening_hits_party",
        "aml_screening_hits",
        ["tenant", "party_kind", "party_id"],
        unique=False,
    )
    op.create_index(
        "ix_aml_screening_hits_case", "aml_screening_hits", ["tenant", "case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("aml_screening_hits")
    op.drop_table("aml_parties")
    op.drop_table("aml_watch_entries")
    op.drop_table("aml_watchlists")
