"""scf: receivable certificates and order financing — parties, certified payables,
certificates, events, purchase orders and their advances

Revision ID: 0030_scf_certificates
Revises: 0029_transparency_log
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030_scf_certificates"
down_revision = "0029_transparency_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scf_certificates",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("certificate_id", sa.String(length=64), nullable=False),
        sa.Column("payable_id", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("holder_id", sa.String(length=64), nullable=False),
        sa.Column("holder_role", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("face_minor", sa.BigInteger(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("made_by", sa.String(length=255), nullable=False),
        sa.Column("retired_by", sa.String(length=255), nullable=True),
        sa.Column("made_on", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "certificate_id", name=op.f("pk_scf_certificates")),
    )
    with op.batch_alter_table("scf_certificates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scf_certificates_holder", ["tenant", "holder_id", "status"], unique=False
        )
        batch_op.create_index("ix_scf_certificates_payable", ["tenant", "payable_id"], unique=False)

    op.create_table(
        "scf_events",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payable_id", sa.String(length=64), nullable=False),
        sa.Column("certificate_id", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("on_date", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "request_id", name=op.f("pk_scf_events")),
    )
    with op.batch_alter_table("scf_events", schema=None) as batch_op:
        batch_op.create_index("ix_scf_events_payable", ["tenant", "payable_id"], unique=False)

    op.create_table(
        "scf_parties",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("discount_rate", sa.String(length=16), nullable=True),
        sa.Column("overdue_rate", sa.String(length=16), nullable=True),
        sa.Column("day_basis", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "party_id", name=op.f("pk_scf_parties")),
    )
    op.create_table(
        "scf_payables",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("payable_id", sa.String(length=64), nullable=False),
        sa.Column("core_id", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.String(length=64), nullable=False),
        sa.Column("payable_ref", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("face_minor", sa.BigInteger(), nullable=False),
        sa.Column("issued_on", sa.String(length=10), nullable=False),
        sa.Column("matures_on", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("overdue_since", sa.String(length=10), nullable=True),
        sa.Column("settled_on", sa.String(length=10), nullable=True),
        sa.Column("late_interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "payable_id", name=op.f("pk_scf_payables")),
        sa.UniqueConstraint("tenant", "core_id", "payable_ref", name="uq_scf_payables_ref"),
    )
    with op.batch_alter_table("scf_payables", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scf_payables_maturity", ["tenant", "status", "matures_on"], unique=False
        )

    op.create_table(
        "scf_purchase_orders",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("po_id", sa.String(length=64), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.String(length=64), nullable=False),
        sa.Column("po_ref", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("placed_on", sa.String(length=10), nullable=False),
        sa.Column("due_on", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_on", sa.String(length=10), nullable=True),
        sa.Column("paid_on", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "po_id", name=op.f("pk_scf_purchase_orders")),
        sa.UniqueConstraint("tenant", "buyer_id", "po_ref", name="uq_scf_purchase_orders_ref"),
    )
    op.create_table(
        "scf_advances",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("po_id", sa.String(length=64), nullable=False),
        sa.Column("funder_id", sa.String(length=64), nullable=False),
        sa.Column("advance_bp", sa.SmallInteger(), nullable=False),
        sa.Column("fee_bp", sa.SmallInteger(), nullable=False),
        sa.Column("advance_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("made_on", sa.String(length=10), nullable=False),
        sa.Column("repaid_on", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "po_id", name=op.f("pk_scf_advances")),
    )


def downgrade() -> None:
    op.drop_table("scf_advances")
    op.drop_table("scf_purchase_orders")
    with op.batch_alter_table("scf_payables", schema=None) as batch_op:
        batch_op.drop_index("ix_scf_payables_maturity")

    op.drop_table("scf_payables")
    op.drop_table("scf_parties")
    with op.batch_alter_table("scf_events", schema=None) as batch_op:
        batch_op.drop_index("ix_scf_events_payable")

    op.drop_table("scf_events")
    with op.batch_alter_table("scf_certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_scf_certificates_payable")
        batch_op.drop_index("ix_scf_certificates_holder")

    op.drop_table("scf_certificates")
