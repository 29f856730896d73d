"""The figures a money-market fund discloses every day: the daily income per 10,000 units
(每万份基金净收益) and the 7-day annualised yield (七日年化收益率).

The formulas are the CSRC's (《货币市场基金信息披露特别规定》, 证监基金字〔2005〕41号, as
restated in every money-market fund's prospectus; see for instance the clause text at
https://lawinsider.com/zh/clause/某级基金份额的七日年化收益率-7-365-10000-100 and the two carry
methods side by side at http://www.7tqp.com/news_3856518.shtml):

* daily income per 10,000 units = day's net income / units outstanding × 10,000;
* 7-day annualised yield, monthly carry (按月结转: income credited as units once a month,
  "daily simple, monthly compound") = (Σ R_i / 7) × 365 / 10,000 × 100%;
* 7-day annualised yield, daily carry (按日结转: income credited as units every day, "daily
  compound") = ([∏ (1 + R_i / 10,000)]^(365/7) − 1) × 100%;

where R_i is the daily income per 10,000 units of the i-th most recent calendar day (the day of
calculation included, holidays too). With fewer than seven days of history the same formula runs
over the days there are (the prospectuses' "如不足七日,则采取上述公式类似计算").

Rounding: the disclosures round half up (四舍五入), the income per 10,000 units to 4 decimals
and the yield to 3 decimals of a per cent; these are published figures, not money, so the
regulation's rounding is used here (money elsewhere rounds half even). The yield is computed from
the published (rounded) R_i, so anyone can recompute it from the disclosures. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from embedfin.core.errors import InvalidInput

PER_UNITS = 10_000
DAYS_IN_YEAR = 365
WINDOW_DAYS = 7
INCOME_PLACES = Decimal("0.0001")
YIELD_PLACES = Decimal("0.001")


class CarryMethod(StrEnum):
    """How income becomes units: every day (按日结转) or once a month (按月结转)."""

    DAILY = "daily"
    MONTHLY = "monthly"


def income_per_10k(income_minor: int, units_minor: int) -> Decimal:
    """The day's net income per 10,000 units, in the currency's major unit, to 4 decimals.

    Units and money share the currency's exponent (one unit is 1.00), so the ratio of the two
    minor amounts is the income per unit.
    """
    if units_minor <= 0:
        return Decimal("0.0000")
    with localcontext() as ctx:
        ctx.prec = 40
        exact = Decimal(income_minor) * PER_UNITS / Decimal(units_minor)
        return exact.quantize(INCOME_PLACES, rounding=ROUND_HALF_UP)


def seven_day_yield(recent_per_10k: Sequence[Decimal], method: CarryMethod) -> Decimal:
    """The 7-day annualised yield in per cent (``Decimal("2.345")`` is 2.345%), from the
    published income per 10,000 units of the most recent days (at most seven are used, the
    newest first or last: the formulas are symmetric)."""
    window = list(recent_per_10k)[-WINDOW_DAYS:]
    if not window:
        raise InvalidInput("a 7-day yield needs at least one day's income")
    n = len(window)
    with localcontext() as ctx:
        ctx.prec = 40
        if method is CarryMethod.MONTHLY:
            yearly = sum(window, Decimal(0)) / n * DAYS_IN_YEAR / PER_UNITS
        else:
            growth = Decimal(1)
            for per_10k in window:
                factor = 1 + per_10k / PER_UNITS
                if factor <= 0:
                    raise InvalidInput("a day cannot lose more than the units it had")
                growth *= factor
            yearly = growth ** (Decimal(DAYS_IN_YEAR) / n) - 1
        return (yearly * 100).quantize(YIELD_PLACES, rounding=ROUND_HALF_UP)
