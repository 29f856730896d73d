"""APR by the actuarial method: the worked examples of Regulation Z, Appendix J (c).

Source: 12 CFR Part 1026 (Regulation Z), Appendix J, paragraph (c) "Examples for the actuarial
method" — the amounts, dates and disclosed APRs below are the regulation's own; the tolerance is
1/8 of a percentage point (regular) and 1/4 (irregular), Appendix J (b)(9) / §1026.22(a).
Also the published examples of a BNPL lender: $800 over 12 months at 15% → $72.21/month.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedfin.core.errors import InvalidInput
from embedfin.lending.apr import (
    CashFlow,
    UnitPeriod,
    annual_percentage_rate,
    apr_percent,
    unit_periods,
)

D = Decimal


def monthly(first: date, count: int, amount: str) -> list[CashFlow]:
    out = []
    for n in range(count):
        year, month = divmod(first.year * 12 + first.month - 1 + n, 12)
        out.append(CashFlow(date(year, month + 1, first.day), D(amount)))
    return out


def semimonthly(first: date, count: int, amount: str) -> list[CashFlow]:
    out = []
    day, year, month = first.day, first.year, first.month
    for _ in range(count):
        out.append(CashFlow(date(year, month, day), D(amount)))
        if day == 1:
            day = 16
        else:
            day = 1
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def every(first: date, count: int, days: int, amount: str) -> list[CashFlow]:
    return [CashFlow(first + timedelta(days=days * n), D(amount)) for n in range(count)]


def quarterly(first: date, count: int, amount: str) -> list[CashFlow]:
    out = []
    for n in range(count):
        year, month = divmod(first.year * 12 + first.month - 1 + 3 * n, 12)
        out.append(CashFlow(date(year, month + 1, first.day), D(amount)))
    return out


CASES = [
    # (c)(1)(i): 24 monthly payments, regular first period
    (
        "c1i",
        [CashFlow(date(1978, 1, 10), D("5000"))],
        monthly(date(1978, 2, 10), 24, "230"),
        UnitPeriod.MONTH,
        D("9.69"),
    ),
    # (c)(1)(ii): long first period (1 month and 19 days)
    (
        "c1ii",
        [CashFlow(date(1978, 2, 10), D("6000"))],
        monthly(date(1978, 4, 1), 36, "200"),
        UnitPeriod.MONTH,
        D("11.82"),
    ),
    # (c)(1)(iii): semi-monthly on the 1st and 16th
    (
        "c1iii",
        [CashFlow(date(1978, 2, 23), D("5000"))],
        semimonthly(date(1978, 3, 1), 24, "219.17"),
        UnitPeriod.SEMIMONTH,
        D("10.34"),
    ),
    # (c)(1)(iv): quarterly, long first period
    (
        "c1iv",
        [CashFlow(date(1978, 5, 23), D("10000"))],
        quarterly(date(1978, 10, 1), 40, "385"),
        UnitPeriod.QUARTER,
        D("8.97"),
    ),
    # (c)(1)(v): weekly
    (
        "c1v",
        [CashFlow(date(1978, 3, 20), D("500"))],
        every(date(1978, 4, 21), 30, 7, "17.60"),
        UnitPeriod.WEEK,
        D("14.96"),
    ),
    # (c)(2)(i): a larger first payment
    (
        "c2i",
        [CashFlow(date(1978, 1, 10), D("5000"))],
        [CashFlow(date(1978, 2, 10), D("250")), *monthly(date(1978, 3, 10), 23, "230")],
        UnitPeriod.MONTH,
        D("10.08"),
    ),
    # (c)(3)(i): a larger last payment
    (
        "c3i",
        [CashFlow(date(1978, 1, 10), D("5000"))],
        [*monthly(date(1978, 2, 10), 23, "230"), CashFlow(date(1980, 1, 10), D("280"))],
        UnitPeriod.MONTH,
        D("10.50"),
    ),
    # (c)(5)(i): a single payment
    (
        "c5i",
        [CashFlow(date(1978, 1, 3), D("1000"))],
        [CashFlow(date(1978, 9, 15), D("1080"))],
        UnitPeriod.MONTH,
        D("11.45"),
    ),
]


@pytest.mark.parametrize(
    ("name", "advances", "payments", "unit", "disclosed"), CASES, ids=[c[0] for c in CASES]
)
def test_appendix_j_worked_examples(
    name: str,
    advances: list[CashFlow],
    payments: list[CashFlow],
    unit: UnitPeriod,
    disclosed: Decimal,
) -> None:
    rate = annual_percentage_rate(advances, payments, unit)
    assert apr_percent(rate) == disclosed, (name, rate)


def test_a_bnpl_lenders_published_example() -> None:
    """$800 over 12 monthly payments of $72.21 is a 15% APR (to the tolerance)."""
    rate = annual_percentage_rate(
        [CashFlow(date(2026, 1, 1), D("800"))], monthly(date(2026, 2, 1), 12, "72.21")
    )
    assert abs(rate * 100 - D("15")) < D("0.125")


def test_unit_periods_count_back_from_the_later_date() -> None:
    assert unit_periods(date(1978, 2, 10), date(1978, 4, 1), UnitPeriod.MONTH) == (1, D(19) / 30)
    assert unit_periods(date(1978, 3, 20), date(1978, 4, 21), UnitPeriod.WEEK) == (4, D(4) / 7)


def test_nonsense_is_refused() -> None:
    start = [CashFlow(date(2026, 1, 1), D("100"))]
    with pytest.raises(InvalidInput):
        annual_percentage_rate(start, [CashFlow(date(2026, 2, 1), D("50"))], UnitPeriod.MONTH)
    with pytest.raises(InvalidInput):
        annual_percentage_rate(start, [], UnitPeriod.MONTH)
    with pytest.raises(InvalidInput):
        annual_percentage_rate(start, [CashFlow(date(2025, 12, 1), D("120"))], UnitPeriod.MONTH)


def month_ends(count: int, amount: str) -> list[CashFlow]:
    """``count`` payments on the last day of each month from February 2026."""
    firsts = [date(2026 + (m + 2) // 12, (m + 2) % 12 + 1, 1) for m in range(count)]
    return [CashFlow(first - timedelta(days=1), D(amount)) for first in firsts]


@pytest.mark.parametrize(
    ("advanced", "count", "amount", "disclosed"),
    [("300", 3, "102.30", D("13.75")), ("600", 6, "104.50", D("15.27"))],
    ids=["3x_2.3pct_fee", "6x_4.5pct_fee"],
)
def test_payments_at_month_ends_after_a_loan_on_a_month_end_are_whole_months(
    advanced: str, count: int, amount: str, disclosed: Decimal
) -> None:
    """A loan on 31 January repaid on 28 February, 31 March, 30 April, … : every period is one
    whole month, so the APR is the fee's plain monthly-compounded rate (3 × 1/3 of a 2.3% fee
    is 13.75%, 6 × 1/6 of a 4.5% fee is 15.27%), not 14.06% / 15.42%.

    Source: 12 CFR 1026 (Regulation Z), Appendix J (b)(3)(iv): "All months shall be considered
    equal. Full months shall be measured from any point in time on a given date of a given month
    to the same point in time on the same date of another month. If a series of payments (or
    advances) is scheduled for the last day of each month, months shall be measured from the
    last day of the given month to the last day of another month. If payments (or advances) are
    scheduled for the 29th or 30th of each month, the last day of February shall be used when
    applicable." — with (b)(5)(ii): "If the unit-period is a month, the number of full
    unit-periods between 2 dates shall be the number of months measured back from the later
    date. The remaining fraction of a unit-period shall be the number of days measured forward
    from the earlier date to the beginning of the first full unit-period, divided by 30."
    """
    rate = annual_percentage_rate(
        [CashFlow(date(2026, 1, 31), D(advanced))], month_ends(count, amount)
    )
    assert apr_percent(rate) == disclosed, rate


@pytest.mark.parametrize(
    ("start", "later", "expected"),
    [
        (date(2026, 1, 31), date(2026, 2, 28), (1, D(0))),  # last day to last day
        (date(2026, 1, 31), date(2026, 4, 30), (3, D(0))),
        (date(2024, 1, 31), date(2024, 2, 29), (1, D(0))),  # leap February
        (date(2024, 1, 31), date(2024, 2, 28), (0, D(28) / 30)),  # not February's last day
        (date(2026, 2, 28), date(2026, 3, 31), (1, D(0))),  # month end to month end
        (date(2026, 1, 30), date(2026, 2, 28), (1, D(0))),  # a 30th series: February's end
        (date(2026, 1, 29), date(2026, 2, 28), (1, D(0))),  # a 29th series: February's end
        (date(2026, 1, 30), date(2026, 4, 30), (3, D(0))),  # … and back on the 30th
        (date(2026, 1, 28), date(2026, 2, 28), (1, D(0))),  # a 28th series stays on the 28th
        (date(2026, 1, 15), date(2026, 2, 28), (1, D(13) / 30)),
        (date(2026, 1, 31), date(2026, 3, 28), (1, D(28) / 30)),  # 28 Feb back, then 28 days
    ],
)
def test_whole_months_between_month_ends(
    start: date, later: date, expected: tuple[int, Decimal]
) -> None:
    """Appendix J (b)(3)(iv) (quoted above): a month from a month's last day ends on the next
    month's last day, and a 29th/30th series uses February's last day."""
    assert unit_periods(start, later, UnitPeriod.MONTH) == expected


def test_quarters_between_month_ends() -> None:
    assert unit_periods(date(2025, 11, 30), date(2026, 2, 28), UnitPeriod.QUARTER) == (1, D(0))


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    days=st.integers(0, 800),
)
def test_a_later_date_is_never_fewer_unit_periods_away(start: date, days: int) -> None:
    """Whole months plus the odd fraction grow with the later date, across month ends (where
    a whole month is reached early) and leap Februaries."""
    later = start + timedelta(days=days)
    t0, f0 = unit_periods(start, later, UnitPeriod.MONTH)
    t1, f1 = unit_periods(start, later + timedelta(days=1), UnitPeriod.MONTH)
    assert t0 + f0 <= t1 + f1
    assert 0 <= f0 < 2  # odd days can exceed 30 (a 31-day remainder), never two months


def test_a_single_payment_a_whole_month_later_counts_twelve_terms_a_year() -> None:
    """Appendix J (b)(5)(vi): "In a single advance, single payment transaction in which the term
    is less than a year and is equal to a whole number of months, the number of unit-periods in
    the term shall be 1, and the number of unit-periods per year shall be 12 divided by the
    number of months in the term or 365 divided by the number of days in the term." 2% for 31
    January to 28 February (a whole month, (b)(3)(iv)) is 24.00%, as from 1 March to 1 April;
    by days it would read 26.07% in February and 23.55% in March."""
    advance = [CashFlow(date(2025, 1, 31), D("1000"))]
    rate = annual_percentage_rate(advance, [CashFlow(date(2025, 2, 28), D("1020"))])
    assert apr_percent(rate) == D("24.00")
    march = [CashFlow(date(2025, 3, 1), D("1000"))]
    assert annual_percentage_rate(march, [CashFlow(date(2025, 4, 1), D("1020"))]) == rate
    two_months = annual_percentage_rate(advance, [CashFlow(date(2025, 3, 31), D("1020"))])
    assert apr_percent(two_months) == D("12.00")
