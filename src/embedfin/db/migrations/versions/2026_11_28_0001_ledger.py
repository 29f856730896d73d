"""ledger: accounts, transfers, pending transfers, balance history, meta

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from embedfin.db.types import U128

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", U128(), primary_key=True),
        sa.Column("ledger", sa.Integer(), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("user_data_128", U128()),
        sa.Column("user_data_64", sa.BigInteger(), nullable=False),
        sa.Column("user_data_32", sa.Integer(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0"
            " AND credits_posted >= 0",
            name=op.f("ck_accounts_balances_non_negative"),
        ),
        sa.CheckConstraint(
            "(flags & 2) = 0 OR debits_pending + debits_posted <= credits_posted",
            name=op.f("ck_accounts_debits_within_credits"),
        ),
        sa.CheckConstraint(
            "(flags & 4) = 0 OR credits_pending + credits_posted <= debits_posted",
            name=op.f("ck_accounts_credits_within_debits"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Balances are rewritten on every batch: leave room on each page so PostgreSQL can
        # update in place (HOT) without touching the primary-key index.
        op.execute("ALTER TABLE accounts SET (fillfactor = 70)")
    op.create_table(
        "transfers",
        sa.Column("id", U128(), primary_key=True),
        sa.Column("debit_account_id", U128(), nullable=False),
        sa.Column("credit_account_id", U128(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("pending_id", U128()),
        sa.Column("user_data_128", U128()),
        sa.Column("user_data_64", sa.BigInteger(), nullable=False),
        sa.Column("user_data_32", sa.Integer(), nullable=False),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("ledger", sa.Integer(), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_transfers_amount_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    op.create_index(
        "ix_transfers_debit_account_id_timestamp",
        "transfers",
        ["debit_account_id", "timestamp"],
    )
    op.create_index(
        "ix_transfers_credit_account_id_timestamp",
        "transfers",
        ["credit_account_id", "timestamp"],
    )
    op.create_table(
        "pending_transfers",
        sa.Column("id", U128(), primary_key=True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("resolved_by", U128()),
        sa.Column("resolved_at", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_transfers")),
    )
    op.create_index(
        "ix_pending_transfers_due",
        "pending_transfers",
        ["expires_at"],
        postgresql_where=sa.text("status = 1 AND expires_at > 0"),
        sqlite_where=sa.text("status = 1 AND expires_at > 0"),
    )
    op.create_table(
        "account_history",
        sa.Column("account_id", U128(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "timestamp", name=op.f("pk_account_history")),
    )
    op.create_table(
        "ledger_meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ledger_meta")),
    )
    op.bulk_insert(
        sa.table("ledger_meta", sa.column("key", sa.String), sa.column("value", sa.BigInteger)),
        [{"key": "last_timestamp", "value": 0}],
    )


def downgrade() -> None:
    op.drop_table("ledger_meta")
    op.drop_table("account_history")
    op.drop_index("ix_pending_transfers_due", table_name="pending_transfers")
    op.drop_table("pending_transfers")
    op.drop_index("ix_transfers_credit_account_id_timestamp", table_name="transfers")
    op.drop_index("ix_transfers_debit_account_id_timestamp", table_name="transfers")
    op.drop_table("transfers")
    op.drop_table("accounts")
