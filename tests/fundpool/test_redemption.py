"""The 2018 PRC cap on fast redemption (RMB 10,000 per investor per fund per day; CSRC and PBoC
《关于进一步规范货币市场基金互联网销售、赎回相关服务的指导意见》, reported at
http://finance.3news.cn/jr/2018/0602/268815.html) and the liquidity fee of SEC Rule 2a-7 as
amended in 2023 (daily net redemptions above 5% of net assets; https://finadium.com/?p=132531)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import InvalidAmount, InvalidInput, LimitExceeded
from embedfin.fundpool.redemption import (
    FAST_CAP_CNY_MINOR,
    MANDATORY_FEE_THRESHOLD,
    FastCapExceeded,
    FeePolicy,
    check_fast,
    liquidity_fee,
)

POLICY = FeePolicy(MANDATORY_FEE_THRESHOLD, Decimal("0.01"))


def test_the_fast_cap_is_rmb_10000_in_fen() -> None:
    assert FAST_CAP_CNY_MINOR == 10_000 * 100


def test_a_fast_redemption_up_to_the_cap_passes() -> None:
    check_fast(400_000, 600_000, FAST_CAP_CNY_MINOR)


def test_a_fast_redemption_over_what_is_left_of_the_cap_is_refused() -> None:
    with pytest.raises(FastCapExceeded) as raised:
        check_fast(400_001, 600_000, FAST_CAP_CNY_MINOR)
    assert isinstance(raised.value, LimitExceeded)
    assert raised.value.code == "fast_redemption_cap"


def test_no_fee_at_or_below_five_percent_of_net_assets() -> None:
    assert liquidity_fee(5_000, 0, 100_000, POLICY) == 0


def test_a_redemption_taking_the_day_past_five_percent_pays_the_fee_on_all_of_it() -> None:
    assert liquidity_fee(1_000, 4_500, 100_000, POLICY) == 10


def test_the_fee_rounds_half_even() -> None:
    assert liquidity_fee(50, 10_000, 100_000, POLICY) == 0  # 0.5 → 0
    assert liquidity_fee(150, 10_000, 100_000, POLICY) == 2  # 1.5 → 2


def test_no_policy_no_fee() -> None:
    assert liquidity_fee(99_000, 0, 100_000, None) == 0


def test_a_fee_rate_above_two_percent_is_refused() -> None:
    with pytest.raises(InvalidInput):
        FeePolicy(Decimal("0.05"), Decimal("0.021"))


def test_a_redemption_is_positive() -> None:
    with pytest.raises(InvalidAmount):
        liquidity_fee(0, 0, 100, POLICY)


@given(st.integers(1, 10**12), st.integers(0, 10**12), st.integers(1, 10**13))
def test_the_fee_is_never_more_than_two_percent_and_half_a_unit(
    amount: int, before: int, assets: int
) -> None:
    fee = liquidity_fee(amount, before, assets, FeePolicy(Decimal("0.05"), Decimal("0.02")))
    assert 0 <= fee <= amount * Decimal("0.02") + Decimal("0.5")


@given(st.integers(0, 2 * FAST_CAP_CNY_MINOR), st.integers(0, 2 * FAST_CAP_CNY_MINOR))
def test_fast_redemptions_of_a_day_never_pass_the_cap(first: int, second: int) -> None:
    used = 0
    for amount in (first, second):
        try:
            check_fast(amount, used, FAST_CAP_CNY_MINOR)
        except FastCapExceeded:
            continue
        used += amount
    assert used <= FAST_CAP_CNY_MINOR
