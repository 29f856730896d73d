"""lending: loans, their installments and money events

Revision ID: 0013_loans
Revises: 0012_channel_refunds
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_loans"
down_revision = "0012_channel_refunds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loans",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("loan_id", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("funder_id", sa.String(64), nullable=False),
        sa.Column("plan_code", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("principal_minor", sa.BigInteger, nullable=False),
        sa.Column("annual_rate", sa.String(16), nullable=False),
        sa.Column("start_date", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("principal_outstanding", sa.BigInteger, nullable=False),
        sa.Column("interest_due", sa.BigInteger, nullable=False),
        sa.Column("fees_due", sa.BigInteger, nullable=False),
        sa.Column("repaid_minor", sa.BigInteger, nullable=False),
        sa.Column("accrued_through", sa.String(10), nullable=False),
        sa.Column("accrual_carry", sa.String(40), nullable=False),
        sa.Column("written_off_minor", sa.BigInteger, nullable=False),
        sa.Column("line_id", sa.String(64)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("tenant", "order_id"),
        sa.Index("ix_loans_status", "tenant", "status"),
    )

    op.create_table(
        "loan_installments",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("loan_id", sa.String(64), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("due_date", sa.String(10), nullable=False),
        sa.Column("principal_minor", sa.BigInteger, nullable=False),
        sa.Column("interest_minor", sa.BigInteger, nullable=False),
        sa.Column("fee_minor", sa.BigInteger, nullable=False),
        sa.Column("late_fee_minor", sa.BigInteger, nullable=False),
        sa.Column("due_reported", sa.Integer, nullable=False, server_default="0"),
    )

    op.create_table(
        "loan_events",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(255), primary_key=True),
        sa.Column("loan_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("fees_minor", sa.BigInteger, nullable=False),
        sa.Column("interest_minor", sa.BigInteger, nullable=False),
        sa.Column("principal_minor", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Index("ix_loan_events_loan", "tenant", "loan_id"),
    )


def downgrade() -> None:
    for name in ("loan_events", "loan_installments", "loans"):
        op.drop_table(name)
