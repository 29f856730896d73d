"""Inventory financing's pure rules: the borrowing base from stock value, days of stock and
sell-through; the draw fee; a repayment plan that sums exactly to the shortfall."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import InvalidInput
from embedfin.scf.inventory import (
    MAX_ADVANCE_BP,
    Policy,
    StockLine,
    check_lines,
    fee_of,
    plan,
    stale,
    value,
)

DAY = date(2026, 12, 4)


def test_the_base_excludes_slow_stock_and_scales_with_sell_through() -> None:
    lines = [
        StockLine("fast", 100, 2_000),
        StockLine("slow", 50, 1_000),
        StockLine("dead", 10, 500),
    ]
    # 30 days: fast sold 300 (10 a day: 10 days of stock), slow 5 (300 days: over 180), dead 0
    sold = {"fast": 300, "slow": 5}
    base = value(lines, sold, Policy(advance_bp=5_000))
    assert base.value_minor == 100 * 2_000 + 50 * 1_000 + 10 * 500
    assert base.eligible_minor == 200_000  # only the fast-moving SKU
    assert [s.eligible for s in base.skus] == [True, False, False]
    assert base.skus[0].days_of_stock == 10.0
    assert base.skus[2].days_of_stock is None
    assert base.sell_through_bp == 305 * 10_000 // 465  # 305 sold of 465 → 65.59 %
    assert base.advance_bp == 5_000  # above the 30 % target: the full rate
    assert base.limit_minor == 100_000
    # the same stock selling a tenth as fast: slow moving everywhere but fast (100 days)
    slower = value(lines, {"fast": 30, "slow": 1}, Policy(advance_bp=5_000))
    assert slower.eligible_minor == 200_000
    assert slower.sell_through_bp == 31 * 10_000 // 191  # 16.2 % of a 30 % target
    assert slower.advance_bp == int(5_000 * 31 * 10_000 / 191 / 3_000)
    assert slower.limit_minor == 200_000 * 5_000 * 31 * 10_000 // (191 * 3_000 * 10_000)


def test_no_stock_or_no_sales_lends_nothing_and_the_cap_binds() -> None:
    assert value([], {}, Policy(advance_bp=5_000)).limit_minor == 0
    assert value([StockLine("a", 10, 100)], {}, Policy(advance_bp=5_000)).limit_minor == 0
    capped = value([StockLine("a", 100, 1_000)], {"a": 1_000}, Policy(5_000, cap_minor=7_777))
    assert capped.limit_minor == 7_777
    sold_out = value([StockLine("a", 0, 1_000)], {"a": 40}, Policy(5_000))
    assert (sold_out.value_minor, sold_out.limit_minor, sold_out.sell_through_bp) == (0, 0, 10_000)


def test_fee_is_half_even_and_plan_sums_to_the_shortfall() -> None:
    assert fee_of(1_000_000, 150) == 15_000
    assert fee_of(250, 100) == 2  # 2.5 → 2
    assert fee_of(350, 100) == 4  # 3.5 → 4
    parts = plan(1_003, Policy(5_000, installments=4, every_days=7), DAY)
    assert parts == [(date(2026, 12, 11), 251), (date(2026, 12, 18), 251),
                     (date(2026, 12, 25), 251), (date(2027, 1, 1), 250)]  # fmt: skip
    assert plan(2, Policy(5_000, installments=4), DAY) == [
        (date(2026, 12, 11), 1), (date(2026, 12, 18), 1)]  # fmt: skip
    with pytest.raises(InvalidInput):
        plan(0, Policy(5_000), DAY)


def test_stale_reports_lend_nothing() -> None:
    assert stale(None, DAY)
    assert not stale(date(2026, 11, 27), DAY)  # 7 days old
    assert stale(date(2026, 11, 26), DAY)
    assert stale(date(2026, 12, 5), DAY)  # a report from the future is not today's


@pytest.mark.parametrize(
    "terms",
    [
        {"advance_bp": 0},
        {"advance_bp": MAX_ADVANCE_BP + 1},
        {"advance_bp": 5_000, "fee_bp": 1_001},
        {"advance_bp": 5_000, "installments": 0},
        {"advance_bp": 5_000, "installments": 13},
        {"advance_bp": 5_000, "max_days_of_stock": 0},
        {"advance_bp": 5_000, "target_sell_through_bp": 0},
        {"advance_bp": 5_000, "every_days": 0},
        {"advance_bp": 5_000, "cap_minor": 0},
        {"advance_bp": True},
        {"advance_bp": 5_000.0},
    ],
)
def test_bad_policies_are_refused(terms: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        Policy(**terms)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "lines",
    [
        "not a list",
        [{"sku": "a"}],
        [StockLine("", 1, 1)],
        [StockLine("a" * 65, 1, 1)],
        [StockLine("a", -1, 1)],
        [StockLine("a", 1, -1)],
        [StockLine("a", 1, 1), StockLine("a", 2, 2)],
        [StockLine("a", 10**10, 1)],
    ],
)
def test_bad_stock_lines_are_refused(lines: object) -> None:
    with pytest.raises(InvalidInput):
        check_lines(lines)


_lines = st.lists(
    st.builds(StockLine, st.sampled_from("abcdef"), st.integers(0, 10_000), st.integers(0, 10**6)),
    max_size=6,
    unique_by=lambda line: line.sku,
)
_sold = st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 50_000), max_size=7)
_policy = st.builds(
    Policy,
    advance_bp=st.integers(1, MAX_ADVANCE_BP),
    max_days_of_stock=st.integers(1, 365),
    target_sell_through_bp=st.integers(1, 10_000),
)


@given(_lines, _sold, _policy)
def test_the_limit_never_exceeds_the_advance_rate_on_eligible_stock(
    lines: list[StockLine], sold: dict[str, int], policy: Policy
) -> None:
    base = value(lines, sold, policy)
    assert 0 <= base.limit_minor * 10_000 <= base.eligible_minor * policy.advance_bp
    assert base.eligible_minor <= base.value_minor
    assert 0 <= base.advance_bp <= policy.advance_bp


@given(_lines, _sold, _policy, st.sampled_from("abcdefg"), st.integers(1, 1_000))
def test_selling_more_never_lowers_the_limit(
    lines: list[StockLine], sold: dict[str, int], policy: Policy, sku: str, more: int
) -> None:
    busier = {**sold, sku: sold.get(sku, 0) + more}
    assert value(lines, busier, policy).limit_minor >= value(lines, sold, policy).limit_minor


@given(st.integers(1, 10**12), st.integers(1, 12), st.integers(1, 31))
def test_a_plan_sums_exactly_and_never_grows(shortfall: int, parts: int, every: int) -> None:
    found = plan(shortfall, Policy(5_000, installments=parts, every_days=every), DAY)
    amounts = [amount for _, amount in found]
    assert sum(amounts) == shortfall
    assert len(found) == min(parts, shortfall)
    assert amounts == sorted(amounts, reverse=True)
    assert amounts[0] - amounts[-1] <= 1
    assert [d for d, _ in found] == sorted({d for d, _ in found})
