"""Payments' tables: account ownership, wallet movements, channel attempts, refunds, payouts,
FX quotes, reconciliation breaks, invoices."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from embedfin.db.tables.metadata import metadata
from embedfin.db.types import U128

#: Which ledger account belongs to whom (payments' chart of accounts; see payments/chart.py).
payment_accounts = Table(
    "payment_accounts",
    metadata,
    Column("account_id", U128, primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("owner_kind", String(16), nullable=False),
    Column("owner_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("code", Integer, nullable=False),
    Index("ix_payment_accounts_owner", "tenant", "owner_kind", "owner_id"),
)

#: Wallet top-ups and withdrawals as the customer asked for them (the money is in the ledger).
wallet_movements = Table(
    "wallet_movements",
    metadata,
    Column("transfer_id", U128, primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("request_id", String(255), nullable=False),
    Column("owner_kind", String(16), nullable=False),
    Column("owner_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", String(32)),
    Column("bank_token", String(512)),
    Column("bank_last4", String(4)),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("tenant", "request_id", name="uq_wallet_movements_tenant_request"),
    Index("ix_wallet_movements_owner_day", "tenant", "owner_id", "kind", "created_at"),
)

#: One row per refund request, whatever its reason (refund, cancel, dispute, return, chargeback):
#: what went back to the loan, the channel and the wallet (payments/refunds/service.py). A refund
#: through a channel is recorded ("started") before the channel is called and booked once it
#: approves.
refunds = Table(
    "refunds",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("request_id", String(255), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("reason", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("loan_minor", BigInteger, nullable=False),
    Column("channel_minor", BigInteger, nullable=False),
    Column("wallet_minor", BigInteger, nullable=False),
    Column("channel", String(32)),
    Column("loan_id", String(64)),
    Column("status", String(16), nullable=False),
    Column("after_release", Integer, nullable=False),
    Column("channel_ref", String(64)),
    Column("decline_code", String(32)),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    CheckConstraint(
        "amount_minor = loan_minor + channel_minor + wallet_minor"
        " AND loan_minor >= 0 AND channel_minor >= 0 AND wallet_minor >= 0",
        name="split",
    ),
    Index("ix_refunds_order", "tenant", "order_id"),
)

#: One row per channel payment request: written before any channel is called, so a crash
#: between the channel's answer and the booking can be recovered from the channel's state.
payment_attempts = Table(
    "payment_attempts",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("request_id", String(255), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("wallet_minor", BigInteger, nullable=False, server_default="0"),
    Column("currency", String(3), nullable=False),
    Column("method", String(16)),
    Column("status", String(16), nullable=False),
    Column("channel", String(32)),
    Column("tried", Text, nullable=False),
    Column("channel_ref", String(64)),
    Column("decline_code", String(32)),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_payment_attempts_status", "status", "updated_at"),
)

merchant_bank_accounts = Table(
    "merchant_bank_accounts",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("merchant_id", String(64), primary_key=True),
    Column("bank_token", String(512), nullable=False),
    Column("bank_last4", String(4), nullable=False),
)

#: Money sent to merchants' banks, one row per merchant and currency in each payout batch.
payouts = Table(
    "payouts",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("batch_id", String(64), primary_key=True),
    Column("merchant_id", String(64), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("transfer_id", U128, nullable=False),
    Column("bank_last4", String(4), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

#: The rolling reserve: a share of a risky merchant's T+1 settlement held until ``release_at``;
#: ``drawn_minor`` of it paid refunds after release; released by the first settlement run after.
reserve_holds = Table(
    "reserve_holds",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("hold_id", String(40), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("drawn_minor", BigInteger, nullable=False),
    Column("reserve_bp", Integer, nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("held_at", BigInteger, nullable=False),
    Column("release_at", BigInteger, nullable=False),
    Column("released_at", BigInteger),
    Index("ix_reserve_holds_merchant", "tenant", "merchant_id", "currency", "released_at"),
    Index("ix_reserve_holds_due", "tenant", "released_at", "release_at"),
)

#: Locked FX quotes: a conversion must use one before it expires, once.
fx_quotes = Table(
    "fx_quotes",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("quote_id", String(64), primary_key=True),
    Column("owner_kind", String(16), nullable=False),
    Column("owner_id", String(64), nullable=False),
    Column("sell_minor", BigInteger, nullable=False),
    Column("sell_currency", String(3), nullable=False),
    Column("buy_minor", BigInteger, nullable=False),
    Column("buy_currency", String(3), nullable=False),
    Column("rate", String(40), nullable=False),
    Column("mid_rate", String(40), nullable=False),
    Column("spread_bp", Integer, nullable=False),
    Column("reference_date", String(10), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)

#: Differences found between a channel's settlement file and our books, until resolved.
recon_breaks = Table(
    "recon_breaks",
    metadata,
    Column("break_id", String(40), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("expected", Text, nullable=False),
    Column("actual", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("note", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("resolved_at", BigInteger),
    Index("ix_recon_breaks_open", "tenant", "status"),
)

#: E-invoices (EN 16931, UN/CEFACT CII as Factur-X), one per released order.
invoices = Table(
    "invoices",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("invoice_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("merchant_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("payment_reference", String(128), nullable=False),
    Column("xml", Text, nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    UniqueConstraint("tenant", "order_id", name="uq_invoices_tenant_order"),
)
