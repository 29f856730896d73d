"""The CSRC disclosure figures (《货币市场基金信息披露特别规定》, 证监基金字〔2005〕41号; the
formulas as prospectuses state them: https://lawinsider.com/zh/clause/某级基金份额的七日年化收益率-7-365-10000-100,
both carry methods: http://www.7tqp.com/news_3856518.shtml)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import InvalidInput
from embedfin.fundpool.yields import CarryMethod, income_per_10k, seven_day_yield

D = Decimal
WEEK = [D("0.5123"), D("0.5234"), D("1.5456"), D("0.5012"), D("0.4987"), D("0.5111"), D("0.5200")]


def test_income_per_10k_is_the_days_income_over_the_units_times_10000() -> None:
    # 60.00 of income on 1,000,000.00 units: 0.6000 per 10,000 units
    assert income_per_10k(6_000, 100_000_000) == D("0.6000")


def test_income_per_10k_rounds_half_up_to_four_decimals() -> None:
    assert income_per_10k(1, 3) == D("3333.3333")
    assert income_per_10k(1, 16) == D("625.0000")
    assert income_per_10k(1, 160_000_000) == D("0.0001")  # 0.0000625 rounds up


def test_monthly_carry_yield_is_the_simple_average_annualised() -> None:
    # (Σ R_i / 7) × 365 / 10000 × 100%: 0.6 a day is 2.190%
    assert seven_day_yield([D("0.6")] * 7, CarryMethod.MONTHLY) == D("2.190")
    assert seven_day_yield(WEEK, CarryMethod.MONTHLY) == D("2.405")  # 2.404985 half up


def test_daily_carry_yield_compounds_the_seven_days() -> None:
    # ([∏ (1 + R_i / 10000)]^(365/7) − 1) × 100%: 1.00006^365 − 1 = 2.2140894%
    assert seven_day_yield([D("0.6")] * 7, CarryMethod.DAILY) == D("2.214")
    assert seven_day_yield(WEEK, CarryMethod.DAILY) == D("2.434")


def test_only_the_last_seven_days_count() -> None:
    assert seven_day_yield([D("9")] * 3 + WEEK, CarryMethod.MONTHLY) == D("2.405")


def test_fewer_than_seven_days_use_the_days_there_are() -> None:
    assert seven_day_yield([D("0.6")] * 2, CarryMethod.MONTHLY) == D("2.190")


def test_no_history_is_refused() -> None:
    with pytest.raises(InvalidInput):
        seven_day_yield([], CarryMethod.DAILY)


per_10k = st.decimals(D("0"), D("5"), places=4)


@given(st.lists(per_10k, min_size=1, max_size=7))
def test_daily_carry_never_yields_less_than_monthly(week: list[Decimal]) -> None:
    # compounding: ∏(1+r)^(365/n) ≥ 1 + 365·mean(r) for r ≥ 0 (up to the last rounding)
    daily = seven_day_yield(week, CarryMethod.DAILY)
    monthly = seven_day_yield(week, CarryMethod.MONTHLY)
    assert daily >= monthly - D("0.001")


@given(st.integers(0, 10**9), st.integers(1, 10**13))
def test_income_per_10k_is_within_half_a_ten_thousandth(income: int, units: int) -> None:
    exact = D(income) * 10_000 / D(units)
    assert abs(income_per_10k(income, units) - exact) <= D("0.00005")
