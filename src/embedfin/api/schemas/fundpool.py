"""The fund pool: funds, subscriptions, redemptions, accrued days and disclosures, assets.

Amounts are integer minor units (units too: one unit is 1.00); rates and yields decimal strings
(``"2.214"`` is 2.214% a year), never floats; days ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from embedfin.api.schemas.common import Amount, AmountOrZero, Currency, Model, Name, Text200
from embedfin.api.schemas.scf import Day

Share = Annotated[str, StringConstraints(pattern=r"^0(\.[0-9]{1,6})?$|^1(\.0{1,6})?$")]


class FundIn(Model):
    id: Name
    name: Text200
    currency: Currency
    carry_method: Literal["daily", "monthly"] = "daily"
    fast_cap: AmountOrZero | None = None
    fee_threshold: Share | None = None
    fee_rate: Share | None = None


class MoneyIn(Model):
    amount: Amount
    currency: Currency


class SubscriptionIn(MoneyIn):
    customer: Name


class RedemptionIn(MoneyIn):
    customer: Name
    speed: Literal["normal", "fast"] = "normal"


class AccrualIn(Model):
    day: Day | None = None
    bank_interest: AmountOrZero = 0


class AssetIn(Model):
    kind: Literal["term_deposit", "short_bond", "reverse_repo"]
    cost: Amount
    interest: AmountOrZero
    currency: Currency
    matures_on: Day


class OrderPaymentIn(Model):
    order: Name


class Empty(Model):
    pass


class FundOut(BaseModel):
    object: Literal["fund"] = "fund"
    id: str
    name: str
    currency: str
    carry_method: str
    fast_cap: int
    fee_threshold: str | None
    fee_rate: str | None
    accrued_through: str | None
    cash: int
    portfolio: int
    income_receivable: int
    units: int
    undistributed: int
    redemptions_payable: int
    net_assets: int
    facility_cash: int
    facility_advances: int


class SubscriptionOut(BaseModel):
    object: Literal["fund_subscription"] = "fund_subscription"
    id: str
    fund: str
    customer: str
    amount: int
    on_date: str


class RedemptionOut(BaseModel):
    object: Literal["fund_redemption"] = "fund_redemption"
    id: str
    fund: str
    customer: str
    speed: str
    amount: int
    fee: int
    paid: int
    on_date: str
    settles_on: str
    status: str


class DayOut(BaseModel):
    object: Literal["fund_day"] = "fund_day"
    day: str
    income: int
    fees: int
    units: int
    holders: int
    distributed: int
    per_10k: str
    yield_7d: str


class HoldingOut(BaseModel):
    object: Literal["fund_holding"] = "fund_holding"
    fund: str
    customer: str
    units: int
    currency: str
    carried: str
    tier: str
    free_withdrawals: bool
    free_fast_redemptions: int
    fx_spread_halved: bool


class AssetOut(BaseModel):
    object: Literal["fund_asset"] = "fund_asset"
    id: str
    fund: str
    kind: str
    cost: int
    interest: int
    accrued: int
    bought_on: str
    matures_on: str
    status: str


class LiquidityOut(BaseModel):
    object: Literal["fund_liquidity"] = "fund_liquidity"
    total: int
    daily_liquid: int
    weekly_liquid: int
    daily_ratio: str
    weekly_ratio: str
    breaches: list[str]


class SettlementOut(BaseModel):
    object: Literal["fund_settlement"] = "fund_settlement"
    settled: int
    unpaid: int
