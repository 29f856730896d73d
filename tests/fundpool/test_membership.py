"""Membership tiers from balances and activity; no benefit needs a loan (seed §4.1)."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from embedfin.fundpool.membership import (
    _BENEFITS,
    THRESHOLDS,
    Benefits,
    MemberProfile,
    Tier,
    benefits_of,
    tier_of,
)

CREDIT_WORDS = ("loan", "credit", "installment", "borrow", "debt", "limit")


def test_the_profile_a_tier_is_decided_on_has_no_credit_field() -> None:
    names = [f.name for f in dataclasses.fields(MemberProfile)]
    assert not [n for n in names if any(word in n for word in CREDIT_WORDS)]


def test_every_benefit_is_reached_without_a_loan() -> None:
    # A member who never borrowed reaches each tier by balance and activity alone, so every
    # benefit any tier grants is reachable without credit.
    reached = {
        tier_of(MemberProfile(balance, days)): benefits_of(MemberProfile(balance, days))
        for tier, balance, days in THRESHOLDS
    }
    assert set(reached) == {Tier.SILVER, Tier.GOLD, Tier.PLATINUM}
    assert set(_BENEFITS) - set(reached) == {Tier.STANDARD}
    best = reached[Tier.PLATINUM]
    assert best.free_withdrawals
    assert best.fx_spread_halved
    assert best.free_fast_redemptions > 0


def test_a_small_inactive_balance_is_standard() -> None:
    assert benefits_of(MemberProfile(999_999, 30)) == Benefits(Tier.STANDARD, False, 0, False)


@given(st.integers(0, 10**10), st.integers(0, 30), st.integers(0, 10**10), st.integers(0, 30))
def test_more_balance_and_activity_never_lower_the_tier(
    b: int, d: int, more_b: int, more_d: int
) -> None:
    assert tier_of(MemberProfile(b + more_b, d + more_d)) >= tier_of(MemberProfile(b, d))
