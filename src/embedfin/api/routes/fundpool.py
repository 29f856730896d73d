"""``/v1/fundpool/…``: the money-market fund pool — funds, subscriptions from the wallet,
redemptions (normal T+1, fast T+0 within the daily cap), the daily accrual and its disclosures,
the portfolio and its liquidity, paying an order from fund units.

Commands need ``fundpool:write`` (an operator's key acts for the holders of its marketplace);
reads need ``read``. A merchant's key sees funds and their disclosures, never a holder's
holding or redemptions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Query

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import FundPoolCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.platform import Platform
from embedfin.api.routes.common import page, v1_router
from embedfin.api.schemas.fundpool import (
    AccrualIn,
    AssetIn,
    AssetOut,
    DayOut,
    Empty,
    FundIn,
    FundOut,
    HoldingOut,
    LiquidityOut,
    MoneyIn,
    OrderPaymentIn,
    RedemptionIn,
    RedemptionOut,
    SettlementOut,
    SubscriptionIn,
    SubscriptionOut,
)
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.core.money import Money
from embedfin.fundpool.redemption import FeePolicy
from embedfin.fundpool.service import FundPool
from embedfin.fundpool.store import Asset, Day, Redemption

router = v1_router()
Reader = Annotated[Principal, Depends(require(Scope.READ))]
TAGS: list[str | Any] = ["fundpool"]


def _pool(platform: Platform, tenant: str) -> FundPool:
    return platform.tenant(tenant).fundpool


def _fund_body(pool: FundPool, fund_id: str) -> Body:
    fund = pool.fund(fund_id)
    books = pool.portfolio.books(fund_id)
    policy = fund.fee_policy
    return FundOut(
        id=fund.fund_id, name=fund.name, currency=fund.currency,
        carry_method=fund.carry_method.value, fast_cap=fund.fast_cap_minor,
        fee_threshold=None if policy is None else str(policy.threshold),
        fee_rate=None if policy is None else str(policy.rate),
        accrued_through=None if fund.accrued_through is None else fund.accrued_through.isoformat(),
        cash=books.cash_minor, portfolio=books.portfolio_minor,
        income_receivable=books.income_receivable_minor, units=books.units_minor,
        undistributed=books.undistributed_minor, redemptions_payable=books.payable_minor,
        net_assets=books.net_assets_minor, facility_cash=books.facility_cash_minor,
        facility_advances=books.facility_advances_minor,
    ).model_dump(mode="json")  # fmt: skip


def _redemption_body(r: Redemption) -> Body:
    return RedemptionOut(
        id=r.redemption_id, fund=r.fund_id, customer=r.holder_id, speed=r.speed.value,
        amount=r.amount_minor, fee=r.fee_minor, paid=r.paid_minor,
        on_date=r.on_date.isoformat(), settles_on=r.settles_on.isoformat(), status=r.status.value,
    ).model_dump(mode="json")  # fmt: skip


def _day_body(d: Day) -> Body:
    return DayOut(
        day=d.day.isoformat(), income=d.income_minor, fees=d.fees_minor, units=d.units_minor,
        holders=d.holders, distributed=d.distributed_minor, per_10k=str(d.per_10k),
        yield_7d=str(d.yield_7d),
    ).model_dump(mode="json")  # fmt: skip


def _asset_body(a: Asset) -> Body:
    return AssetOut(
        id=a.asset_id, fund=a.fund_id, kind=a.kind.value, cost=a.cost_minor,
        interest=a.interest_minor, accrued=a.accrued_minor, bought_on=a.bought_on.isoformat(),
        matures_on=a.matures_on.isoformat(), status=a.status,
    ).model_dump(mode="json")  # fmt: skip


def _holders_only(principal: Principal, what: str) -> None:
    """A merchant's key sees no holder's position: 404, so nothing about it is leaked."""
    if principal.merchant_id is not None:
        raise NotFound(f"no {what}")


# --- funds -----------------------------------------------------------------------------------
@router.post("/fundpool/funds", status_code=201, response_model=FundOut, tags=TAGS)
def open_fund(body: FundIn, cmd: FundPoolCommand) -> Any:
    """Open a fund (stable units at 1.00); a CNY fund's fast cap defaults to RMB 10,000."""

    def effect() -> tuple[int, Body]:
        if (body.fee_threshold is None) != (body.fee_rate is None):
            raise InvalidInput("a liquidity fee needs both fee_threshold and fee_rate")
        policy = None
        if body.fee_threshold is not None and body.fee_rate is not None:
            policy = FeePolicy(Decimal(body.fee_threshold), Decimal(body.fee_rate))
        pool = _pool(cmd.platform, cmd.tenant)
        pool.open_fund(body.id, body.name, body.currency, carry_method=body.carry_method,
                       fast_cap_minor=body.fast_cap, fee_policy=policy)  # fmt: skip
        cmd.audit("fundpool.fund", body.id, body.model_dump())
        return 201, _fund_body(pool, body.id)

    return cmd.run(body.model_dump(), effect)


