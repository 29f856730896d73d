"""Commerce's tables: merchants, customers, orders and their lines, deliveries, returns, reviews."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, SmallInteger, String, Table, Text

from embedfin.db.tables.metadata import metadata

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
    Column("risk_hold", Integer, nullable=False, server_default="0"),
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
