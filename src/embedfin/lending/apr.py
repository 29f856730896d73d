"""Annual percentage rate by the actuarial method of US Regulation Z, Appendix J.

The general equation (Appendix J (b)(8)) equates advances and payments discounted at the
periodic rate ``i`` over *unit-periods*: each amount is divided by ``(1 + f·i)(1 + i)^t`` where
``t`` is the number of whole unit-periods and ``f`` the fraction of one between the start of the
term (the first advance) and that amount's date. The APR is ``i`` times the unit-periods in a
year. Whole unit-periods are counted backwards from the later date (Appendix J (b)(5)); a month
is any calendar month, odd days are fractions of 30 (months), 15 (semi-months) or the unit's days
(weeks), and a single-payment transaction has the whole term as its unit-period (a year is then
12 over the term's months when the term is whole months shorter than a year, else 365 days over
the term's days).

Months at month ends follow Appendix J (b)(3)(iv): "If a series of payments (or advances) is
scheduled for the last day of each month, months shall be measured from the last day of the
given month to the last day of another month. If payments (or advances) are scheduled for the
29th or 30th of each month, the last day of February shall be used when applicable." So a month
measured back from a month's last day (28 February, 30 April) ends on any day from that day
number to the end of the earlier month: 28 February is one month after 28, 29, 30 or 31
January, and 30 April three months after 30 or 31 January.

The solver works in exact decimals and bisects to a precision far below the rule's tolerance
(1/8 of a percentage point for regular transactions, 1/4 for irregular ones). Tests: the worked
examples of Appendix J (c), ``tests/lending/test_apr.py``.
"""

from __future__ import annotations

from calendar import isleap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

from embedfin.core.errors import InvalidInput


class UnitPeriod(StrEnum):
    MONTH = "month"
    SEMIMONTH = "semimonth"
    QUARTER = "quarter"
    WEEK = "week"
    BIWEEK = "biweek"


PER_YEAR = {
    UnitPeriod.MONTH: 12,
    UnitPeriod.SEMIMONTH: 24,
    UnitPeriod.QUARTER: 4,
    UnitPeriod.WEEK: 52,
    UnitPeriod.BIWEEK: 26,
}


@dataclass(frozen=True, slots=True)
class CashFlow:
    """An amount (major units, exact) on a date."""

    on: date
    amount: Decimal


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _last_day(year: int, month: int) -> int:
    if month == 2 and isleap(year):
        return 29
    return _MONTH_DAYS[month - 1]


def _months_back(later: date, months: int) -> date:
    year, month = divmod(later.year * 12 + later.month - 1 - months, 12)
    month += 1
    return date(year, month, min(later.day, _last_day(year, month)))


def whole_months(start: date, later: date) -> tuple[int, int]:
    """Whole months measured back from ``later`` to ``start``, and the odd days left over.

    ``k`` months back from ``later`` is the same day number (clamped to the month's end); when
    ``later`` is the last day of its month it is any day from that number to the month's end
    (Appendix J (b)(3)(iv)), and the count lands on the earliest of those not before ``start``.
    Computed directly (no loop): the count is the month difference, less one if even the latest
    landing day in ``start``'s month falls before ``start``."""
    months = (later.year - start.year) * 12 + later.month - start.month
    if months == 0:
        return 0, (later - start).days
    at_month_end = later.day == _last_day(later.year, later.month)
    last_of_start = _last_day(start.year, start.month)
    latest_day = last_of_start if at_month_end else min(later.day, last_of_start)
    if latest_day < start.day:
        months -= 1
    if months == 0:
        return 0, (later - start).days
    earliest = _months_back(later, months)
    return months, (max(earliest, start) - start).days


def _semimonth_back(later: date, halves: int) -> date:
    """Semi-monthly steps back: the 1st ↔ the 16th of the previous half, keeping the offset."""
    months, half = divmod(halves, 2)
    moved = _months_back(later, months)
    if not half:
        return moved
    if moved.day > 15:
        return moved.replace(day=moved.day - 15)
    return _months_back(moved, 1).replace(day=min(moved.day + 15, 28 if moved.day > 13 else 31))


