"""Risk's tables: rule-set versions, decisions, the online signals, challenges, cases.

Entity keys (device, IP, shipping address, payment token) are stored as keyed digests, never as
the values the client sent: the signals count and link them without keeping personal data.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from embedfin.db.tables.metadata import metadata

#: Every version of a tenant's rule set: the rules as records (JSON), what changed, who changed
#: it, and the backtest it passed before going live. The live set is the highest version.
risk_rule_sets = Table(
    "risk_rule_sets",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("rules", Text, nullable=False),
    Column("change", String(300), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("backtest", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

#: One row per risk check: what was asked, what was answered and why, and what it turned out to
#: be (``label``: unknown until a case, a chargeback or time says fraud or good).
risk_decisions = Table(
    "risk_decisions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("decision_id", String(64), primary_key=True),
    Column("kind", String(24), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("buyer_id", String(64)),
    Column("merchant_id", String(64)),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_method", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("score", Float),
    Column("reasons", Text, nullable=False),
    Column("features", Text, nullable=False),
    Column("live_hits", Text, nullable=False),
    Column("shadow_hits", Text, nullable=False),
    Column("rule_set_version", Integer, nullable=False),
    Column("status", String(24), nullable=False),
    Column("label", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_risk_decisions_created", "tenant", "created_at"),
    Index("ix_risk_decisions_reference", "tenant", "reference"),
)

#: The online signals in the database (the default counter store): one row per checked
#: operation with its entity digests; ``status`` 0 pending, 1 succeeded, 2 declined.
risk_observations = Table(
    "risk_observations",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("observation_id", String(64), primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("payment_method", String(32), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("buyer_id", String(64)),
    Column("merchant_id", String(64)),
    Column("token", String(32)),
    Column("device", String(32)),
    Column("ip", String(32)),
    Column("address", String(32)),
    Index("ix_risk_obs_buyer", "tenant", "buyer_id", "at"),
    Index("ix_risk_obs_merchant", "tenant", "merchant_id", "at"),
    # A request names a token, device, IP or address only when it has one (a wallet payment
    # has no token, a request without a risk context none of the others), and every read of
    # them asks for one value (``col = :key``): their indexes keep only the rows that have one.
    *(
        Index(
            f"ix_risk_obs_{column}",
            "tenant",
            column,
            "at",
            postgresql_where=text(f"{column} IS NOT NULL"),
            sqlite_where=text(f"{column} IS NOT NULL"),
        )
        for column in ("token", "device", "ip", "address")
    ),
    Index("ix_risk_obs_at", "at"),
)

#: Which accounts an entity (device, IP, address, token, payout account) was seen with, first
#: and last: linked accounts, first-seen ages and "new for this buyer". A guest is ``""``.
risk_links = Table(
    "risk_links",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("entity", String(16), primary_key=True),
    Column("entity_key", String(32), primary_key=True),
    Column("account", String(72), primary_key=True),
    Column("first_at", BigInteger, nullable=False),
    Column("last_at", BigInteger, nullable=False),
    Index("ix_risk_links_account", "tenant", "account", "entity", "last_at"),
)

#: Step-up challenges: a one-time code (stored as a digest) the buyer must give back.
risk_challenges = Table(
    "risk_challenges",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("challenge_id", String(64), primary_key=True),
    Column("decision_id", String(64), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("code_digest", String(64), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_risk_challenges_reference", "tenant", "reference"),
)

#: The one queue of cases a person decides: fraud reviews, disputes and returns.
risk_cases = Table(
    "risk_cases",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("order_id", String(64)),
    Column("decision_id", String(64)),
    Column("buyer_id", String(64)),
    Column("merchant_id", String(64)),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("summary", String(500), nullable=False),
    Column("assignee", String(128)),
    Column("outcome", String(16)),
    Column("outcome_reason", String(500)),
    Column("opened_at", BigInteger, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("decided_at", BigInteger),
    Column("decided_by", String(128)),
    Index("ix_risk_cases_queue", "tenant", "status", "due_at"),
    Index("ix_risk_cases_order", "tenant", "order_id"),
)

#: Every step of a case, in order: opened, assigned, note, decided (the case's audit trail).
risk_case_events = Table(
    "risk_case_events",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("case_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
)

#: Fraud models per tenant: the booster and calibration as JSON, champion or challenger.
risk_models = Table(
    "risk_models",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("model_id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("artifact", Text, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_risk_models_status", "tenant", "status"),
)

#: Merchant risk scores, one row per merchant per scoring run (the history is the trend).
risk_merchant_scores = Table(
    "risk_merchant_scores",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("merchant_id", String(64), primary_key=True),
    Column("scored_at", BigInteger, primary_key=True),
    Column("score", Integer, nullable=False),
    Column("tier", String(8), nullable=False),
    Column("reserve_bp", Integer, nullable=False),
    Column("hold_days", Integer, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("signals", Text, nullable=False),
    Index("ix_risk_merchant_scores_at", "tenant", "scored_at"),
)

#: Reserves a risk officer set for a merchant, over its tier's; append-only, the latest wins.
risk_merchant_policies = Table(
    "risk_merchant_policies",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("merchant_id", String(64), primary_key=True),
    Column("set_at", BigInteger, primary_key=True),
    Column("reserve_bp", Integer),  # null: back to the tier's reserve
    Column("hold_days", Integer),
    Column("reason", String(500), nullable=False),
    Column("set_by", String(128), nullable=False),
)