@router.get("/fundpool/funds/{fund_id}", response_model=FundOut, tags=TAGS)
def get_fund(fund_id: str, platform: PlatformDep, principal: Reader) -> Any:
    """The fund and its books: cash, portfolio, units, net assets, the facility."""
    return _fund_body(_pool(platform, principal.tenant), fund_id)


@router.post("/fundpool/funds/{fund_id}/facility", status_code=201, response_model=FundOut,
             tags=TAGS)  # fmt: skip
def fund_facility(fund_id: str, body: MoneyIn, cmd: FundPoolCommand) -> Any:
    """A bank funds the liquidity facility that advances fast redemptions."""

    def effect() -> tuple[int, Body]:
        pool = _pool(cmd.platform, cmd.tenant)
        pool.fund_facility(cmd.request_id(), fund_id, Money(body.amount, body.currency))
        cmd.audit("fundpool.facility", fund_id, body.model_dump())
        return 201, _fund_body(pool, fund_id)

    return cmd.run(body.model_dump(), effect)


# --- holders ---------------------------------------------------------------------------------
@router.post("/fundpool/funds/{fund_id}/subscriptions", status_code=201,
             response_model=SubscriptionOut, tags=TAGS)  # fmt: skip
def subscribe(fund_id: str, body: SubscriptionIn, cmd: FundPoolCommand) -> Any:
    """Buy units at 1.00 with money from the customer's wallet (the fund's currency only)."""

    def effect() -> tuple[int, Body]:
        made = _pool(cmd.platform, cmd.tenant).subscribe(
            cmd.request_id(), fund_id, body.customer, Money(body.amount, body.currency)
        )
        return 201, SubscriptionOut(
            id=made.subscription_id, fund=made.fund_id, customer=made.holder_id,
            amount=made.amount_minor, on_date=made.on_date.isoformat(),
        ).model_dump(mode="json")  # fmt: skip

    return cmd.run(body.model_dump(), effect)


@router.post("/fundpool/funds/{fund_id}/redemptions", status_code=201,
             response_model=RedemptionOut, tags=TAGS)  # fmt: skip
def redeem(fund_id: str, body: RedemptionIn, cmd: FundPoolCommand) -> Any:
    """Redeem units at 1.00: ``normal`` pays the wallet at T+1, ``fast`` at once from the
    liquidity facility, within what is left of the customer's daily cap."""

    def effect() -> tuple[int, Body]:
        made = _pool(cmd.platform, cmd.tenant).redeem(
            cmd.request_id(), fund_id, body.customer, Money(body.amount, body.currency),
            body.speed,
        )  # fmt: skip
        return 201, _redemption_body(made)

    return cmd.run(body.model_dump(), effect)


@router.post("/fundpool/funds/{fund_id}/order_payments", status_code=201,
             response_model=RedemptionOut, tags=TAGS)  # fmt: skip
def pay_order(fund_id: str, body: OrderPaymentIn, cmd: FundPoolCommand) -> Any:
    """Pay an order from the buyer's units: a fast redemption and the wallet payment, in one
    unit of work (units never pay directly)."""

    def effect() -> tuple[int, Body]:
        pay = cmd.platform.tenant(cmd.tenant).redeem_and_pay
        return 201, _redemption_body(pay.pay_order(cmd.request_id(), fund_id, body.order))

    return cmd.run(body.model_dump(), effect)


@router.post("/fundpool/funds/{fund_id}/settlement", response_model=SettlementOut, tags=TAGS)
def settle(fund_id: str, body: Empty, cmd: FundPoolCommand) -> Any:
    """Pay every redemption due by today from the fund's cash; repay the facility."""

    def effect() -> tuple[int, Body]:
        settled, unpaid = _pool(cmd.platform, cmd.tenant).settle_redemptions(fund_id)
        return 200, SettlementOut(settled=settled, unpaid=unpaid).model_dump(mode="json")

    return cmd.run(body.model_dump(), effect)


@router.get("/fundpool/funds/{fund_id}/holdings/{customer_id}", response_model=HoldingOut,
            tags=TAGS)  # fmt: skip
