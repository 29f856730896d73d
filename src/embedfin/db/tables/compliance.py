"""Compliance's tables: sanctions and PEP lists, the parties screened against them, and hits.

``aml_watchlists``: one row per list loaded (its digest is its identity; one list is active per
tenant). ``aml_watch_entries``: the people and organisations of each list (``body`` is the
flattened FollowTheMoney entity as JSON). ``aml_parties``: who the platform knows and must
screen — a buyer or a merchant, with the name and birth date encrypted like the customers'
(``security.crypto``) and ``digest`` the hash of what was screened. ``aml_screening_hits``: one
row per party × list entry × screened details; ``status`` is ``open`` (a case decides it),
``cleared`` (a false positive) or ``confirmed`` (the party stays blocked).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text

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
