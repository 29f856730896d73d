"""Loans on the ledger: financing a checkout, accrual, repayment, refunds, delinquency, losses.

Two sets of books share the ledger (see ``payments/chart.py``). The custodian's: a funder's cash
deposited in the client reserve is "lender funds held" and counts with the liabilities, so the
safeguarding equation holds through every loan. The lender's: its cash at the custodian (always
equal to the funds held — ``embedfin check`` verifies it), and per loan the principal, interest
and fees receivable. Every movement is a ledger transfer:

=========================  =====================================  ===========================
event                      custodial leg                          lender leg(s)
=========================  =====================================  ===========================
funder deposits            reserve → funds held                   capital → lender cash
loan finances an order     funds held → escrow (order paid)       lender cash → loan principal
flat fee / late fee        —                                      fee income → loan fees due
daily interest accrual     —                                      interest income → interest due
repayment (from wallet)    wallet → funds held                    fees, interest, principal
                                                                  due → lender cash (waterfall)
refund of a financed       escrow (or merchant) → funds held      principal → lender cash
purchase                   (beyond the principal: → wallet;       (``apply_refund``; the rest
                           payments/refunds routes it)            of the refund is payments')
charge-off                 —                                      receivables → credit losses
=========================  =====================================  ===========================

The repayment waterfall is fees → interest → principal; paying more than is due early pays down
principal (interest accrues daily on what is outstanding, so early repayment saves interest);
paying more than is owed is refused. Delinquency compares what the schedule has made due with
what was repaid; days past due count from the first installment not covered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from embedfin.commerce.orders import Order, OrderStatus
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import (
    IdempotencyMismatch,
    InvalidAmount,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from embedfin.core.money import Money
from embedfin.ledger.service import LedgerTransaction
from embedfin.lending.book import LoanBook
from embedfin.lending.chart import (
    CODE_FUND,
    CODE_FUND_CAPITAL,
    CODE_REFUND_PRINCIPAL,
    LendingAccountCode,
)
from embedfin.lending.jobs import LoanJobs
from embedfin.lending.loan_store import LoanStore
from embedfin.lending.loans import (
    PROVISION_RATES,
    Loan,
    LoanStatus,
    accrue_interest,
    bucket,
    days_past_due,
    late_fee,
    new_loan,
    waterfall,
)
from embedfin.lending.products import Plan, PlanCatalog
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import AccountCode, platform_account
from embedfin.payments.escrow.bulk import checkout_subject
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.limits import BalancePayment
from embedfin.payments.moves import move
from embedfin.payments.refunds.financing import FinancedLoan
from embedfin.payments.requests import check_name, check_request_id
from embedfin.risk.decision import RiskContext, SubjectKind

__all__ = [
    "PROVISION_RATES",
    "Lending",
    "Loan",
    "LoanStatus",
    "accrue_interest",
    "bucket",
    "days_past_due",
    "late_fee",
    "waterfall",
]


class Lending:
    """Lending's commands and queries for a tenant; the daily jobs are ``self.jobs``'s (the
    methods of the same names here run them)."""

    def __init__(
        self,
        checkout: Checkout,
        catalog: PlanCatalog,
        *,
        grace_days: int = 10,
        charge_off_dpd: int = 120,
        platform_fee_bp: int = 100,
    ) -> None:
        self.checkout = checkout
        self.ledger = checkout.ledger
        self.tenant = checkout.tenant
        self.clock = checkout.clock
        self.catalog = catalog
        self.caps = catalog.caps
        self.grace_days = grace_days
        self.charge_off_dpd = charge_off_dpd
        if not 0 <= platform_fee_bp < 10_000:
            raise InvalidInput("the platform fee is 0-9,999 basis points")
        self.platform_fee_bp = platform_fee_bp
        self.store = LoanStore(self.tenant, self.clock)
        self.book = LoanBook(self.tenant, self.store)
        self.jobs = LoanJobs(
            self.ledger,
            self.book,
            self.caps,
            self.today,
            grace_days=grace_days,
            charge_off_dpd=charge_off_dpd,
        )

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock.now_ns() / NS_PER_SECOND, tz=UTC).date()

    # --- commands ------------------------------------------------------------------------------
    def fund(self, funder_id: str, amount: Money, request_id: str) -> None:
        """A funder (the platform itself or a partner bank) deposits lending cash."""
        check_request_id(request_id)
        if amount.amount_minor <= 0:
            raise InvalidAmount("a deposit must be positive")
        book, minor = self.book, amount.amount_minor
        reserve = platform_account(self.tenant, amount.currency, AccountCode.CLIENT_RESERVE)
        held = book.funder(funder_id, amount.currency, AccountCode.LENDER_FUNDS_HELD)
        cash = book.funder(funder_id, amount.currency, LendingAccountCode.LENDER_CASH)
        capital = book.funder(funder_id, amount.currency, LendingAccountCode.LENDER_CAPITAL)
        with self.ledger.transaction() as tx:
            open_accounts(tx, [reserve, held, cash, capital])
            move(
                tx,
                [
                    book.leg(request_id, "fund", reserve, held, minor, CODE_FUND),
                    book.leg(request_id, "capital", cash, capital, minor, CODE_FUND_CAPITAL),
                ],
                insufficient="unreachable",
            )

    def finance_order(
        self,
        order_id: str,
        plan_code: str,
        funder_id: str,
        loan_id: str,
        line_id: str | None = None,
        context: RiskContext | None = None,
    ) -> Loan:
        """Pay an order awaiting payment with a loan on ``plan_code`` funded by ``funder_id``.

        The order is paid into escrow from the funder's cash; a plan due at checkout collects
        its first installment from the buyer's wallet in the same unit of work."""
        plan = self.catalog.plans.get(plan_code)
        if plan is None:
            raise NotFound(f"no plan {plan_code}")
        check_name("loan_id", loan_id)
        refusal = None
        with self.ledger.transaction() as tx:
            existing = self.store.load(tx.conn, loan_id)
            if existing is not None:
                if (existing.order_id, existing.plan_code) != (order_id, plan_code):
                    raise IdempotencyMismatch(f"loan {loan_id} financed another order or plan")
                return existing
            order = self._financeable_order(tx, order_id, plan_code, plan)
            answer = self.checkout.risk.check(
                tx,
                checkout_subject(order, "credit_line" if line_id else "bnpl", context),
                attempt=loan_id,
                holdable=True,
            )
            refusal = answer.refusal
            if refusal is None:
                return self._finance(
                    tx, order, plan_code, plan, funder_id, loan_id, line_id, hold=answer.hold
                )
        raise refusal

    def _finance(
        self,
        tx: LedgerTransaction,
        order: Order,
        plan_code: str,
        plan: Plan,
        funder_id: str,
        loan_id: str,
        line_id: str | None,
        *,
        hold: bool,
    ) -> Loan:
        """The loan, the disbursement into escrow, the paid (maybe held) order, in ``tx``."""
        start = self.today()
        schedule = plan.schedule(order.total_minor, start)
        loan = new_loan(
            order,
            plan_code,
            plan,
            schedule,
            funder_id=funder_id,
            loan_id=loan_id,
            line_id=line_id,
            start=start,
        )
        legs = self.book.disbursement(tx, loan, schedule.fee_minor, self.platform_fee_bp)
        move(tx, legs, insufficient=f"funder {funder_id} has too little lending cash")
        paid = self.checkout.mark_paid(tx, order, {"financed_by": loan_id, "plan": plan_code})
        if hold:
            self.checkout.hold_for_review(tx, paid)
        self.checkout.risk.settle(
            tx, SubjectKind.CHECKOUT, order.order_id, succeeded=True, attempt=loan_id
        )
        self.store.insert(tx.conn, loan, schedule.installments)
        _emit_disbursed(tx, loan, schedule.fee_minor)
        first = schedule.installments[0]
        if plan.due_at_checkout:
            loan = self.book.repay(tx, loan, first.total_minor, f"{loan_id}:at-checkout")
        return loan

    def _financeable_order(
        self, tx: LedgerTransaction, order_id: str, plan_code: str, plan: Plan
    ) -> Order:
        """The order, locked, if it awaits payment and the plan is offered for its category."""
        order = self.checkout.locked_order(tx, order_id)
        if order.status is not OrderStatus.AWAITING_PAYMENT:
            raise InvalidStateTransition(f"order {order_id} is {order.status}")
        if plan.categories is not None and order.category not in plan.categories:
            raise InvalidInput(f"{plan_code} is not offered for {order.category}")
        return order

    def repay(self, loan_id: str, amount: Money, request_id: str) -> Loan:
        """Repay from the buyer's wallet (fees → interest → principal)."""
        check_request_id(request_id)
        with self.ledger.transaction() as tx:
            loan = self.store.locked(tx.conn, loan_id)
            if amount.currency != loan.currency:
                raise InvalidInput(f"the loan is in {loan.currency}, not {amount.currency}")
            replay = self.store.event(tx.conn, request_id)
            if replay is not None:
                if (replay["loan_id"], replay["amount_minor"]) != (loan_id, amount.amount_minor):
                    raise IdempotencyMismatch(f"request_id {request_id!r} was another repayment")
                return loan
            if loan.status is not LoanStatus.ACTIVE:
                raise InvalidStateTransition(f"loan {loan_id} is {loan.status}")
            spend = [BalancePayment(loan.buyer_id, amount, "transfer", self.clock.now_ns())]
            (limit,) = self.checkout.limits.check_many(tx, spend)
            if limit is not None:  # a repayment from the balance is a balance payment
                raise limit
            loan = self.book.accrue_one(tx, loan, self.today())
            repaid = self.book.repay(tx, loan, amount.amount_minor, request_id)
            self.checkout.limits.count_many(tx, spend)
            return repaid

    # --- the daily jobs (``jobs.LoanJobs``) ----------------------------------------------------
    def accrue(self, as_of: date | None = None) -> int:
        """Accrue daily interest on every active loan up to ``as_of``; returns how many."""
        return self.jobs.accrue(as_of)

    def assess_late_fees(self, as_of: date | None = None) -> int:
        """One capped late fee per installment left unpaid past the grace period."""
        return self.jobs.assess_late_fees(as_of)

    def report_due_installments(self, as_of: date | None = None) -> int:
        """``installment_due`` events for installments whose grace period is over."""
        return self.jobs.report_due_installments(as_of)

    def charge_off(self, as_of: date | None = None) -> list[str]:
        """Write off every loan at least ``charge_off_dpd`` days past due."""
        return self.jobs.charge_off(as_of)

    def provision(self, as_of: date | None = None) -> dict[tuple[str, str], int]:
        """True up each funder's loss allowance; returns it per (funder, currency)."""
        return self.jobs.provision(as_of)

    # --- refunds of financed orders (the ``payments.refunds.financing.Financing`` port) -----------
    def loan_of_order(self, tx: LedgerTransaction, order_id: str) -> FinancedLoan | None:
        """The loan that paid ``order_id``, locked for this unit of work (refunds pay it down)."""
        loan_id = self.store.loan_id_of_order(tx.conn, order_id)
        if loan_id is None:
            return None
        loan = self.store.locked(tx.conn, loan_id)
        held = self.book.funder(loan.funder_id, loan.currency, AccountCode.LENDER_FUNDS_HELD)
        return FinancedLoan(loan.loan_id, loan.principal_outstanding, held)

    def apply_refund(
        self, tx: LedgerTransaction, financed: FinancedLoan, amount_minor: int, request_id: str
    ) -> None:
        """The lender's side of a refund that went to the loan (the custodial leg, escrow or the
        merchant → funds held, is the refund's own): principal → lender cash, the installments
        still to come shrink, a loan paid down to nothing is settled."""
        book = self.book
        loan = self.store.locked(tx.conn, financed.loan_id)
        if not 0 < amount_minor <= loan.principal_outstanding:
            raise InvalidAmount("a refund pays down at most the principal outstanding")
        cash = book.funder(loan.funder_id, loan.currency, LendingAccountCode.LENDER_CASH)
        move(
            tx,
            [
                book.leg(
                    f"refund:{request_id}",
                    "loan",
                    cash,
                    book.loan_key(loan, LendingAccountCode.LOAN_PRINCIPAL),
                    amount_minor,
                    CODE_REFUND_PRINCIPAL,
                )
            ],
            insufficient="unreachable: capped at the outstanding principal",
        )
        loan = replace(loan, principal_outstanding=loan.principal_outstanding - amount_minor)
        self.store.record_event(
            tx.conn, f"refund:{request_id}", loan, "refund", amount_minor, 0, 0, amount_minor
        )
        book.reschedule(tx.conn, loan, amount_minor)
        book.settle_if_paid(tx, loan)

    # --- queries -------------------------------------------------------------------------------
    def owed_by_buyers(self, conn: Connection, buyers: Sequence[str]) -> dict[str, int]:
        """What each buyer owes now on active loans (principal, interest and fees)."""
        return self.store.owed_by_buyers(conn, buyers)

    def get(self, loan_id: str) -> Loan:
        with self.ledger.current() as conn:
            found = self.store.load(conn, loan_id)
        if found is None:
            raise NotFound(f"no loan {loan_id}")
        return found

    def delinquency(self, loan_id: str, as_of: date | None = None) -> tuple[int, str]:
        with self.ledger.current() as conn:
            loan = self.store.load(conn, loan_id)
            if loan is None:
                raise NotFound(f"no loan {loan_id}")
            return self.delinquency_of(conn, loan, as_of or self.today())

    def delinquency_of(self, conn: Connection, loan: Loan, as_of: date) -> tuple[int, str]:
        """Days past due and the delinquency bucket of ``loan`` on ``as_of``."""
        return self.book.delinquency_of(conn, loan, as_of)


def _emit_disbursed(tx: LedgerTransaction, loan: Loan, fee_minor: int) -> None:
    tx.emit(
        loan.tenant,
        "loan_disbursed",
        "loan",
        loan.loan_id,
        {
            "order_id": loan.order_id,
            "plan": loan.plan_code,
            "funder_id": loan.funder_id,
            "principal_minor": loan.principal_minor,
            "fee_minor": fee_minor,
            "currency": loan.currency,
            "buyer_id": loan.buyer_id,
        },
    )
