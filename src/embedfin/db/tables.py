"""All tables, in one SQLAlchemy Core metadata (Alembic's naming convention).

Money columns are BIGINT minor units; timestamps of the ledger are BIGINT nanoseconds (UTC).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from embedfin.db.types import U128

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

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

#: The transactional outbox: every committed command's domain events, in commit order.
outbox_events = Table(
    "outbox_events",
    metadata,
    Column(
        "position",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("aggregate", String(32), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("tenant_id", String(64)),
    Column("payload", Text, nullable=False),
    Column("occurred_at", BigInteger, nullable=False),
    Column("tx_id", BigInteger),
    Index("ix_outbox_events_aggregate", "aggregate", "aggregate_id"),
    Index("ix_outbox_events_tx_position", "tx_id", "position"),
)

#: Where each consumer has read to: the last event's position and (PostgreSQL) transaction id.
event_cursors = Table(
    "event_cursors",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("tx_id", BigInteger, nullable=False, server_default="0"),
)

#: Events a consumer failed on too often, set aside with the error so that it could move on
#: (``status``: parked, or replay once someone asked for another try).
parked_events = Table(
    "parked_events",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("tx_id", BigInteger, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("parked_at", BigInteger, nullable=False),
    CheckConstraint("status IN ('parked', 'replay')", name="status"),
)

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

merchants = Table(
    "merchants",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("merchant_id", String(64), primary_key=True),
    Column("kyc_status", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("country", String(2), nullable=False),
    Column("settlement_currency", String(3), nullable=False),
    Column("payout_preference", String(4), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("order_id", String(64), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("merchant_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("category", String(32), nullable=False),
    Column("goods_kind", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("paid_minor", BigInteger, nullable=False),
    Column("refunded_minor", BigInteger, nullable=False),
    Column("released_minor", BigInteger, nullable=False),
    Column("commission_minor", BigInteger, nullable=False),
    Column("frozen", Integer, nullable=False),
    Column("auto_confirm_at", BigInteger, nullable=False),
    Column("auto_confirm_left_ns", BigInteger, nullable=False),
    Column("tracking", String(64), nullable=False),
    Column("placed_at", BigInteger, nullable=False),
    Column("paid_at", BigInteger, nullable=False),
    Column("shipped_at", BigInteger, nullable=False),
    Column("completed_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger, nullable=False),
    Index("ix_orders_auto_confirm", "auto_confirm_at"),
    Index("ix_orders_buyer", "tenant", "buyer_id"),
    Index("ix_orders_merchant", "tenant", "merchant_id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("order_id", String(64), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
)

#: One row per refund request, whatever its reason (refund, cancel, dispute, return, chargeback):
#: what went back to the loan, the channel and the wallet (payments/refunds.py). A refund through
#: a channel is recorded ("started") before the channel is called and booked once it approves.
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


# --- open API, tenants and security --------------------------------------------------------------
tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

#: API keys: only a SHA-256 of the secret is kept; the secret is shown once, at creation.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("merchant_id", String(64)),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(24), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

#: The first response to a POST with an Idempotency-Key, replayed on retry.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("api_key_id", String(40), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False, index=True),
)

#: Buyers; their personal data is encrypted field by field (``security.crypto``).
customers = Table(
    "customers",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("name_enc", Text, nullable=False),
    Column("phone_enc", Text),
    Column("email_enc", Text),
    Column("created_at", BigInteger, nullable=False),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("endpoint_id", String(40), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("event_types", Text, nullable=False),
    Column("secrets_enc", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(40), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("endpoint_id", String(40), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("endpoint_id", "event_id"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

#: The delivery log: one row per HTTP attempt.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", String(40), primary_key=True),
    Column("attempt_no", Integer, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
)

#: Tamper-evident log of privileged actions: each row's hash covers the previous row's hash.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("tenant", String(64), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_tenant", "tenant", "seq"),
)


#: Refunds that go back through the channel that took the payment (card, e-wallet, …).
# --- lending -------------------------------------------------------------------------------------
loans = Table(
    "loans",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("loan_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False),
    Column("buyer_id", String(64), nullable=False),
    Column("funder_id", String(64), nullable=False),
    Column("plan_code", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("principal_minor", BigInteger, nullable=False),
    Column("annual_rate", String(16), nullable=False),
    Column("start_date", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("principal_outstanding", BigInteger, nullable=False),
    Column("interest_due", BigInteger, nullable=False),
    Column("fees_due", BigInteger, nullable=False),
    Column("repaid_minor", BigInteger, nullable=False),
    Column("accrued_through", String(10), nullable=False),
    Column("accrual_carry", String(40), nullable=False),
    Column("written_off_minor", BigInteger, nullable=False),
    Column("line_id", String(64)),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("tenant", "order_id"),
    Index("ix_loans_status", "tenant", "status"),
)

loan_installments = Table(
    "loan_installments",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("loan_id", String(64), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("due_date", String(10), nullable=False),
    Column("principal_minor", BigInteger, nullable=False),
    Column("interest_minor", BigInteger, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("late_fee_minor", BigInteger, nullable=False),
    Column("due_reported", Integer, nullable=False, server_default="0"),
)

#: Repayments and other money events of a loan, by request id (a retry answers the first).
loan_events = Table(
    "loan_events",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("request_id", String(255), primary_key=True),
    Column("loan_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("fees_minor", BigInteger, nullable=False),
    Column("interest_minor", BigInteger, nullable=False),
    Column("principal_minor", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_loan_events_loan", "tenant", "loan_id"),
)

#: The credit model registry: versioned, hashed, compiled scorecards with their metadata.
credit_models = Table(
    "credit_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("data_window", String(64), nullable=False),
    Column("metrics", Text, nullable=False),
    Column("features", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("artifact", Text, nullable=False),
    Column("reference_scores", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

#: Credit decisions as made: outcome, reasons, model version and the features it saw.
credit_decisions = Table(
    "credit_decisions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("decision_id", String(64), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("limit_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("score", String(16), nullable=False),
    Column("probability_of_default", String(16), nullable=False),
    Column("plans", Text, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("model_id", String(64), nullable=False),
    Column("funder_id", String(64)),
    Column("features", Text, nullable=False),
    Column("decided_at", BigInteger, nullable=False),
    Index("ix_credit_decisions_buyer", "tenant", "buyer_id"),
)

#: Credit's normalised view of the outbox (``credit/pipeline.py``), indexed by buyer.
credit_feature_events = Table(
    "credit_feature_events",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at_ns", BigInteger, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("category", String(32), nullable=False),
    Column("on_time", Integer, nullable=False),
    Index("ix_credit_feature_events_buyer", "tenant", "buyer_id", "at_ns"),
)

#: Pre-approved limits from the last batch run, with why each last changed.
credit_preapprovals = Table(
    "credit_preapprovals",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("buyer_id", String(64), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("limit_minor", BigInteger, nullable=False),
    Column("previous_limit_minor", BigInteger, nullable=False),
    Column("score", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("model_id", String(64), nullable=False),
    Column("computed_at", BigInteger, nullable=False),
)

#: Revolving credit lines and their virtual cards (the card number is a token: never stored).
credit_lines = Table(
    "credit_lines",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("line_id", String(64), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("funder_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("limit_minor", BigInteger, nullable=False),
    Column("card_token", String(64), nullable=False, unique=True),
    Column("card_last4", String(4), nullable=False),
    Column("card_expiry", String(7), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# --- after-sales ---------------------------------------------------------------------------------
order_deliveries = Table(
    "order_deliveries",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("order_id", String(64), primary_key=True),
    Column("delivered_at", BigInteger, nullable=False),
)

order_returns = Table(
    "order_returns",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("order_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("requested_at", BigInteger, nullable=False),
    Column("resolved_at", BigInteger),
)

reviews = Table(
    "reviews",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("order_id", String(64), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("merchant_id", String(64), nullable=False),
    Column("rating", SmallInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("posted_at", BigInteger, nullable=False),
    Index("ix_reviews_merchant", "tenant", "merchant_id"),
)

#: Collections: every contact attempt (made, or blocked and by which rule) and complaints.
collection_contacts = Table(
    "collection_contacts",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("contact_id", String(64), primary_key=True),
    Column("loan_id", String(64), nullable=False),
    Column("buyer_id", String(64), nullable=False),
    Column("action", String(24), nullable=False),
    Column("made", Integer, nullable=False),
    Column("rule", String(32), nullable=False),
    Column("at_ns", BigInteger, nullable=False),
    Index("ix_collection_contacts_buyer", "tenant", "buyer_id", "at_ns"),
)

complaints = Table(
    "complaints",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("complaint_id", String(64), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("opened_at", BigInteger, nullable=False),
    Column("resolved_at", BigInteger),
)

#: Dashboard sign-ins: the cookie holds a random session id (only its SHA-256 is kept); the API
#: key it was opened with is stored encrypted, for the storefront's calls to the API.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("secret", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_dashboard_sessions_expires", "expires_at"),
)
