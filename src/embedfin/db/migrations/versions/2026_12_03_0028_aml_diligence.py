"""compliance: due diligence — the tenant's pack, verifications, balance spend, KYB reviews

Revision ID: 0028_aml_diligence
Revises: 0027_aml_monitoring
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_aml_diligence"
down_revision = "0027_aml_monitoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aml_diligence",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("pack", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_aml_diligence")),
    )
    op.create_table(
        "aml_verifications",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("face_to_face", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.BigInteger(), nullable=False),
        sa.Column("verified_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "party_id", name=op.f("pk_aml_verifications")),
    )
    op.create_table(
        "aml_balance_spend",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("spent_micros", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "party_id", "currency", "period", name=op.f("pk_aml_balance_spend")
        ),
    )
    op.create_table(
        "aml_kyb",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("legal_name_enc", sa.Text(), nullable=False),
        sa.Column("registration_number", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("owners_enc", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.BigInteger(), nullable=False),
        sa.Column("submitted_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "merchant_id", name=op.f("pk_aml_kyb")),
    )


def downgrade() -> None:
    op.drop_table("aml_kyb")
    op.drop_table("aml_balance_spend")
    op.drop_table("aml_verifications")
    op.drop_table("aml_diligence")
