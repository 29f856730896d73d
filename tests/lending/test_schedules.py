"""Schedules sum exactly, in minor units, for every plan shape (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import InvalidAmount, InvalidInput
from embedfin.lending.apr import UnitPeriod, apr_percent
from embedfin.lending.schedules import Method, build, due_dates

START = date(2026, 1, 15)


@given(
    principal=st.integers(1, 10**11),
    count=st.integers(1, 60),
    rate_bp=st.integers(0, 9_999),
    method=st.sampled_from(list(Method)),
    fee=st.integers(0, 10**6),
)
def test_every_schedule_sums_exactly(
    principal: int, count: int, rate_bp: int, method: Method, fee: int
) -> None:
    schedule = build(
        principal,
        count,
        START,
        date(2026, 2, 15),
        UnitPeriod.MONTH,
        Decimal(rate_bp) / 10_000,
        method,
        fee,
    )
    rows = schedule.installments
    assert len(rows) == count
    assert sum(r.principal_minor for r in rows) == principal
    assert sum(r.fee_minor for r in rows) == fee
    assert schedule.total_minor == principal + schedule.interest_minor + fee
    assert all(r.principal_minor >= 0 and r.interest_minor >= 0 for r in rows)
    assert [r.due for r in rows] == sorted(r.due for r in rows)
    if rate_bp == 0:
        assert schedule.interest_minor == 0
    balance = principal
    for r in rows:  # interest is never more than the balance owed at the period's rate (+½)
        assert r.interest_minor <= balance * rate_bp / 120_000 + 0.5
        balance -= r.principal_minor
    assert balance == 0


def test_an_annuity_has_equal_installments_but_the_last() -> None:
    schedule = build(80_000, 12, START, date(2026, 2, 15), annual_rate=Decimal("0.15"))
    totals = [r.total_minor for r in schedule.installments]
    assert set(totals[:-1]) == {7_221}  # $800 at 15% over 12 months: $72.21 (published example)
    assert abs(totals[-1] - 7_221) <= 12
    assert apr_percent(schedule.apr(2, UnitPeriod.MONTH)) == Decimal("15.00")


def test_pay_in_4_splits_the_odd_cent_into_the_first_and_costs_nothing() -> None:
    schedule = build(10_001, 4, START, START, UnitPeriod.BIWEEK)
    assert [r.total_minor for r in schedule.installments] == [2_501, 2_500, 2_500, 2_500]
    assert [r.due for r in schedule.installments] == [
        START + timedelta(days=14 * n) for n in range(4)
    ]
    assert schedule.apr(2, UnitPeriod.BIWEEK) == 0


def test_a_flat_fee_plan_discloses_its_true_annual_rate() -> None:
    """3 × monthly, 3% flat fee: about 12% a year as the fee reads, ~18% as an APR."""
    schedule = build(30_000, 3, START, date(2026, 2, 15), fee_minor=900)
    apr = apr_percent(schedule.apr(2, UnitPeriod.MONTH))
    assert Decimal("17") < apr < Decimal("19")


def test_equal_principal_has_falling_installments() -> None:
    schedule = build(
        120_000,
        12,
        START,
        date(2026, 2, 15),
        annual_rate=Decimal("0.12"),
        method=Method.EQUAL_PRINCIPAL,
    )
    totals = [r.total_minor for r in schedule.installments]
    assert totals == sorted(totals, reverse=True)
    assert {r.principal_minor for r in schedule.installments} == {10_000}


def test_due_dates_clamp_to_the_end_of_short_months() -> None:
    dues = due_dates(date(2026, 1, 1), date(2026, 1, 31), 3, UnitPeriod.MONTH)
    assert dues == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]


def test_bad_plans_are_refused() -> None:
    with pytest.raises(InvalidAmount):
        build(0, 3, START, START)
    with pytest.raises(InvalidInput):
        build(100, 0, START, START)
    with pytest.raises(InvalidInput):
        build(100, 3, START, START - timedelta(days=1))
    with pytest.raises(InvalidInput):
        build(100, 3, START, START, annual_rate=Decimal("-0.01"))
