"""Lending's tables: loans, installments, loan events, credit lines, collections, complaints."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from embedfin.db.tables.metadata import metadata

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
