"""A day's income to every holder, in whole minor units, with the fraction carried.

Method: **carry per holder**, in nano-minor units (``SCALE`` = 10⁹ per minor unit). The day's
distributable income ``D`` (minor units: the portfolio's amortised interest and any liquidity
fees) plus the fund's own carried residue ``F`` (nano-minor) gives a rate per unit

    rate = ⌊(D × SCALE + F) / U⌋          (nano-minor per minor unit of units; floor)

over the ``U`` units outstanding. Each holder with ``u`` units and carry ``c`` earns
``u × rate + c`` nano-minor: the whole minor units of it become units (stable NAV 1.00), the
rest ``(u × rate + c) mod SCALE`` is the holder's new carry. What the floor of the rate left,
``D × SCALE + F − rate × U``, is the fund's new residue, distributed the next day. So, exactly,

    D × SCALE + F + Σ c  =  Σ credited × SCALE + F' + Σ c'

— nothing is lost or invented: a day's income is either some holder's units or carried (the
holders' carries and the fund's residue). The set-based SQL of the service is this function row
by row; ``tests/fundpool`` checks the two agree.

Bounds, so ``u × rate + c`` fits a signed 64-bit integer in both databases: a day distributes at
most 1% of the units (``MAX_DAILY_RATE_PER``; more income — a fund most holders just left —
stays in the fund's residue for the next days, never refused, so a day can always be accrued)
and a holding is at most ``MAX_HOLDING_MINOR``. A day that loses money is refused: a stable-NAV
fund absorbs it before distribution (or, under the 2023 amendments to Rule 2a-7, reduces units —
not implemented). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from embedfin.core.errors import InvalidAmount

SCALE = 10**9
MAX_DAILY_RATE_PER = 100  # income per day ≤ units / 100
MAX_HOLDING_MINOR = 10**11
INT64_MAX = (1 << 63) - 1
#: the largest rate the SQL may multiply by: a holding four times the largest still fits
MAX_RATE_NANO = (INT64_MAX - SCALE) // (4 * MAX_HOLDING_MINOR)
assert SCALE // MAX_DAILY_RATE_PER <= MAX_RATE_NANO


@dataclass(frozen=True, slots=True)
class Holding:
    """One holder's position.

    Attributes:
        units_minor: units in minor units (100 = 1.00 unit of a 2-decimal currency).
        carry_nano: income earned but not yet a whole minor unit, 0 ≤ carry < ``SCALE``.
    """

    units_minor: int
    carry_nano: int = 0


@dataclass(frozen=True, slots=True)
class DayRate:
    """The rate of one day and what the fund keeps.

    Attributes:
        rate_nano: nano-minor units of income per minor unit of units.
        residue_nano: the fund's new residue ``F'`` (0 ≤ residue < units, or all of it when
            there are no units).
    """

    rate_nano: int
    residue_nano: int


def day_rate(distributable_minor: int, residue_nano: int, units_minor: int) -> DayRate:
    """The day's rate over ``units_minor`` units; with no units everything stays carried."""
    if distributable_minor < 0 or residue_nano < 0 or units_minor < 0:
        raise InvalidAmount("a day's income, the residue and the units are never negative")
    pool = distributable_minor * SCALE + residue_nano
    if units_minor == 0:
        return DayRate(0, pool)
    rate = min(pool // units_minor, SCALE // MAX_DAILY_RATE_PER)
    return DayRate(rate, pool - rate * units_minor)


def credit(holding: Holding, rate_nano: int) -> tuple[int, int]:
    """What one holder gets: (minor units credited as units, the new carry)."""
    earned = holding.units_minor * rate_nano + holding.carry_nano
    return earned // SCALE, earned % SCALE


def accrue_all(
    holdings: Sequence[Holding], distributable_minor: int, residue_nano: int
) -> tuple[list[Holding], DayRate, int]:
    """The day for every holder: (the new holdings, the rate, the minor units credited)."""
    rate = day_rate(distributable_minor, residue_nano, sum(h.units_minor for h in holdings))
    after: list[Holding] = []
    credited = 0
    for holding in holdings:
        gained, carry = credit(holding, rate.rate_nano)
        credited += gained
        after.append(Holding(holding.units_minor + gained, carry))
    return after, rate, credited


def amortised_interest(interest_minor: int, term_days: int, days_held: int) -> int:
    """The part of an asset's interest earned after ``days_held`` of its ``term_days``:
    straight-line at amortised cost, floored, so the daily increments sum exactly to the
    interest on the maturity day and never pass it."""
    if term_days <= 0:
        return interest_minor
    held = min(max(days_held, 0), term_days)
    return interest_minor * held // term_days
