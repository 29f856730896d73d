"""Credit's tables: the model registry, decisions, the feature events, pre-approvals."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from embedfin.db.tables.metadata import metadata

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
