"""Merchant risk: a score from credit and fund-flow data, a tier, and the rolling reserve it asks.

Seed §1.2: the fund-flow data a platform sees flags fraud and ranks merchants. A merchant's
signals over the last 30 days (``MerchantSignals``: its paid orders, refunds, disputes, the risk
decisions on its checkouts, who buys from it) become one score from 0 to 100, the sum of capped
components, each naming what raised it:

=====================  =============================  ======================================
component              measure                        points (0 at the first, max at the
                                                      second; linear between)
=====================  =============================  ======================================
disputes               disputes ÷ paid orders         0.65% → 1.8%: 25 (Visa's dispute
                                                      monitoring starts at 0.65%, early
                                                      warning; its standard level is 0.9%)
fraud                  fraud that got through (an     0.9% → 5%: 25 (Visa's fraud monitoring
                       allowed check later labelled   for high-risk merchants: 0.9% of sales)
                       fraud) ÷ checks
refunds                refunds ÷ paid orders          10% → 30%: 20
flags                  held or refused checks ÷       3% → 15%: 15
                       checks
sales spike            orders in 7 d ÷ the 28 d       3× → 10×: 10 (with at least 20 orders
                       before's weekly mean           in the 7 days and a week of history
                                                      before them)
brushing               paid orders confirmed          30% → 80%: 20 (with at least 10 paid
                       received within a day ÷ paid   orders): fake orders "arrive" at once
concentration          the top 3 buyers' share of     30% → 80%: 15 (with at least 10 paid
                       paid orders                    orders): fake orders come from few
rings                  checks of buyers sharing a     10% → 50%: 20: mule accounts on one
                       device, address or card with   device buying on credit limits
                       another account ÷ checks
self-purchases         checks where buyer and         1% → 10%: 25
                       merchant share a device, IP
                       or address ÷ checks
=====================  =============================  ======================================

Rates are smoothed towards a prior (``(events + prior × n0) / (orders + n0)``, n0 = 100 orders)
so a new merchant's first refund does not read as a 100% refund rate. Tiers: ``low`` below 25,
``medium`` below 50, ``high`` from 50; a tier's rolling reserve (``RESERVES``) holds back a share
of every T+1 settlement for a term, after which the settlement run releases it. A risk officer
may set another reserve for a merchant (a policy); the policy wins over the tier.

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from embedfin.core.errors import InvalidInput

#: The smoothing weight of the priors, in orders.
PRIOR_ORDERS = 100
#: The most a reserve may hold back, in basis points of a settlement (a policy above is refused).
MAX_RESERVE_BP = 5_000
#: The longest a reserve may hold, in days.
MAX_HOLD_DAYS = 180


class Tier(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Reserve:
    """A rolling reserve: ``bp`` basis points of each settlement held for ``hold_days``."""

    bp: int
    hold_days: int

    def __post_init__(self) -> None:
        if not 0 <= self.bp <= MAX_RESERVE_BP:
            raise InvalidInput(f"a reserve holds 0 to {MAX_RESERVE_BP} basis points")
        if not 0 <= self.hold_days <= MAX_HOLD_DAYS:
            raise InvalidInput(f"a reserve holds for 0 to {MAX_HOLD_DAYS} days")
        if (self.bp == 0) != (self.hold_days == 0):
            raise InvalidInput("a reserve holds a share for some days, or nothing")

    def held_of(self, amount_minor: int) -> int:
        """The share of a settlement of ``amount_minor`` the reserve holds back (rounded down:
        the merchant never gets less than the rest)."""
        if amount_minor < 0:
            raise InvalidInput("a settlement is not negative")
        return amount_minor * self.bp // 10_000


NO_RESERVE = Reserve(0, 0)
RESERVES = {
    Tier.LOW: NO_RESERVE,
    Tier.MEDIUM: Reserve(500, 30),
    Tier.HIGH: Reserve(1_000, 90),
}


@dataclass(frozen=True, slots=True)
class MerchantSignals:
    """One merchant's fund-flow and risk signals over the scoring window (counts).

    Attributes:
        paid_orders: orders paid in the window.
        buyers: distinct buyers of those orders.
        top_buyer_orders: paid orders of its three most frequent buyers.
        refunds: refunds (any reason but disputes and chargebacks) of its orders in the window.
        disputes: disputes open on its orders, and disputes lost or charged back, in the window.
        checks, flagged: risk checks of checkouts at it, and those held or refused.
        labelled: checks with a known outcome.
        fraud_labels: checks it allowed that were later labelled fraud (fraud that got through).
        orders_7d, orders_prior_28d: paid orders in the last 7 days, and in the 28 before.
        prior_days: of those 28 days, how many the merchant was onboarded for.
        quick_confirms: paid orders confirmed received within a day of payment.
        ring_checks: checks whose device, shipping address or card other accounts used too.
        self_checks: checks where buyer and merchant share a device, IP or address.
    """

    paid_orders: int = 0
    buyers: int = 0
    top_buyer_orders: int = 0
    refunds: int = 0
    disputes: int = 0
    checks: int = 0
    flagged: int = 0
    labelled: int = 0
    fraud_labels: int = 0
    orders_7d: int = 0
    orders_prior_28d: int = 0
    prior_days: int = 28
    quick_confirms: int = 0
    ring_checks: int = 0
    self_checks: int = 0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidInput(f"merchant signal {name} is a count, not {value!r}")

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Component:
    """One part of a score: its code, what it measured, and the points it added."""

    code: str
    measure: float
    points: float
    message: str


@dataclass(frozen=True, slots=True)
class MerchantScore:
    """A merchant's score (0–100), its tier, the reserve the tier asks, and why."""

    score: int
    tier: Tier
    reserve: Reserve
    components: tuple[Component, ...]

    def reasons(self) -> list[dict[str, Any]]:
        """The components that added points, the largest first."""
        return [
            {
                "code": c.code,
                "measure": round(c.measure, 6),
                "points": round(c.points, 2),
                "message": c.message,
            }  # fmt: skip
            for c in sorted(self.components, key=lambda c: -c.points)
            if round(c.points, 2) > 0
        ]


