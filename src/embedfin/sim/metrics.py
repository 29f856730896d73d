"""What a run measured, and the report assembled from it.

The metrics are measured from what the services did (payments approved, fees charged by the
channel actually used, when each order's money was released and became available).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from embedfin.core.clock import NS_PER_SECOND
from embedfin.ledger.check import CheckReport
from embedfin.sim.agents import OrderRecord
from embedfin.sim.scenario import Scenario

DAY_NS = 86_400 * NS_PER_SECOND


@dataclass
class Tally:
    """The counters the day's phases add to."""

    attempts: int = 0  # purchase attempts that reached checkout
    out_of_stock: int = 0
    refunds: int = 0
    payments_tried: int = 0
    payments_ok: int = 0
    fees: int = 0  # minor units charged by the channels used
    credit_wanted: int = 0
    credit_granted: int = 0
    thin_wanted: int = 0
    thin_granted: int = 0
    daily_gmv: list[int] = field(default_factory=list)
    daily_orders: list[int] = field(default_factory=list)


@dataclass
class Report:
    scenario: str
    mode: str
    days: int
    consumers: int
    merchants: int
    checkout_attempts: int
    orders_paid: int
    gmv_minor: int
    checkout_conversion: float
    payment_success_rate: float
    payment_cost_per_order_minor: float
    settlement_delay_days: float
    merchant_cash_cycle_days: float
    refund_rate: float  # orders refunded (faulty parcels) ÷ paid
    out_of_stock: int  # purchase attempts lost to an empty shelf
    credit_requests: int
    loans: int
    credit_access_thin_file: float  # thin-file requests granted ÷ made
    loans_in_arrears_rate: float  # loans with an installment past due at the end
    ledger_transfers_checked: int
    invariants_ok: bool
    daily_gmv_minor: list[int] = field(default_factory=list)
    daily_orders: list[int] = field(default_factory=list)


def _mean_days(spans_ns: list[int]) -> float:
    return round(sum(spans_ns) / max(len(spans_ns), 1) / DAY_NS, 3)


def assemble_report(
    scenario: Scenario,
    tally: Tally,
    paid: Collection[OrderRecord],
    *,
    loans: int,
    in_arrears: int,
    check: CheckReport,
) -> Report:
    """The run's report: ``paid`` are the orders paid, ``loans`` and ``in_arrears`` the loans
    made and those with an installment past due, ``check`` the invariants at the end."""
    available = [r for r in paid if r.available_ns]
    tried = max(tally.payments_tried, 1)
    return Report(
        scenario=scenario.name,
        mode=scenario.mode,
        days=scenario.days,
        consumers=scenario.consumers,
        merchants=scenario.merchants,
        checkout_attempts=tally.attempts,
        orders_paid=len(paid),
        gmv_minor=sum(r.amount for r in paid),
        checkout_conversion=round(len(paid) / max(tally.attempts, 1), 4),
        payment_success_rate=round(tally.payments_ok / tried, 4),
        payment_cost_per_order_minor=round(tally.fees / max(len(paid), 1), 2),
        settlement_delay_days=_mean_days([r.available_ns - r.paid_ns for r in available]),
        merchant_cash_cycle_days=_mean_days([r.available_ns - r.shipped_ns for r in available]),
        refund_rate=round(tally.refunds / max(len(paid), 1), 4),
        out_of_stock=tally.out_of_stock,
        credit_requests=tally.credit_wanted,
        loans=loans,
        credit_access_thin_file=round(tally.thin_granted / max(tally.thin_wanted, 1), 4),
        loans_in_arrears_rate=round(in_arrears / max(loans, 1), 4),
        ledger_transfers_checked=check.transfers,
        invariants_ok=check.ok,
        daily_gmv_minor=tally.daily_gmv,
        daily_orders=tally.daily_orders,
    )
