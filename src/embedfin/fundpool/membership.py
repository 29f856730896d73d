"""Membership tiers bound to the fund account, and the fee waivers they bring.

A tier comes from what a member keeps in the fund and how actively it uses its account: the
average balance over the last 30 days and the number of days in it with a subscription,
redemption or payment. Nothing here reads credit: the profile has no loan, credit line or
installment field, and no benefit is granted for borrowing (seed §4.1 on bundling; MISSION.md
"no forced bundling"). ``tests/fundpool/test_membership.py`` proves every benefit is reached
without a loan. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Tier(IntEnum):
    STANDARD = 0
    SILVER = 1
    GOLD = 2
    PLATINUM = 3


@dataclass(frozen=True, slots=True)
class MemberProfile:
    """What a tier is decided on.

    Attributes:
        average_balance_minor: the fund balance averaged over the last 30 days.
        active_days: days of the last 30 with a subscription, redemption or wallet payment.
    """

    average_balance_minor: int
    active_days: int


@dataclass(frozen=True, slots=True)
class Benefits:
    """Attributes: the tier, whether wallet withdrawals to a bank are free, how many fast
    redemptions a month carry no service fee, and whether cross-border FX spreads are halved."""

    tier: Tier
    free_withdrawals: bool
    free_fast_redemptions: int
    fx_spread_halved: bool


#: (tier, minimum average balance in minor units, minimum active days)
THRESHOLDS: tuple[tuple[Tier, int, int], ...] = (
    (Tier.PLATINUM, 50_000_000, 10),
    (Tier.GOLD, 10_000_000, 5),
    (Tier.SILVER, 1_000_000, 1),
)
_BENEFITS = {
    Tier.STANDARD: Benefits(Tier.STANDARD, False, 0, False),
    Tier.SILVER: Benefits(Tier.SILVER, False, 3, False),
    Tier.GOLD: Benefits(Tier.GOLD, True, 10, False),
    Tier.PLATINUM: Benefits(Tier.PLATINUM, True, 30, True),
}


def tier_of(profile: MemberProfile) -> Tier:
    for tier, balance, days in THRESHOLDS:
        if profile.average_balance_minor >= balance and profile.active_days >= days:
            return tier
    return Tier.STANDARD


def benefits_of(profile: MemberProfile) -> Benefits:
    return _BENEFITS[tier_of(profile)]
