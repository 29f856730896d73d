"""Compliance's tables: sanctions and PEP lists, the parties screened against them, and hits.

``aml_watchlists``: one row per list loaded (its digest is its identity; one list is active per
tenant). ``aml_watch_entries``: the people and organisations of each list (``body`` is the
flattened FollowTheMoney entity as JSON). ``aml_parties``: who the platform knows and must
screen — a buyer or a merchant, with the name and birth date encrypted like the customers'
(``security.crypto``) and ``digest`` the hash of what was screened. ``aml_screening_hits``: one
row per party × list entry × screened details; ``status`` is ``open`` (a case decides it),
``cleared`` (a false positive) or ``confirmed`` (the party stays blocked).

Transaction monitoring: ``aml_settings`` (the tenant's rule pack), ``aml_transactions`` (the
journal the detectors read), ``aml_threshold_totals`` (same-day totals, incrementally),
``aml_alerts`` (typology alerts and their cases, ``aml_alert_transactions`` which alert each
transaction is in), ``aml_reports`` (large-value and suspicious-transaction reports, due then
filed, immutable once filed), ``aml_typology_params`` (the detectors' parameters) and the
streaming typologies' state (``aml_stream_state``, ``aml_stream_paths``,
``aml_stream_episodes``: bounded, dropped past the window).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from embedfin.db.tables.metadata import metadata

aml_watchlists = Table(
    "aml_watchlists",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("list_id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("entries", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("active", Integer, nullable=False),
    Column("loaded_at", BigInteger, nullable=False),
    Column("loaded_by", String(128), nullable=False),
)

aml_watch_entries = Table(
    "aml_watch_entries",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("list_id", String(40), primary_key=True),
    Column("entity_id", String(200), primary_key=True),
    Column("body", Text, nullable=False),
)

aml_parties = Table(
    "aml_parties",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("party_kind", String(16), primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name_enc", Text, nullable=False),
    Column("birth_date_enc", Text),
    Column("country", String(2)),
    Column("digest", String(64), nullable=False),
    Column("screened_list_id", String(40)),
    Column("screened_at", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
)

aml_screening_hits = Table(
    "aml_screening_hits",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("hit_id", String(40), primary_key=True),
    Column("party_kind", String(16), nullable=False),
    Column("party_id", String(64), nullable=False),
    Column("list_id", String(40), nullable=False),
    Column("entity_id", String(200), nullable=False),
    Column("caption", String(500), nullable=False),
    Column("category", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("decided_at", BigInteger),
    Index("ix_aml_screening_hits_party", "tenant", "party_kind", "party_id"),
    Index("ix_aml_screening_hits_case", "tenant", "case_id"),
)

#: The tenant's threshold rule pack (``rulepacks.py``), as the validated pack's JSON; none: PRC.
aml_settings = Table(
    "aml_settings",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("pack_id", String(64), nullable=False),
    Column("pack", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(128), nullable=False),
)

#: The monitor's journal: every movement of money between parties, one row per outbox event
#: (``tx_id`` is the event id), as the detectors read it. ``src``/``dst`` are party keys
#: (``buyer:b-1``, ``merchant:m-1``; ``channel:card`` and ``bank:…`` outside the platform).
aml_transactions = Table(
    "aml_transactions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("tx_id", String(64), primary_key=True),
    Column("occurred_at", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("src", String(96), nullable=False),
    Column("dst", String(96), nullable=False),
    Column("src_kind", String(8), nullable=False),
    Column("dst_kind", String(8), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("cross_border", Integer, nullable=False),
    Column("reference", String(128), nullable=False),
    Index("ix_aml_transactions_time", "tenant", "occurred_at"),
    Index("ix_aml_transactions_src", "tenant", "src", "occurred_at"),
    Index("ix_aml_transactions_dst", "tenant", "dst", "occurred_at"),
)

#: A threshold rule's same-day totals, kept as movements are journaled: ``report_key`` names the
#: total (pack/rule/side/account/day), ``total_micros`` is in the rule's currency, millionths.
aml_threshold_totals = Table(
    "aml_threshold_totals",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("report_key", String(300), primary_key=True),
    Column("total_micros", BigInteger, nullable=False),
)

#: Transaction monitoring's alerts over the journal (``embedfin aml monitor``): one per
#: typology × transactions (``alert_key``), each with its case.
aml_alerts = Table(
    "aml_alerts",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("alert_id", String(40), primary_key=True),
    Column("alert_key", String(64), nullable=False),
    Column("typology", String(32), nullable=False),
    Column("accounts", Text, nullable=False),
    Column("transactions", Text, nullable=False),
    Column("window_start", BigInteger, nullable=False),
    Column("window_end", BigInteger, nullable=False),
    Column("amount", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("score", Float, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("tenant", "alert_key", name="uq_aml_alerts_tenant_key"),
    Index("ix_aml_alerts_case", "tenant", "case_id"),
)

#: Which alert each transaction is in, per typology: an alert that meets a stored one of its
#: typology (the stream's growing episode, the batch's run over the same days) adds to it
#: instead of opening a second case (``monitor.Monitoring``).
aml_alert_transactions = Table(
    "aml_alert_transactions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("typology", String(32), primary_key=True),
    Column("tx_id", String(64), primary_key=True),
    Column("alert_id", String(40), primary_key=True),
)

#: The tenant's typology parameters (``detectors.AmlParams`` as JSON), read by the batch scan
#: and the stream alike; none: the defaults.
aml_typology_params = Table(
    "aml_typology_params",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("params", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(128), nullable=False),
)

#: The streaming typologies' state per tenant (``stream.py``): ``version`` changes with every
#: batch (a process trusts its copy only while it is the stored one), ``params_digest`` the
#: parameters it was built with, ``since_t`` when it began and ``through_t`` the latest
#: movement's time (Unix seconds).
aml_stream_state = Table(
    "aml_stream_state",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("version", String(32), nullable=False),
    Column("params_digest", String(64), nullable=False),
    Column("since_t", BigInteger, nullable=False),
    Column("through_t", BigInteger, nullable=False),
)

#: Chains of hops that may still grow (``incremental.Path`` as JSON), gone at ``expires_t``.
aml_stream_paths = Table(
    "aml_stream_paths",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("path_id", String(40), primary_key=True),
    Column("expires_t", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_aml_stream_paths_expiry", "tenant", "expires_t"),
)

#: A hub's open episode per typology and currency (``incremental.Episode`` as JSON: anchors,
#: movements), gone at ``expires_t`` (its last anchor plus the window).
aml_stream_episodes = Table(
    "aml_stream_episodes",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("typology", String(32), primary_key=True),
    Column("subject", String(96), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("expires_t", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_aml_stream_episodes_expiry", "tenant", "expires_t"),
)

#: Reports to the financial intelligence unit. ``due`` (an obligation with its deadline) or
#: ``filed`` (``document`` and its ``digest`` fixed for ever: triggers refuse any change or
#: deletion of a filed row; a correction is a new report naming the one it ``corrects``).
aml_reports = Table(
    "aml_reports",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("report_id", String(40), primary_key=True),
    Column("dedupe_key", String(300), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(8), nullable=False),
    Column("subject", String(96), nullable=False),
    Column("pack_id", String(64), nullable=False),
    Column("rule_id", String(64)),
    Column("case_id", String(64)),
    Column("business_day", String(10)),
    Column("amount_micros", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("transactions", Text, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("due_on", String(10), nullable=False),
    Column("calendar", String(2), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("filed_at", BigInteger),
    Column("filed_by", String(128)),
    Column("document", Text),
    Column("digest", String(64)),
    Column("corrects", String(40)),
    UniqueConstraint("tenant", "dedupe_key", name="uq_aml_reports_tenant_key"),
    Index("ix_aml_reports_status", "tenant", "status", "due_on"),
)

#: The tenant's customer due-diligence pack (``diligence.py``), as the validated pack's JSON;
#: none: the ``none`` pack (no limits).
aml_diligence = Table(
    "aml_diligence",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("pack_id", String(64), nullable=False),
    Column("pack", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(128), nullable=False),
)

#: How a customer's identity was verified, and the level that reached under the pack then.
aml_verifications = Table(
    "aml_verifications",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Column("channels", Text, nullable=False),
    Column("face_to_face", Integer, nullable=False),
    Column("verified_at", BigInteger, nullable=False),
    Column("verified_by", String(128), nullable=False),
)

#: Balance payments a customer made, per period — ``life`` (since the account opened) or the
#: calendar year, each also without transfers to its own bank account (``life-x``, ``2026-x``)
#: — in millionths of the pack's currency: a level reads the total its rule counts, so a change
#: of level or of pack (in the same currency) keeps what was spent.
aml_balance_spend = Table(
    "aml_balance_spend",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("party_id", String(64), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("period", String(8), primary_key=True),
    Column("spent_micros", BigInteger, nullable=False),
)

#: A merchant's know-your-business submission: its legal identity and beneficial owners
#: (encrypted like the customers' details), what was reviewed (``digest``), the review's case
#: and status (``submitted``, ``verified``, ``rejected``).
aml_kyb = Table(
    "aml_kyb",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("merchant_id", String(64), primary_key=True),
    Column("legal_name_enc", Text, nullable=False),
    Column("registration_number", String(64), nullable=False),
    Column("country", String(2), nullable=False),
    Column("owners_enc", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("submitted_at", BigInteger, nullable=False),
    Column("submitted_by", String(128), nullable=False),
    Column("decided_at", BigInteger),
)