def get_holding(fund_id: str, customer_id: str, platform: PlatformDep, principal: Reader) -> Any:
    """A customer's units, carried fraction and membership benefits."""
    _holders_only(principal, "holding")
    pool = _pool(platform, principal.tenant)
    units, carried = pool.holding(fund_id, customer_id)
    benefits = pool.membership(fund_id, customer_id)
    return HoldingOut(
        fund=fund_id, customer=customer_id, units=units.amount_minor, currency=units.currency,
        carried=str(carried), tier=benefits.tier.name.lower(),
        free_withdrawals=benefits.free_withdrawals,
        free_fast_redemptions=benefits.free_fast_redemptions,
        fx_spread_halved=benefits.fx_spread_halved,
    ).model_dump(mode="json")  # fmt: skip


@router.get("/fundpool/redemptions/{redemption_id}", response_model=RedemptionOut, tags=TAGS)
def get_redemption(redemption_id: str, platform: PlatformDep, principal: Reader) -> Any:
    _holders_only(principal, f"redemption {redemption_id}")
    return _redemption_body(_pool(platform, principal.tenant).redemption(redemption_id))


# --- income ----------------------------------------------------------------------------------
@router.post("/fundpool/funds/{fund_id}/accruals", status_code=201, response_model=DayOut,
             tags=TAGS)  # fmt: skip
def accrue(fund_id: str, body: AccrualIn, cmd: FundPoolCommand) -> Any:
    """Accrue the next day's income to every holder (the portfolio's amortised interest, the
    bank's interest on cash, the liquidity fees) and publish its disclosures."""

    def effect() -> tuple[int, Body]:
        pool = _pool(cmd.platform, cmd.tenant)
        fund = pool.fund(fund_id)
        interest = Money(body.bank_interest, fund.currency) if body.bank_interest else None
        return 201, _day_body(pool.accrue(cmd.request_id(), fund_id, body.day, interest))

    return cmd.run(body.model_dump(mode="json"), effect)


@router.get("/fundpool/funds/{fund_id}/days", tags=TAGS)
def list_days(
    fund_id: str,
    platform: PlatformDep,
    principal: Reader,
    last: Annotated[int, Query(ge=1, le=366)] = 30,
) -> Any:
    """The accrued days, oldest first: income, distribution, income per 10,000 units and the
    7-day annualised yield by the fund's carry method."""
    days = _pool(platform, principal.tenant).income.history(fund_id, last)
    return page([_day_body(d) for d in days], False)


# --- portfolio -------------------------------------------------------------------------------
@router.post("/fundpool/funds/{fund_id}/assets", status_code=201, response_model=AssetOut,
             tags=TAGS)  # fmt: skip
def buy_asset(fund_id: str, body: AssetIn, cmd: FundPoolCommand) -> Any:
    """Buy a term deposit, short bond or reverse repo with the fund's cash (≤ 397 days)."""

    def effect() -> tuple[int, Body]:
        asset = _pool(cmd.platform, cmd.tenant).buy(
            cmd.request_id(), fund_id, body.kind, Money(body.cost, body.currency),
            Money(body.interest, body.currency), body.matures_on,
        )  # fmt: skip
        cmd.audit("fundpool.buy", asset.asset_id, body.model_dump(mode="json"))
        return 201, _asset_body(asset)

    return cmd.run(body.model_dump(mode="json"), effect)


@router.get("/fundpool/funds/{fund_id}/assets", tags=TAGS)
def list_assets(fund_id: str, platform: PlatformDep, principal: Reader) -> Any:
    assets = _pool(platform, principal.tenant).portfolio.assets(fund_id)
    return page([_asset_body(a) for a in assets], False)


@router.post("/fundpool/assets/{asset_id}/maturity", response_model=AssetOut, tags=TAGS)
def mature_asset(asset_id: str, body: Empty, cmd: FundPoolCommand) -> Any:
    """The asset's cost and interest come back into the fund's cash (on or after maturity)."""

    def effect() -> tuple[int, Body]:
        asset = _pool(cmd.platform, cmd.tenant).mature(cmd.request_id(), asset_id)
        cmd.audit("fundpool.mature", asset_id, {})
        return 200, _asset_body(asset)

    return cmd.run(body.model_dump(), effect)


@router.get("/fundpool/funds/{fund_id}/liquidity", response_model=LiquidityOut, tags=TAGS)
def get_liquidity(fund_id: str, platform: PlatformDep, principal: Reader) -> Any:
    """Daily and weekly liquid assets (SEC Rule 2a-7 as amended 2023: ≥ 25% and ≥ 50%)."""
    ratios = _pool(platform, principal.tenant).liquidity(fund_id)
    return LiquidityOut(
        total=ratios.total_minor, daily_liquid=ratios.daily_minor,
        weekly_liquid=ratios.weekly_minor, daily_ratio=str(ratios.daily),
        weekly_ratio=str(ratios.weekly), breaches=list(ratios.breaches),
    ).model_dump(mode="json")  # fmt: skip