def unit_periods(start: date, later: date, unit: UnitPeriod) -> tuple[int, Decimal]:
    """Whole unit-periods and the fraction of one between ``start`` and ``later``, counting
    whole periods backwards from ``later`` (Appendix J (b)(5)), months at month ends as
    Appendix J (b)(3)(iv) measures them."""
    if later < start:
        raise InvalidInput("a payment cannot precede the start of the term")
    if unit in (UnitPeriod.WEEK, UnitPeriod.BIWEEK):
        days = 7 if unit is UnitPeriod.WEEK else 14
        whole, odd = divmod((later - start).days, days)
        return whole, Decimal(odd) / days
    if unit is UnitPeriod.SEMIMONTH:
        whole = 0
        while _semimonth_back(later, whole + 1) >= start:
            whole += 1
        odd = (_semimonth_back(later, whole) - start).days
        return whole, Decimal(odd) / 15
    months_per_unit = 3 if unit is UnitPeriod.QUARTER else 1
    months, odd_days = whole_months(start, later)
    whole, spare_months = divmod(months, months_per_unit)
    fraction = (Decimal(spare_months) + Decimal(odd_days) / 30) / months_per_unit
    return whole, fraction


def _single_payment_terms_per_year(start: date, paid: date) -> Decimal:
    """Appendix J (b)(5)(vi)-(vii): a term shorter than a year that is a whole number of months
    counts 12 / its months per year (the choice (vi) allows, so a month's term costs the same
    in February as in March); any other term 365 / its days."""
    months, odd_days = whole_months(start, paid)
    if odd_days == 0 and 0 < months < 12:
        return Decimal(12) / months
    return Decimal(365) / Decimal((paid - start).days)


def annual_percentage_rate(
    advances: Sequence[CashFlow],
    payments: Sequence[CashFlow],
    unit: UnitPeriod = UnitPeriod.MONTH,
) -> Decimal:
    """The APR as a fraction (0.0969 for 9.69%), unrounded to 8 decimal places."""
    if not advances or not payments:
        raise InvalidInput("an APR needs at least one advance and one payment")
    if any(f.amount <= 0 for f in (*advances, *payments)):
        raise InvalidInput("advances and payments must be positive")
    if sum(f.amount for f in payments) < sum(f.amount for f in advances):
        raise InvalidInput("the payments repay less than was advanced: no positive APR")
    start = min(f.on for f in advances)
    if len(advances) == 1 and len(payments) == 1:  # the term is the unit-period
        days = (payments[0].on - start).days
        if days <= 0:
            raise InvalidInput("the payment must come after the advance")
        rate = payments[0].amount / advances[0].amount - 1
        return (rate * _single_payment_terms_per_year(start, payments[0].on)).quantize(
            Decimal("1e-8")
        )
    timed_advances = [(f.amount, *unit_periods(start, f.on, unit)) for f in advances]
    timed_payments = [(f.amount, *unit_periods(start, f.on, unit)) for f in payments]

    def gap(i: Decimal) -> Decimal:
        """Present value of payments less present value of advances at periodic rate ``i``."""

        def pv(flows: list[tuple[Decimal, int, Decimal]]) -> Decimal:
            return sum((a / ((1 + f * i) * (1 + i) ** t) for a, t, f in flows), start=Decimal(0))

        return pv(timed_payments) - pv(timed_advances)

    with localcontext() as ctx:
        ctx.prec = 40
        low, high = Decimal(0), Decimal(1)  # 0% to 100% per unit-period
        if gap(low) < 0:
            raise InvalidInput("the payments repay less than was advanced: no positive APR")
        if gap(high) > 0:
            raise InvalidInput("the APR exceeds the solver's range (100% per unit-period)")
        for _ in range(64):  # interval width 2^-64 (5e-20 per period): far below 1e-8 a year
            mid = (low + high) / 2
            if gap(mid) > 0:
                low = mid
            else:
                high = mid
        return (low * PER_YEAR[unit]).quantize(Decimal("1e-8"))


def apr_percent(rate: Decimal) -> Decimal:
    """A rate as disclosed: percent with two decimals, half up (9.69)."""
    return (rate * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
