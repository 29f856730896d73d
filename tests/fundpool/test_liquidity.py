"""Daily (≥ 25%) and weekly (≥ 50%) liquid assets, SEC Rule 2a-7 as amended in 2023 (Release
No. IC-34959; https://www.sec.gov/news/press-release/2023-129, https://finadium.com/?p=132531)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from embedfin.fundpool.liquidity import (
    MIN_DAILY,
    MIN_WEEKLY,
    Position,
    business_days_after,
    liquidity_ratios,
)

FRIDAY = date(2026, 12, 4)


def test_the_2023_minimums() -> None:
    assert Decimal("0.25") == MIN_DAILY
    assert Decimal("0.50") == MIN_WEEKLY


def test_the_next_business_day_after_a_friday_is_monday() -> None:
    assert business_days_after(FRIDAY, 1) == date(2026, 12, 7)
    assert business_days_after(FRIDAY, 5) == date(2026, 12, 11)


def test_cash_is_daily_liquid_and_a_monday_repo_too_on_a_friday() -> None:
    ratios = liquidity_ratios(
        [Position(20, None), Position(10, date(2026, 12, 7)), Position(70, date(2027, 3, 1))],
        FRIDAY,
    )
    assert (ratios.daily, ratios.weekly) == (Decimal("0.3000"), Decimal("0.3000"))
    assert ratios.breaches == ("weekly",)


def test_a_bond_maturing_in_five_business_days_is_weekly_but_not_daily() -> None:
    ratios = liquidity_ratios([Position(30, None), Position(70, date(2026, 12, 11))], FRIDAY)
    assert (ratios.daily, ratios.weekly, ratios.breaches) == (
        Decimal("0.3000"),
        Decimal("1.0000"),
        (),
    )


def test_an_empty_fund_breaches_nothing() -> None:
    assert liquidity_ratios([], FRIDAY).breaches == ()


@given(st.lists(st.tuples(st.integers(1, 10**9), st.none() | st.integers(0, 60)), max_size=20))
def test_daily_liquid_assets_never_exceed_weekly(positions: list[tuple[int, int | None]]) -> None:
    ratios = liquidity_ratios(
        [Position(v, None if d is None else FRIDAY + timedelta(days=d)) for v, d in positions],
        FRIDAY,
    )
    assert ratios.daily_minor <= ratios.weekly_minor <= ratios.total_minor
