"""Supply-chain finance's inventory facilities (``scf/stock.py``).

``scf_inventory_facilities``: a funder's facility for one distributor — its terms, what is
drawn (the ledger's ``inventory loan`` balance says the same, ``embedfin check`` compares) and
whether it is ``open``, ``frozen`` (the limit fell below what is drawn: no draws while a plan
pays it down) or ``closed``. ``scf_stock_reports``: the distributor's stock as reported on a
day, SKU by SKU. ``scf_inventory_valuations``: each day's borrowing base, with the figures it
came from. ``scf_inventory_installments``: the repayment plans, one row per installment.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from embedfin.db.tables.metadata import metadata

scf_inventory_facilities = Table(
    "scf_inventory_facilities",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("facility_id", String(64), primary_key=True),
    Column("distributor_id", String(64), nullable=False),
    Column("funder_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("policy", Text, nullable=False),
    Column("drawn_minor", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("plan_no", Integer, nullable=False),
    Column("opened_on", String(10), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_scf_inventory_facilities_distributor", "tenant", "distributor_id"),
)

scf_stock_reports = Table(
    "scf_stock_reports",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("facility_id", String(64), primary_key=True),
    Column("reported_on", String(10), primary_key=True),
    Column("lines", Text, nullable=False),
    Column("value_minor", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

scf_inventory_valuations = Table(
    "scf_inventory_valuations",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("facility_id", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("reported_on", String(10)),
    Column("value_minor", BigInteger, nullable=False),
    Column("eligible_minor", BigInteger, nullable=False),
    Column("sell_through_bp", SmallInteger, nullable=False),
    Column("advance_bp", SmallInteger, nullable=False),
    Column("limit_minor", BigInteger, nullable=False),
    Column("drawn_minor", BigInteger, nullable=False),
    Column("figures", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

scf_inventory_installments = Table(
    "scf_inventory_installments",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("facility_id", String(64), primary_key=True),
    Column("plan_no", Integer, primary_key=True),
    Column("n", SmallInteger, primary_key=True),
    Column("due_on", String(10), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("paid_minor", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
)

#: Trade documents on a purchase order (``scf/invoices.py``): its ``lines`` (SKU, quantity, unit
#: price, and the price tolerance the match allows), each goods ``receipt``, each supplier
#: ``invoice`` with the outcome of its three-way match (``matched`` or ``exception``, the
#: exceptions) and, once certified, the payable it became.
scf_documents = Table(
    "scf_documents",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("doc_id", String(64), primary_key=True),
    Column("po_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("lines", Text, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("tolerance_bp", SmallInteger),
    Column("status", String(16), nullable=False),
    Column("exceptions", Text, nullable=False),
    Column("payable_id", String(64)),
    Column("on_date", String(10), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_scf_documents_order", "tenant", "po_id", "kind"),
    UniqueConstraint("tenant", "po_id", "kind", "ref", name="uq_scf_documents_ref"),
)
