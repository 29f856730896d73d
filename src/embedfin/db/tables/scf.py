"""Supply-chain finance's tables (``scf/``).

``scf_parties``: who takes part — core enterprises (with the rates their paper is discounted and
charged late at), suppliers of any tier, funders. ``scf_payables``: a core enterprise's confirmed
payable once certified, with its term and whether it is outstanding, overdue or settled.
``scf_certificates``: every certificate ever made from a payable — the first, and each part of a
split, transfer or discount — with its one holder, its tier down the chain and whether it is
live; the money is the ledger's (``scf/chart.py``), these rows say who and when.
``scf_purchase_orders``: orders a core enterprise placed with a supplier, confirmed, received
and paid; ``scf_advances``: a funder's advance on one of them and whether the buyer's payment
has repaid it. ``scf_events``: one row per command (its request id), the result a retry
returns, and the index of the event's entry in the tenant's ``scf`` transparency log.

Dates are ISO ``YYYY-MM-DD`` strings (the certificates' calendar days), instants nanoseconds.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from embedfin.db.tables.metadata import metadata

scf_parties = Table(
    "scf_parties",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("discount_rate", String(16)),
    Column("overdue_rate", String(16)),
    Column("day_basis", SmallInteger),
    Column("created_at", BigInteger, nullable=False),
)

scf_payables = Table(
    "scf_payables",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("payable_id", String(64), primary_key=True),
    Column("core_id", String(64), nullable=False),
    Column("supplier_id", String(64), nullable=False),
    Column("payable_ref", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("face_minor", BigInteger, nullable=False),
    Column("issued_on", String(10), nullable=False),
    Column("matures_on", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("overdue_since", String(10)),
    Column("settled_on", String(10)),
    Column("late_interest_minor", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("tenant", "core_id", "payable_ref", name="uq_scf_payables_ref"),
    Index("ix_scf_payables_maturity", "tenant", "status", "matures_on"),
)

scf_certificates = Table(
    "scf_certificates",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("certificate_id", String(64), primary_key=True),
    Column("payable_id", String(64), nullable=False),
    Column("parent_id", String(64)),
    Column("holder_id", String(64), nullable=False),
    Column("holder_role", String(16), nullable=False),
    Column("tier", SmallInteger, nullable=False),
    Column("face_minor", BigInteger, nullable=False),
    Column("price_minor", BigInteger),
    Column("status", String(16), nullable=False),
    Column("made_by", String(255), nullable=False),
    Column("retired_by", String(255)),
    Column("made_on", String(10), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_scf_certificates_payable", "tenant", "payable_id"),
    Index("ix_scf_certificates_holder", "tenant", "holder_id", "status"),
)

scf_events = Table(
    "scf_events",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("request_id", String(255), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("payable_id", String(64), nullable=False),
    Column("certificate_id", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("result", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("on_date", String(10), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_scf_events_payable", "tenant", "payable_id"),
)

scf_purchase_orders = Table(
    "scf_purchase_orders",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("po_id", String(64), primary_key=True),
    Column("buyer_id", String(64), nullable=False),
    Column("supplier_id", String(64), nullable=False),
    Column("po_ref", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("placed_on", String(10), nullable=False),
    Column("due_on", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("received_on", String(10)),
    Column("paid_on", String(10)),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("tenant", "buyer_id", "po_ref", name="uq_scf_purchase_orders_ref"),
)

scf_advances = Table(
    "scf_advances",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("po_id", String(64), primary_key=True),
    Column("funder_id", String(64), nullable=False),
    Column("advance_bp", SmallInteger, nullable=False),
    Column("fee_bp", SmallInteger, nullable=False),
    Column("advance_minor", BigInteger, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("made_on", String(10), nullable=False),
    Column("repaid_on", String(10)),
    Column("created_at", BigInteger, nullable=False),
)
