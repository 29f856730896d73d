"""The fund pool day by day: depositors, a fund manager and the liquidity facility driving the
real services (``FundPool`` on the ledger), with the figures the issue asks of the fund.

**Agents.** ``depositors`` customers top up their wallets and subscribe; each day each one
redeems with probability ``redeem_p`` a random share of its holding — fast (T+0) with
probability ``fast_p``, normally otherwise; a fast redemption above what is left of its daily
cap is refused and redeemed normally instead — and subscribes back with probability
``subscribe_p`` part of what reached its wallet. The manager keeps ``cash_buffer`` of the units
as cash and lends the rest on 7-day reverse repos at ``repo_rate`` a year; the fund's bank pays
``bank_rate`` a year on its cash. Each day: redemptions and subscriptions, assets matured, T+1
redemptions settled (those the fund's cash cannot pay wait), new repos, the day's accrual.
Rates are assumptions of the scenario (labelled here), interest rounds half even.

The report per day: units, the income per 10,000 units and 7-day yield, the daily and weekly
liquid asset ratios, the facility's cash and the redemptions left unpaid; and in total the
fast redemptions refused by the cap and whether ``embedfin check`` holds at the end. This is
the fund's own dynamics, not the run model (``systemic``'s depositors who react to others).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from embedfin.bootstrap import TenantServices, check_all
from embedfin.core.clock import ManualClock
from embedfin.core.money import Money
from embedfin.fundpool.redemption import FastCapExceeded
from embedfin.payments.payouts.settlement import settle_channel

DAY_S = 86_400
CURRENCY = "CNY"
FUND = "sim-mmf"
TOP_UP_MINOR = 5_000_000  # 50,000.00 each


@dataclass(frozen=True, slots=True)
class FundScenario:
    depositors: int = 40
    days: int = 14
    seed: int = 16
    redeem_p: float = 0.2
    fast_p: float = 0.5
    subscribe_p: float = 0.3
    cash_buffer: Decimal = Decimal("0.30")
    repo_rate: Decimal = Decimal("0.018")  # an assumption: a 7-day repo rate
    bank_rate: Decimal = Decimal("0.0035")  # an assumption: demand deposit rate
    facility_minor: int = 20_000_000


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: str
    units_minor: int
    per_10k: Decimal
    yield_7d: Decimal
    daily_ratio: Decimal
    weekly_ratio: Decimal
    facility_cash_minor: int
    unpaid: int


@dataclass(frozen=True, slots=True)
class FundReport:
    days: list[DayFigures]
    fast_refused: int
    redemptions: int
    invariants_hold: bool


def _interest(minor: int, rate: Decimal, days: int) -> int:
    exact = Decimal(minor) * rate * days / 365
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def run(services: TenantServices, clock: ManualClock, s: FundScenario) -> FundReport:
    rng, pool = random.Random(s.seed), services.fundpool
    pool.open_fund(FUND, "Simulated balance fund", CURRENCY)
    pool.fund_facility("sim-facility", FUND, Money(s.facility_minor, CURRENCY))
    people = [f"depositor-{n}" for n in range(s.depositors)]
    for person in people:
        services.wallets.top_up(person, Money(TOP_UP_MINOR, CURRENCY), "card", f"top-{person}")
    total = TOP_UP_MINOR * s.depositors
    settle_channel(services.ledger, services.tenant, "card", Money(total, CURRENCY),
                   Money(0, CURRENCY), "sim-fund-settle")  # fmt: skip
    for person in people:
        pool.subscribe(f"sub-0-{person}", FUND, person, Money(TOP_UP_MINOR, CURRENCY))
    figures, refused, redemptions = [], 0, 0
    for day in range(1, s.days + 1):
        clock.advance(seconds=DAY_S)
        for person in people:
            refused, redemptions = _act(services, s, rng, day, person, refused, redemptions)
        unpaid = _manage(services, s, day)
        accrued = pool.accrue(f"accrue-{day}", FUND, bank_interest=_bank_interest(services, s))
        ratios, books = pool.liquidity(FUND), pool.portfolio.books(FUND)
        figures.append(DayFigures(accrued.day.isoformat(), books.units_minor, accrued.per_10k,
                                  accrued.yield_7d, ratios.daily, ratios.weekly,
                                  books.facility_cash_minor, unpaid))  # fmt: skip
    with services.ledger.reader() as conn:
        healthy = check_all(conn).ok
    return FundReport(figures, refused, redemptions, healthy)


def _act(
    services: TenantServices, s: FundScenario, rng: random.Random, day: int, person: str,
    refused: int, redemptions: int,
) -> tuple[int, int]:  # fmt: skip
    pool = services.fundpool
    if rng.random() < s.redeem_p:
        held = pool.holding(FUND, person)[0].amount_minor
        amount = int(held * rng.uniform(0.05, 0.5))
        if amount > 0:
            speed = "fast" if rng.random() < s.fast_p else "normal"
            request = f"red-{day}-{person}"
            try:
                pool.redeem(request, FUND, person, Money(amount, CURRENCY), speed)
            except FastCapExceeded:
                refused += 1
                pool.redeem(f"{request}-normal", FUND, person, Money(amount, CURRENCY))
            redemptions += 1
    if rng.random() < s.subscribe_p:
        wallet = services.wallets.balance("buyer", person, CURRENCY).available.amount_minor
        amount = int(wallet * rng.uniform(0.2, 1.0))
        if amount > 0:
            pool.subscribe(f"sub-{day}-{person}", FUND, person, Money(amount, CURRENCY))
    return refused, redemptions


def _manage(services: TenantServices, s: FundScenario, day: int) -> int:
    """Mature what is due, settle T+1 redemptions, lend the cash above the buffer on repos."""
    pool = services.fundpool
    today = pool.today()
    for asset in pool.portfolio.assets(FUND):
        if asset.status == "live" and asset.matures_on <= today:
            pool.mature(f"mature-{asset.asset_id}", asset.asset_id)
    _, unpaid = pool.settle_redemptions(FUND)
    books = pool.portfolio.books(FUND)
    buffer = int(Decimal(books.units_minor) * s.cash_buffer)
    spare = books.cash_minor - max(buffer, books.payable_minor)
    if spare > 0:
        pool.buy(f"repo-{day}", FUND, "reverse_repo", Money(spare, CURRENCY),
                 Money(_interest(spare, s.repo_rate, 7), CURRENCY),
                 today + timedelta(days=7))  # fmt: skip
    return unpaid


def _bank_interest(services: TenantServices, s: FundScenario) -> Money | None:
    cash = services.fundpool.portfolio.books(FUND).cash_minor
    interest = _interest(cash, s.bank_rate, 1)
    return Money(interest, CURRENCY) if interest > 0 else None
