"""A loan's record and the rules on it: the repayment waterfall, daily interest, days past due,
delinquency buckets, late fees and the loss-allowance rates. Values in, decisions out: no
database, ledger or clock (``servicing`` and ``jobs`` apply them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from embedfin.commerce.orders import Order
from embedfin.core.errors import InvalidAmount, LimitExceeded
from embedfin.lending.products import Caps, Plan
from embedfin.lending.schedules import Installment, Schedule

#: Expected-loss rates by delinquency bucket for the loss allowance (a simple roll-rate table;
#: the risk issue will estimate these from the book).
PROVISION_RATES = {
    "current": Decimal("0.01"),
    "1-30": Decimal("0.05"),
    "31-60": Decimal("0.20"),
    "61-90": Decimal("0.40"),
    "91-120": Decimal("0.60"),
    "120+": Decimal("1.00"),
}


class LoanStatus(StrEnum):
    ACTIVE = "active"
    PAID_OFF = "paid_off"
    CHARGED_OFF = "charged_off"


@dataclass(frozen=True, slots=True)
class Loan:
    tenant: str
    loan_id: str
    order_id: str
    buyer_id: str
    funder_id: str
    plan_code: str
    currency: str
    principal_minor: int
    annual_rate: Decimal
    start: date
    status: LoanStatus
    principal_outstanding: int
    interest_due: int
    fees_due: int
    repaid_minor: int
    accrued_through: date
    accrual_carry: Decimal
    written_off_minor: int
    line_id: str | None = None  # a draw on a revolving credit line (virtual card)

    @property
    def owed_minor(self) -> int:
        return self.principal_outstanding + self.interest_due + self.fees_due


def waterfall(loan: Loan, amount_minor: int) -> tuple[int, int, int]:
    """Split a repayment: fees first, then interest, then principal."""
    if amount_minor <= 0:
        raise InvalidAmount("a repayment must be positive")
    if amount_minor > loan.owed_minor:
        raise LimitExceeded(f"the loan owes {loan.owed_minor} minor units, less than paid")
    fees = min(amount_minor, loan.fees_due)
    interest = min(amount_minor - fees, loan.interest_due)
    return fees, interest, amount_minor - fees - interest


def accrue_interest(
    principal: int, annual_rate: Decimal, days: int, carry: Decimal
) -> tuple[int, Decimal]:
    """Simple daily interest (actual/365) on the outstanding principal; the fraction of a minor
    unit is carried to the next accrual, so nothing is lost to rounding over the loan's life."""
    if days <= 0 or principal <= 0 or annual_rate == 0:
        return 0, carry
    exact = Decimal(principal) * annual_rate * days / 365 + carry
    whole = int(exact)
    return whole, exact - whole


def days_past_due(
    installments: Sequence[Installment], late_fees: Sequence[int], repaid: int, as_of: date
) -> int:
    """Days since the first installment (with its late fee) that repayments do not cover."""
    covered = repaid
    for installment, late in zip(installments, late_fees, strict=True):
        covered -= installment.total_minor + late
        if covered < 0:
            return max((as_of - installment.due).days, 0)
    return 0


def bucket(dpd: int) -> str:
    """Delinquency buckets as reported to risk and regulators."""
    if dpd <= 0:
        return "current"
    for upper, name in ((30, "1-30"), (60, "31-60"), (90, "61-90"), (120, "91-120")):
        if dpd <= upper:
            return name
    return "120+"


def late_fee(caps: Caps, installment_total: int) -> int:
    """One late fee: the jurisdiction's fixed cap and percentage cap, whichever is lower."""
    return min(caps.late_fee_max_minor, installment_total * caps.late_fee_max_bp // 10_000)


def new_loan(
    order: Order,
    plan_code: str,
    plan: Plan,
    schedule: Schedule,
    *,
    funder_id: str,
    loan_id: str,
    line_id: str | None,
    start: date,
) -> Loan:
    """A new active loan for the order's total on ``plan`` (asked for as ``plan_code``), owing
    the schedule's flat fee; ``line_id`` when it is a draw on a credit line."""
    return Loan(
        tenant=order.tenant,
        loan_id=loan_id,
        order_id=order.order_id,
        buyer_id=order.buyer_id,
        funder_id=funder_id,
        plan_code=plan_code,
        currency=order.currency,
        principal_minor=order.total_minor,
        annual_rate=plan.annual_rate,
        start=start,
        status=LoanStatus.ACTIVE,
        principal_outstanding=order.total_minor,
        interest_due=0,
        fees_due=schedule.fee_minor,
        repaid_minor=0,
        accrued_through=start,
        accrual_carry=Decimal(0),
        written_off_minor=0,
        line_id=line_id,
    )
