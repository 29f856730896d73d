"""A day's income to every holder, carry per holder: nothing lost, nothing invented."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import InvalidAmount
from embedfin.fundpool.accrual import (
    MAX_HOLDING_MINOR,
    SCALE,
    Holding,
    accrue_all,
    credit,
    day_rate,
)


def test_three_equal_holders_share_one_minor_unit_as_carry() -> None:
    after, rate, credited = accrue_all([Holding(100), Holding(100), Holding(100)], 1, 0)
    assert credited == 0
    assert rate.rate_nano == SCALE // 300  # 3,333,333 nano per unit
    assert [h.carry_nano for h in after] == [333_333_300] * 3
    assert rate.residue_nano == SCALE - 3 * 333_333_300  # the floor's remainder stays with the fund


def test_carries_become_a_minor_unit_on_a_later_day() -> None:
    holders = [Holding(100)] * 3
    credited_total = 0
    for _ in range(3):
        holders, rate, credited = accrue_all(holders, 1, 0)
        credited_total += credited
    assert credited_total == 0  # each holder carries 0.9999999 after three days
    holders, rate, credited = accrue_all(holders, 1, 0)
    assert credited == 3  # 1.3333332 each: one whole unit each


def test_no_units_keep_the_whole_income_carried() -> None:
    rate = day_rate(500, 7, 0)
    assert rate.rate_nano == 0
    assert rate.residue_nano == 500 * SCALE + 7


def test_a_losing_day_is_refused() -> None:
    with pytest.raises(InvalidAmount):
        day_rate(-1, 0, 100)


def test_income_above_one_percent_of_units_is_carried_not_refused() -> None:
    rate = day_rate(5, 0, 100)  # 5% of the units in a day: 1% goes out, the rest waits
    assert rate.rate_nano == SCALE // 100
    assert rate.residue_nano == 4 * SCALE


holdings = st.lists(
    st.builds(Holding, st.integers(0, MAX_HOLDING_MINOR), st.integers(0, SCALE - 1)),
    min_size=1,
    max_size=30,
)


@given(holdings, st.integers(0, 10**9), st.integers(0, 10**12))
def test_income_is_credited_or_carried_exactly(
    before: list[Holding], income: int, residue: int
) -> None:
    units = sum(h.units_minor for h in before)
    after, rate, credited = accrue_all(before, income, residue)
    carried_before = sum(h.carry_nano for h in before) + residue
    carried_after = sum(h.carry_nano for h in after) + rate.residue_nano
    assert income * SCALE + carried_before == credited * SCALE + carried_after
    assert sum(h.units_minor for h in after) == units + credited
    assert all(0 <= h.carry_nano < SCALE for h in after)
    assert rate.residue_nano >= 0


@given(st.integers(0, MAX_HOLDING_MINOR), st.integers(0, SCALE - 1), st.integers(0, 10**7))
def test_a_holders_earnings_fit_a_signed_64_bit_integer(units: int, carry: int, rate: int) -> None:
    assert units * rate + carry < 1 << 63
    gained, new_carry = credit(Holding(units, carry), rate)
    assert gained * SCALE + new_carry == units * rate + carry


@given(st.lists(st.integers(1, 10**8), min_size=2, max_size=10), st.integers(0, 10**6))
def test_a_bigger_holding_never_earns_less(units: list[int], income: int) -> None:
    before = [Holding(u) for u in sorted(units)]
    income = min(income, sum(units) // 100)
    after, _, _ = accrue_all(before, income, 0)
    gains = [a.units_minor - b.units_minor for a, b in zip(after, before, strict=True)]
    assert gains == sorted(gains)