def _ramp(value: float, start: float, full: float, points: float) -> float:
    """0 up to ``start``, ``points`` from ``full``, linear between."""
    if value <= start:
        return 0.0
    if value >= full:
        return points
    return points * (value - start) / (full - start)


def _smoothed(events: int, n: int, prior: float) -> float:
    return (events + prior * PRIOR_ORDERS) / (n + PRIOR_ORDERS)


def _share(part: int, whole: int) -> float:
    return min(part, whole) / whole if whole else 0.0


def tier_of(score: int) -> Tier:
    if score >= 50:
        return Tier.HIGH
    if score >= 25:
        return Tier.MEDIUM
    return Tier.LOW


def score_merchant(signals: MerchantSignals) -> MerchantScore:
    """The merchant's score, tier and reserve from its signals (the table above)."""
    s = signals
    disputes = _smoothed(s.disputes, s.paid_orders, 0.003)
    fraud = _smoothed(s.fraud_labels, s.checks, 0.002)
    refunds = _smoothed(s.refunds, s.paid_orders, 0.05)
    flags = _smoothed(s.flagged, s.checks, 0.01)
    weekly = s.orders_prior_28d * 7 / max(min(s.prior_days, 28), 1)
    spike = s.orders_7d / max(weekly, 1.0) if s.orders_7d >= 20 and s.prior_days >= 7 else 0.0
    brushing = _share(s.quick_confirms, s.paid_orders) if s.paid_orders >= 10 else 0.0
    concentration = _share(s.top_buyer_orders, s.paid_orders) if s.paid_orders >= 10 else 0.0
    rings = _share(s.ring_checks, s.checks)
    own = _share(s.self_checks, s.checks)
    components = (
        Component("disputes", disputes, _ramp(disputes, 0.0065, 0.018, 25),
                  f"{s.disputes} disputes or chargebacks on {s.paid_orders} paid orders"),
        Component("fraud", fraud, _ramp(fraud, 0.009, 0.05, 25),
                  f"{s.fraud_labels} of {s.checks} checks let through were fraud"),
        Component("refunds", refunds, _ramp(refunds, 0.10, 0.30, 20),
                  f"{s.refunds} refunds on {s.paid_orders} paid orders"),
        Component("flags", flags, _ramp(flags, 0.03, 0.15, 15),
                  f"{s.flagged} of {s.checks} checks held or refused"),
        Component("sales_spike", spike, _ramp(spike, 3.0, 10.0, 10),
                  f"{s.orders_7d} orders in 7 days against {weekly:.1f} a week before"),
        Component("brushing", brushing, _ramp(brushing, 0.30, 0.80, 20),
                  f"{s.quick_confirms} of {s.paid_orders} orders confirmed within a day"),
        Component("concentration", concentration, _ramp(concentration, 0.30, 0.80, 15),
                  f"its top 3 buyers placed {s.top_buyer_orders} of {s.paid_orders} orders"),
        Component("rings", rings, _ramp(rings, 0.10, 0.50, 20),
                  f"{s.ring_checks} of {s.checks} checks shared a device, address or card"),
        Component("self_purchases", own, _ramp(own, 0.01, 0.10, 25),
                  f"{s.self_checks} of {s.checks} checks linked buyer and merchant"),
    )  # fmt: skip
    score = min(100, round(sum(c.points for c in components)))
    tier = tier_of(score)
    return MerchantScore(score, tier, RESERVES[tier], components)
