"""Daily and weekly liquid assets, as SEC Rule 2a-7 defines them after the 2023 amendments.

Rule 2a-7(d)(4) as amended (Release No. IC-34959, 2023-07-12; https://finadium.com/?p=132531,
https://www.sec.gov/news/press-release/2023-129): a money-market fund holds at least 25% of its
total assets in **daily liquid assets** and at least 50% in **weekly liquid assets**. Daily liquid
assets are cash and securities that mature (or can be put for cash) within one business day;
weekly liquid assets within five business days. Here cash at banks is daily liquid, and a term
deposit, bond or repo is daily liquid when it matures by the next business day, weekly liquid
when it matures within five business days; business days are Monday to Friday (no holiday
calendar). Total assets are cash plus the portfolio at amortised cost plus accrued income.
Pure: no I/O, the day is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

MIN_DAILY = Decimal("0.25")
MIN_WEEKLY = Decimal("0.50")
RATIO_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Position:
    """An asset of the portfolio at amortised cost.

    Attributes:
        value_minor: cost plus the interest accrued on it so far.
        matures_on: its maturity (``None`` for cash at banks, payable on demand).
    """

    value_minor: int
    matures_on: date | None


@dataclass(frozen=True, slots=True)
class LiquidityRatios:
    """Attributes: total, daily and weekly liquid assets (minor units) and the two ratios,
    rounded half even to 4 decimals; ``breaches`` names the minimums not met."""

    total_minor: int
    daily_minor: int
    weekly_minor: int
    daily: Decimal
    weekly: Decimal
    breaches: tuple[str, ...]


def business_days_after(day: date, count: int) -> date:
    """The ``count``-th business day (Monday–Friday) after ``day``."""
    current = day
    while count:
        current += timedelta(days=1)
        if current.weekday() < 5:
            count -= 1
    return current


def liquidity_ratios(positions: Sequence[Position], today: date) -> LiquidityRatios:
    """The fund's daily and weekly liquid asset ratios on ``today``."""
    daily_by, weekly_by = business_days_after(today, 1), business_days_after(today, 5)
    total = sum(p.value_minor for p in positions)
    daily = sum(
        p.value_minor for p in positions if p.matures_on is None or p.matures_on <= daily_by
    )
    weekly = sum(
        p.value_minor for p in positions if p.matures_on is None or p.matures_on <= weekly_by
    )
    daily_ratio = _ratio(daily, total)
    weekly_ratio = _ratio(weekly, total)
    breaches = tuple(
        name
        for name, ratio, floor in (
            ("daily", daily_ratio, MIN_DAILY),
            ("weekly", weekly_ratio, MIN_WEEKLY),
        )
        if total and ratio < floor
    )
    return LiquidityRatios(total, daily, weekly, daily_ratio, weekly_ratio, breaches)


def _ratio(part: int, total: int) -> Decimal:
    if total <= 0:
        return Decimal("1.0000")
    return (Decimal(part) / Decimal(total)).quantize(RATIO_PLACES, rounding=ROUND_HALF_EVEN)
