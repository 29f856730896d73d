"""The fund pool's tables (``fundpool/``).

``fundpool_funds``: a tenant's money-market fund — its currency, carry method, fast-redemption
cap, optional liquidity fee, the residue its accruals carry (nano-minor units,
``fundpool/accrual.py``) and the fees waiting for the next accrual. ``fundpool_holdings``: each
holder's units (minor units at 1.00) and carried fraction: the sub-ledger of the ledger's units
outstanding. ``fundpool_subscriptions`` and ``fundpool_redemptions``: every subscription and
redemption (normal T+1 or fast T+0, its fee, when it settles). ``fundpool_days``: one row per
accrued day — income, the rate, what was distributed, the disclosed income per 10,000 units
and 7-day yield. ``fundpool_assets``: the portfolio's term deposits, bonds and repos with their
cost, interest, maturity and the interest amortised so far. ``fundpool_commands``: one row per
command's request id, with the result a retry returns.

Days are ISO ``YYYY-MM-DD`` strings, instants nanoseconds, rates decimal strings.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from embedfin.db.tables.metadata import metadata

fundpool_funds = Table(
    "fundpool_funds",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("fund_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("carry_method", String(16), nullable=False),
    Column("fast_cap_minor", BigInteger, nullable=False),
    Column("fee_threshold", String(16)),
    Column("fee_rate", String(16)),
    Column("residue_nano", BigInteger, nullable=False),
    Column("fees_pending_minor", BigInteger, nullable=False),
    Column("accrued_through", String(10)),
    Column("created_at", BigInteger, nullable=False),
)

fundpool_holdings = Table(
    "fundpool_holdings",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("fund_id", String(64), primary_key=True),
    Column("holder_id", String(64), primary_key=True),
    Column("units_minor", BigInteger, nullable=False),
    Column("carry_nano", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

fundpool_subscriptions = Table(
    "fundpool_subscriptions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("subscription_id", String(64), primary_key=True),
    Column("fund_id", String(64), nullable=False),
    Column("holder_id", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("on_date", String(10), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_fundpool_subscriptions_day", "tenant", "fund_id", "on_date"),
)

fundpool_redemptions = Table(
    "fundpool_redemptions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("redemption_id", String(64), primary_key=True),
    Column("fund_id", String(64), nullable=False),
    Column("holder_id", String(64), nullable=False),
    Column("speed", String(8), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("on_date", String(10), nullable=False),
    Column("settles_on", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_fundpool_redemptions_holder", "tenant", "fund_id", "holder_id", "on_date"),
    Index("ix_fundpool_redemptions_due", "tenant", "fund_id", "status", "settles_on"),
)

fundpool_days = Table(
    "fundpool_days",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("fund_id", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("income_minor", BigInteger, nullable=False),
    Column("fees_minor", BigInteger, nullable=False),
    Column("units_minor", BigInteger, nullable=False),
    Column("holders", Integer, nullable=False),
    Column("rate_nano", BigInteger, nullable=False),
    Column("distributed_minor", BigInteger, nullable=False),
    Column("residue_nano", BigInteger, nullable=False),
    Column("per_10k", String(24), nullable=False),
    Column("yield_7d", String(24), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

fundpool_assets = Table(
    "fundpool_assets",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("asset_id", String(64), primary_key=True),
    Column("fund_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("cost_minor", BigInteger, nullable=False),
    Column("interest_minor", BigInteger, nullable=False),
    Column("accrued_minor", BigInteger, nullable=False),
    Column("bought_on", String(10), nullable=False),
    Column("matures_on", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_fundpool_assets_fund", "tenant", "fund_id", "status", "matures_on"),
)

fundpool_commands = Table(
    "fundpool_commands",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("request_id", String(255), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("fund_id", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
