"""The ledger's tables: accounts, immutable transfers, pending state, balance history."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    text,
)

from embedfin.db.tables.metadata import metadata
from embedfin.db.types import U128

accounts = Table(
    "accounts",
    metadata,
    Column("id", U128, primary_key=True),
    Column("ledger", Integer, nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("user_data_128", U128),
    Column("user_data_64", BigInteger, nullable=False),
    Column("user_data_32", Integer, nullable=False),
    Column("debits_pending", BigInteger, nullable=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_pending", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    CheckConstraint(
        "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0"
        " AND credits_posted >= 0",
        name="balances_non_negative",
    ),
    # The ledger checks limits in code; the database refuses an overdraft a second time.
    CheckConstraint(
        "(flags & 2) = 0 OR debits_pending + debits_posted <= credits_posted",
        name="debits_within_credits",
    ),
    CheckConstraint(
        "(flags & 4) = 0 OR credits_pending + credits_posted <= debits_posted",
        name="credits_within_debits",
    ),
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", U128, primary_key=True),
    Column("debit_account_id", U128, nullable=False),
    Column("credit_account_id", U128, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("pending_id", U128),
    Column("user_data_128", U128),
    Column("user_data_64", BigInteger, nullable=False),
    Column("user_data_32", Integer, nullable=False),
    Column("timeout", Integer, nullable=False),
    Column("ledger", Integer, nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    CheckConstraint("amount >= 0", name="amount_non_negative"),
    Index("ix_transfers_debit_account_id_timestamp", "debit_account_id", "timestamp"),
    Index("ix_transfers_credit_account_id_timestamp", "credit_account_id", "timestamp"),
)

#: One row per pending transfer: where it stands. Transfers themselves never change.
pending_transfers = Table(
    "pending_transfers",
    metadata,
    Column("id", U128, primary_key=True),
    Column("status", SmallInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("resolved_by", U128),
    Column("resolved_at", BigInteger),
    Index(
        "ix_pending_transfers_due",
        "expires_at",
        postgresql_where=text("status = 1 AND expires_at > 0"),
        sqlite_where=text("status = 1 AND expires_at > 0"),
    ),
)

account_history = Table(
    "account_history",
    metadata,
    Column("account_id", U128, primary_key=True),
    Column("timestamp", BigInteger, primary_key=True),
    Column("debits_pending", BigInteger, nullable=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_pending", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
)

ledger_meta = Table(
    "ledger_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
