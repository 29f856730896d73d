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
                           payments/refunds.py routes it)         of the refund is payments')
charge-off                 —                                      receivables → credit losses
=========================  =====================================  ===========================

The repayment waterfall is fees → interest → principal; paying more than is due early pays down
principal (interest accrues daily on what is outstanding, so early repayment saves interest);
paying more than is owed is refused. Delinquency compares what the schedule has made due with
what was repaid; days past due count from the first installment not covered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from embedfin.commerce import orders as order_rules
from embedfin.commerce.orders import OrderStatus
from embedfin.commerce.store import save_order
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import (
    IdempotencyMismatch,
    InvalidAmount,
    InvalidInput,
    InvalidStateTransition,
    LimitExceeded,
    NotFound,
)
from embedfin.core.money import Money
from embedfin.db.tables import loan_events, loan_installments, loans, payment_accounts
from embedfin.ledger.chart import ChartAccountCode
from embedfin.ledger.service import LedgerTransaction
from embedfin.ledger.types import Transfer
from embedfin.lending.chart import (
    CODE_DISBURSE,
    CODE_DISBURSE_LENDER,
    CODE_FEE,
    CODE_FUND,
    CODE_FUND_CAPITAL,
    CODE_INTEREST,
    CODE_LATE_FEE,
    CODE_PLATFORM_FEE,
    CODE_PLATFORM_FEE_LENDER,
    CODE_PROVISION,
    CODE_REFUND_PRINCIPAL,
    CODE_REPAY,
    CODE_REPAY_FEES,
    CODE_REPAY_INTEREST,
    CODE_REPAY_PRINCIPAL,
    CODE_WRITE_OFF,
    LendingAccountCode,
)
from embedfin.lending.products import Caps, PlanCatalog
from embedfin.lending.schedules import Installment
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import AccountCode, AccountKey, platform_account
from embedfin.payments.escrow import Checkout
from embedfin.payments.moves import leg, move
from embedfin.payments.refunds import FinancedLoan
from embedfin.payments.requests import check_name, check_request_id
from embedfin.payments.wallets import wallet_key

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


# --- pure rules ----------------------------------------------------------------------------------
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


# --- the service ---------------------------------------------------------------------------------
class Lending:
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

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock.now_ns() / NS_PER_SECOND, tz=UTC).date()

    # --- keys --------------------------------------------------------------------------------
    def _funder(self, funder_id: str, code_: str, code: ChartAccountCode) -> AccountKey:
        return AccountKey(self.tenant, "funder", check_name("funder_id", funder_id), code_, code)

    def _loan_key(self, loan: Loan, code: LendingAccountCode) -> AccountKey:
        return AccountKey(self.tenant, "loan", loan.loan_id, loan.currency, code)

    # --- commands ------------------------------------------------------------------------------
    def fund(self, funder_id: str, amount: Money, request_id: str) -> None:
        """A funder (the platform itself or a partner bank) deposits lending cash."""
        check_request_id(request_id)
        if amount.amount_minor <= 0:
            raise InvalidAmount("a deposit must be positive")
        reserve = platform_account(self.tenant, amount.currency, AccountCode.CLIENT_RESERVE)
        held = self._funder(funder_id, amount.currency, AccountCode.LENDER_FUNDS_HELD)
        cash = self._funder(funder_id, amount.currency, LendingAccountCode.LENDER_CASH)
        capital = self._funder(funder_id, amount.currency, LendingAccountCode.LENDER_CAPITAL)
        with self.ledger.transaction() as tx:
            open_accounts(tx, [reserve, held, cash, capital])
            move(
                tx,
                [
                    self._leg(request_id, "fund", reserve, held, amount.amount_minor, CODE_FUND),
                    self._leg(
                        request_id, "capital", cash, capital, amount.amount_minor, CODE_FUND_CAPITAL
                    ),
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
    ) -> Loan:
        """Pay an order awaiting payment with a loan on ``plan_code`` funded by ``funder_id``.

        The order is paid into escrow from the funder's cash; a plan due at checkout collects
        its first installment from the buyer's wallet in the same unit of work."""
        plan = self.catalog.plans.get(plan_code)
        if plan is None:
            raise NotFound(f"no plan {plan_code}")
        check_name("loan_id", loan_id)
        with self.ledger.transaction() as tx:
            existing = self._load(tx.conn, loan_id)
            if existing is not None:
                if (existing.order_id, existing.plan_code) != (order_id, plan_code):
                    raise IdempotencyMismatch(f"loan {loan_id} financed another order or plan")
                return existing
            order = self.checkout.locked_order(tx, order_id)
            if order.status is not OrderStatus.AWAITING_PAYMENT:
                raise InvalidStateTransition(f"order {order_id} is {order.status}")
            if plan.categories is not None and order.category not in plan.categories:
                raise InvalidInput(f"{plan_code} is not offered for {order.category}")
            start = self.today()
            schedule = plan.schedule(order.total_minor, start)
            loan = Loan(
                self.tenant,
                loan_id,
                order_id,
                order.buyer_id,
                funder_id,
                plan_code,
                order.currency,
                order.total_minor,
                plan.annual_rate,
                start,
                LoanStatus.ACTIVE,
                order.total_minor,
                0,
                schedule.fee_minor,
                0,
                start,
                Decimal(0),
                0,
                line_id,
            )
            held = self._funder(funder_id, order.currency, AccountCode.LENDER_FUNDS_HELD)
            cash = self._funder(funder_id, order.currency, LendingAccountCode.LENDER_CASH)
            fee_income = self._funder(funder_id, order.currency, LendingAccountCode.FEE_INCOME)
            escrow = platform_account(self.tenant, order.currency, AccountCode.ESCROW)
            principal = self._loan_key(loan, LendingAccountCode.LOAN_PRINCIPAL)
            fees_due = self._loan_key(loan, LendingAccountCode.LOAN_FEES_DUE)
            open_accounts(
                tx,
                [
                    held,
                    cash,
                    fee_income,
                    escrow,
                    principal,
                    fees_due,
                    self._loan_key(loan, LendingAccountCode.LOAN_INTEREST_DUE),
                ],
            )
            legs = [
                self._leg(loan_id, "disburse", held, escrow, order.total_minor, CODE_DISBURSE),
                self._leg(
                    loan_id, "principal", principal, cash, order.total_minor, CODE_DISBURSE_LENDER
                ),
            ]
            if schedule.fee_minor:
                legs.append(
                    self._leg(loan_id, "fee", fees_due, fee_income, schedule.fee_minor, CODE_FEE)
                )
            platform_fee = order.total_minor * self.platform_fee_bp // 10_000
            if platform_fee:  # the platform's origination fee, paid by the funder
                commission = platform_account(
                    self.tenant, order.currency, AccountCode.COMMISSION_IN_RESERVE
                )
                expense = self._funder(
                    funder_id, order.currency, LendingAccountCode.PLATFORM_FEE_EXPENSE
                )
                open_accounts(tx, [commission, expense])
                legs += [
                    self._leg(
                        loan_id, "platform_fee", held, commission, platform_fee, CODE_PLATFORM_FEE
                    ),
                    self._leg(
                        loan_id,
                        "platform_fee_lender",
                        expense,
                        cash,
                        platform_fee,
                        CODE_PLATFORM_FEE_LENDER,
                    ),
                ]
            move(tx, legs, insufficient=f"funder {funder_id} has too little lending cash")
            paid = order_rules.pay(order, self.clock.now_ns())
            save_order(tx.conn, paid)
            self._insert(tx.conn, loan, schedule.installments)
            tx.emit(
                self.tenant,
                "order_paid",
                "order",
                order_id,
                {
                    "amount_minor": paid.paid_minor,
                    "currency": paid.currency,
                    "financed_by": loan_id,
                    "plan": plan_code,
                    "buyer_id": paid.buyer_id,
                    "merchant_id": paid.merchant_id,
                },
            )
            tx.emit(
                self.tenant,
                "loan_disbursed",
                "loan",
                loan_id,
                {
                    "order_id": order_id,
                    "plan": plan_code,
                    "funder_id": funder_id,
                    "principal_minor": loan.principal_minor,
                    "fee_minor": schedule.fee_minor,
                    "currency": loan.currency,
                    "buyer_id": loan.buyer_id,
                },
            )
            first = schedule.installments[0]
            if plan.due_at_checkout:
                loan = self._repay(tx, loan, first.total_minor, f"{loan_id}:at-checkout")
            return loan

    def repay(self, loan_id: str, amount: Money, request_id: str) -> Loan:
        """Repay from the buyer's wallet (fees → interest → principal)."""
        check_request_id(request_id)
        with self.ledger.transaction() as tx:
            loan = self._locked(tx.conn, loan_id)
            if amount.currency != loan.currency:
                raise InvalidInput(f"the loan is in {loan.currency}, not {amount.currency}")
            replay = self._event(tx.conn, request_id)
            if replay is not None:
                if (replay["loan_id"], replay["amount_minor"]) != (loan_id, amount.amount_minor):
                    raise IdempotencyMismatch(f"request_id {request_id!r} was another repayment")
                return loan
            if loan.status is not LoanStatus.ACTIVE:
                raise InvalidStateTransition(f"loan {loan_id} is {loan.status}")
            loan = self._accrue_one(tx, loan, self.today())
            return self._repay(tx, loan, amount.amount_minor, request_id)

    def accrue(self, as_of: date | None = None) -> int:
        """Accrue daily interest on every active loan up to ``as_of``; returns how many."""
        day = as_of or self.today()
        count = 0
        with self.ledger.transaction() as tx:
            for loan in self._active(tx.conn):
                if loan.accrued_through < day:
                    self._accrue_one(tx, loan, day)
                    count += 1
        return count

    def assess_late_fees(self, as_of: date | None = None) -> int:
        """One capped late fee per installment left unpaid past the grace period."""
        day = as_of or self.today()
        assessed = 0
        past_grace = day - timedelta(days=self.grace_days + 1)
        with self.ledger.transaction() as tx:
            for loan in self._active(tx.conn, past_grace, unpaid=True):
                rows = self._installments(tx.conn, loan.loan_id)
                covered = loan.repaid_minor
                for number, installment, late in rows:
                    covered -= installment.total_minor + late
                    if covered >= 0 or late:
                        continue
                    if (day - installment.due).days <= self.grace_days:
                        break
                    fee = late_fee(self.caps, installment.total_minor)
                    if fee <= 0:
                        break
                    loan = self._charge_fee(tx, loan, fee, f"late:{loan.loan_id}:{number}")
                    tx.conn.execute(
                        update(loan_installments)
                        .where(
                            loan_installments.c.tenant == self.tenant,
                            loan_installments.c.loan_id == loan.loan_id,
                            loan_installments.c.number == number,
                        )
                        .values(late_fee_minor=fee)
                    )
                    assessed += 1
                    break  # at most one new late fee per loan per run
        return assessed

    def report_due_installments(self, as_of: date | None = None) -> int:
        """Once an installment's grace period is over, say whether it was paid on time
        (``installment_due`` events: the credit features' repayment punctuality)."""
        day = as_of or self.today()
        reported = 0
        past_grace = day - timedelta(days=self.grace_days + 1)
        with self.ledger.transaction() as tx:
            for loan in self._active(tx.conn, past_grace):
                covered = loan.repaid_minor
                rows = tx.conn.execute(
                    select(loan_installments)
                    .where(
                        loan_installments.c.tenant == self.tenant,
                        loan_installments.c.loan_id == loan.loan_id,
                    )
                    .order_by(loan_installments.c.number)
                ).mappings()
                for r in rows:
                    total = r["principal_minor"] + r["interest_minor"] + r["fee_minor"]
                    covered -= total + r["late_fee_minor"]
                    due = date.fromisoformat(r["due_date"])
                    if r["due_reported"] or (day - due).days <= self.grace_days:
                        continue
                    tx.conn.execute(
                        update(loan_installments)
                        .where(
                            loan_installments.c.tenant == self.tenant,
                            loan_installments.c.loan_id == loan.loan_id,
                            loan_installments.c.number == r["number"],
                        )
                        .values(due_reported=1)
                    )
                    tx.emit(
                        self.tenant,
                        "installment_due",
                        "loan",
                        loan.loan_id,
                        {
                            "buyer_id": loan.buyer_id,
                            "number": r["number"],
                            "on_time": covered >= 0,
                        },
                    )
                    reported += 1
        return reported

    def charge_off(self, as_of: date | None = None) -> list[str]:
        """Write off every loan at least ``charge_off_dpd`` days past due."""
        day = as_of or self.today()
        written: list[str] = []
        with self.ledger.transaction() as tx:
            for loan in self._active(tx.conn):
                if self.delinquency_of(tx.conn, loan, day)[0] < self.charge_off_dpd:
                    continue
                loan = self._accrue_one(tx, loan, day)
                loss = self._funder(
                    loan.funder_id, loan.currency, LendingAccountCode.CREDIT_LOSS_EXPENSE
                )
                open_accounts(tx, [loss])
                legs = [
                    self._leg(
                        f"writeoff:{loan.loan_id}",
                        code.name.lower(),
                        loss,
                        self._loan_key(loan, code),
                        amount,
                        CODE_WRITE_OFF,
                    )
                    for code, amount in (
                        (LendingAccountCode.LOAN_FEES_DUE, loan.fees_due),
                        (LendingAccountCode.LOAN_INTEREST_DUE, loan.interest_due),
                        (LendingAccountCode.LOAN_PRINCIPAL, loan.principal_outstanding),
                    )
                    if amount
                ]
                move(tx, legs, insufficient="unreachable: the write-off matches the balances")
                written_off = replace(
                    loan,
                    status=LoanStatus.CHARGED_OFF,
                    principal_outstanding=0,
                    interest_due=0,
                    fees_due=0,
                    written_off_minor=loan.owed_minor,
                )
                self._save(tx.conn, written_off)
                tx.emit(
                    self.tenant,
                    "loan_charged_off",
                    "loan",
                    loan.loan_id,
                    {"amount_minor": loan.owed_minor, "currency": loan.currency},
                )
                written.append(loan.loan_id)
        return written

    def provision(self, as_of: date | None = None) -> dict[tuple[str, str], int]:
        """True up each funder's loss allowance to the expected loss of its active loans
        (owed × the bucket's rate); returns the allowance per (funder, currency)."""
        day = as_of or self.today()
        target: dict[tuple[str, str], int] = {}
        with self.ledger.transaction() as tx:
            for loan in self._active(tx.conn):
                _, name = self.delinquency_of(tx.conn, loan, day)
                key = (loan.funder_id, loan.currency)
                expected = int(loan.owed_minor * PROVISION_RATES[name])
                target[key] = target.get(key, 0) + expected
            for funder_id, code_ in self._funders_with_allowance(tx.conn):
                target.setdefault((funder_id, code_), 0)
            for (funder_id, code_), wanted in sorted(target.items()):
                allowance = self._funder(funder_id, code_, LendingAccountCode.LOSS_ALLOWANCE)
                expense = self._funder(funder_id, code_, LendingAccountCode.CREDIT_LOSS_EXPENSE)
                open_accounts(tx, [allowance, expense])
                found = tx.lookup_accounts([allowance.account_id])
                now = found[0].credits_posted - found[0].debits_posted if found else 0
                change = wanted - now
                if change == 0:
                    continue
                debit, credit = (expense, allowance) if change > 0 else (allowance, expense)
                move(
                    tx,
                    [
                        self._leg(
                            f"provision:{funder_id}:{code_}:{day.isoformat()}:{now}",
                            "allowance",
                            debit,
                            credit,
                            abs(change),
                            CODE_PROVISION,
                        )
                    ],
                    insufficient="unreachable",
                )
        return target

    def _funders_with_allowance(self, conn: Connection) -> list[tuple[str, str]]:
        rows = conn.execute(
            select(payment_accounts.c.owner_id, payment_accounts.c.currency).where(
                payment_accounts.c.tenant == self.tenant,
                payment_accounts.c.owner_kind == "funder",
                payment_accounts.c.code == int(LendingAccountCode.LOSS_ALLOWANCE),
            )
        ).all()
        return [(str(owner), str(code_)) for owner, code_ in rows]

    # --- refunds of financed orders (the ``payments.refunds.Financing`` port) -----------------
    def loan_of_order(self, tx: LedgerTransaction, order_id: str) -> FinancedLoan | None:
        """The loan that paid ``order_id``, locked for this unit of work (refunds pay it down)."""
        row = tx.conn.execute(
            select(loans.c.loan_id).where(
                loans.c.tenant == self.tenant, loans.c.order_id == order_id
            )
        ).first()
        if row is None:
            return None
        loan = self._locked(tx.conn, row.loan_id)
        held = self._funder(loan.funder_id, loan.currency, AccountCode.LENDER_FUNDS_HELD)
        return FinancedLoan(loan.loan_id, loan.principal_outstanding, held)

    def apply_refund(
        self, tx: LedgerTransaction, financed: FinancedLoan, amount_minor: int, request_id: str
    ) -> None:
        """The lender's side of a refund that went to the loan (the custodial leg, escrow or the
        merchant → funds held, is the refund's own): principal → lender cash, the installments
        still to come shrink, a loan paid down to nothing is settled."""
        loan = self._locked(tx.conn, financed.loan_id)
        if not 0 < amount_minor <= loan.principal_outstanding:
            raise InvalidAmount("a refund pays down at most the principal outstanding")
        cash = self._funder(loan.funder_id, loan.currency, LendingAccountCode.LENDER_CASH)
        move(
            tx,
            [
                self._leg(
                    f"refund:{request_id}",
                    "loan",
                    cash,
                    self._loan_key(loan, LendingAccountCode.LOAN_PRINCIPAL),
                    amount_minor,
                    CODE_REFUND_PRINCIPAL,
                )
            ],
            insufficient="unreachable: capped at the outstanding principal",
        )
        loan = replace(loan, principal_outstanding=loan.principal_outstanding - amount_minor)
        self._record_event(
            tx.conn, f"refund:{request_id}", loan, "refund", amount_minor, 0, 0, amount_minor
        )
        self._reschedule(tx.conn, loan, amount_minor)
        self._settle_if_paid(tx, loan)

    # --- queries -------------------------------------------------------------------------------
    def get(self, loan_id: str) -> Loan:
        with self.ledger.current() as conn:
            found = self._load(conn, loan_id)
        if found is None:
            raise NotFound(f"no loan {loan_id}")
        return found

    def delinquency(self, loan_id: str, as_of: date | None = None) -> tuple[int, str]:
        with self.ledger.current() as conn:
            loan = self._load(conn, loan_id)
            if loan is None:
                raise NotFound(f"no loan {loan_id}")
            return self.delinquency_of(conn, loan, as_of or self.today())

    def delinquency_of(self, conn: Connection, loan: Loan, as_of: date) -> tuple[int, str]:
        if loan.status is not LoanStatus.ACTIVE or loan.owed_minor == 0:
            return 0, "current"
        rows = self._installments(conn, loan.loan_id)
        dpd = days_past_due(
            [i for _, i, _ in rows], [late for _, _, late in rows], loan.repaid_minor, as_of
        )
        return dpd, bucket(dpd)

    # --- internals -----------------------------------------------------------------------------
    def _leg(
        self,
        request_id: str,
        step: str,
        debit: AccountKey,
        credit: AccountKey,
        amount: int,
        code: int,
    ) -> Transfer:
        return leg(self.tenant, request_id, step, debit, credit, amount, code)

    def _repay(self, tx: LedgerTransaction, loan: Loan, amount: int, request_id: str) -> Loan:
        fees, interest, principal = waterfall(loan, amount)
        wallet = wallet_key(self.tenant, "buyer", loan.buyer_id, loan.currency)
        held = self._funder(loan.funder_id, loan.currency, AccountCode.LENDER_FUNDS_HELD)
        cash = self._funder(loan.funder_id, loan.currency, LendingAccountCode.LENDER_CASH)
        open_accounts(tx, [wallet])
        legs = [self._leg(request_id, "repay", wallet, held, amount, CODE_REPAY)]
        for step, code, part, ledger_code in (
            ("fees", LendingAccountCode.LOAN_FEES_DUE, fees, CODE_REPAY_FEES),
            ("interest", LendingAccountCode.LOAN_INTEREST_DUE, interest, CODE_REPAY_INTEREST),
            ("principal", LendingAccountCode.LOAN_PRINCIPAL, principal, CODE_REPAY_PRINCIPAL),
        ):
            if part:
                legs.append(
                    self._leg(request_id, step, cash, self._loan_key(loan, code), part, ledger_code)
                )
        move(tx, legs, insufficient="the wallet holds less than the repayment")
        repaid = replace(
            loan,
            fees_due=loan.fees_due - fees,
            interest_due=loan.interest_due - interest,
            principal_outstanding=loan.principal_outstanding - principal,
            repaid_minor=loan.repaid_minor + amount,
        )
        self._record_event(
            tx.conn, request_id, repaid, "repayment", amount, fees, interest, principal
        )
        tx.emit(
            self.tenant,
            "loan_repaid",
            "loan",
            loan.loan_id,
            {
                "amount_minor": amount,
                "fees_minor": fees,
                "interest_minor": interest,
                "principal_minor": principal,
                "currency": loan.currency,
                "buyer_id": loan.buyer_id,
            },
        )
        return self._settle_if_paid(tx, repaid)

    def _settle_if_paid(self, tx: LedgerTransaction, loan: Loan) -> Loan:
        if loan.principal_outstanding == 0 and loan.owed_minor == 0:
            loan = replace(loan, status=LoanStatus.PAID_OFF)
            tx.emit(self.tenant, "loan_paid_off", "loan", loan.loan_id, {"buyer_id": loan.buyer_id})
        self._save(tx.conn, loan)
        return loan

    def _accrue_one(self, tx: LedgerTransaction, loan: Loan, day: date) -> Loan:
        days = (day - loan.accrued_through).days
        if days <= 0:
            return loan
        amount, carry = accrue_interest(
            loan.principal_outstanding, loan.annual_rate, days, loan.accrual_carry
        )
        if amount:
            income = self._funder(loan.funder_id, loan.currency, LendingAccountCode.INTEREST_INCOME)
            open_accounts(tx, [income])
            move(
                tx,
                [
                    self._leg(
                        f"accrual:{loan.loan_id}:{day.isoformat()}",
                        "interest",
                        self._loan_key(loan, LendingAccountCode.LOAN_INTEREST_DUE),
                        income,
                        amount,
                        CODE_INTEREST,
                    )
                ],
                insufficient="unreachable",
            )
        accrued = replace(
            loan, interest_due=loan.interest_due + amount, accrued_through=day, accrual_carry=carry
        )
        self._save(tx.conn, accrued)
        return accrued

    def _charge_fee(self, tx: LedgerTransaction, loan: Loan, fee: int, request_id: str) -> Loan:
        income = self._funder(loan.funder_id, loan.currency, LendingAccountCode.FEE_INCOME)
        open_accounts(tx, [income])
        move(
            tx,
            [
                self._leg(
                    request_id,
                    "late_fee",
                    self._loan_key(loan, LendingAccountCode.LOAN_FEES_DUE),
                    income,
                    fee,
                    CODE_LATE_FEE,
                )
            ],
            insufficient="unreachable",
        )
        charged = replace(loan, fees_due=loan.fees_due + fee)
        self._save(tx.conn, charged)
        tx.emit(
            self.tenant,
            "late_fee_charged",
            "loan",
            loan.loan_id,
            {"amount_minor": fee, "currency": loan.currency},
        )
        return charged

    def _reschedule(self, conn: Connection, loan: Loan, reduced_by: int) -> None:
        """A refund lowers the installments still to come, latest first (the plan's term is
        kept; what the buyer has paid stays paid)."""
        rows = self._installments(conn, loan.loan_id)
        left = reduced_by
        for number, installment, _ in reversed(rows):
            if left <= 0:
                break
            cut = min(left, installment.principal_minor)
            if cut:
                conn.execute(
                    update(loan_installments)
                    .where(
                        loan_installments.c.tenant == self.tenant,
                        loan_installments.c.loan_id == loan.loan_id,
                        loan_installments.c.number == number,
                    )
                    .values(principal_minor=installment.principal_minor - cut)
                )
                left -= cut

    # --- storage -------------------------------------------------------------------------------
    def _insert(self, conn: Connection, loan: Loan, installments: Sequence[Installment]) -> None:
        conn.execute(insert(loans).values(**_loan_row(loan)))
        conn.execute(
            insert(loan_installments),
            [
                {
                    "tenant": self.tenant,
                    "loan_id": loan.loan_id,
                    "number": i.number,
                    "due_date": i.due.isoformat(),
                    "principal_minor": i.principal_minor,
                    "interest_minor": i.interest_minor,
                    "fee_minor": i.fee_minor,
                    "late_fee_minor": 0,
                    "due_reported": 0,
                }
                for i in installments
            ],
        )

    def _save(self, conn: Connection, loan: Loan) -> None:
        values = _loan_row(loan)
        for key in ("tenant", "loan_id", "created_at"):
            values.pop(key)
        conn.execute(
            update(loans)
            .where(loans.c.tenant == self.tenant, loans.c.loan_id == loan.loan_id)
            .values(**values)
        )

    def _load(self, conn: Connection, loan_id: str, lock: bool = False) -> Loan | None:
        query = select(loans).where(loans.c.tenant == self.tenant, loans.c.loan_id == loan_id)
        row = conn.execute(query.with_for_update() if lock else query).mappings().first()
        return _loan(row) if row else None

    def _locked(self, conn: Connection, loan_id: str) -> Loan:
        found = self._load(conn, loan_id, lock=True)
        if found is None:
            raise NotFound(f"no loan {loan_id}")
        return found

    def _active(
        self, conn: Connection, due_by: date | None = None, *, unpaid: bool = False
    ) -> list[Loan]:
        """Active loans (locked), in id order. With ``due_by``: only those with an installment
        due on or before it that is not yet reported (or, ``unpaid``, not yet covered by the
        repayments) — the daily jobs touch the loans with something to do, not the book."""
        query = select(loans).where(
            loans.c.tenant == self.tenant, loans.c.status == str(LoanStatus.ACTIVE)
        )
        if due_by is not None:
            i = loan_installments.c
            due = (
                select(i.loan_id)
                .where(i.tenant == self.tenant, i.due_date <= due_by.isoformat())
                .group_by(i.loan_id)
            )
            if unpaid:
                owed = func.sum(
                    i.principal_minor + i.interest_minor + i.fee_minor + i.late_fee_minor
                )
                due = due.join(
                    loans, (loans.c.tenant == i.tenant) & (loans.c.loan_id == i.loan_id)
                ).having(owed > func.max(loans.c.repaid_minor))
            else:
                due = due.where(i.due_reported == 0)
            query = query.where(loans.c.loan_id.in_(due))
        rows = conn.execute(query.order_by(loans.c.loan_id).with_for_update()).mappings()
        return [_loan(r) for r in rows]

    def _installments(self, conn: Connection, loan_id: str) -> list[tuple[int, Installment, int]]:
        rows = conn.execute(
            select(loan_installments)
            .where(
                loan_installments.c.tenant == self.tenant,
                loan_installments.c.loan_id == loan_id,
            )
            .order_by(loan_installments.c.number)
        ).mappings()
        return [
            (
                r["number"],
                Installment(
                    r["number"],
                    date.fromisoformat(r["due_date"]),
                    r["principal_minor"],
                    r["interest_minor"],
                    r["fee_minor"],
                ),
                r["late_fee_minor"],
            )
            for r in rows
        ]

    def _event(self, conn: Connection, request_id: str) -> Any:
        return (
            conn.execute(
                select(loan_events).where(
                    loan_events.c.tenant == self.tenant, loan_events.c.request_id == request_id
                )
            )
            .mappings()
            .first()
        )

    def _record_event(
        self,
        conn: Connection,
        request_id: str,
        loan: Loan,
        kind: str,
        amount: int,
        fees: int,
        interest: int,
        principal: int,
    ) -> None:
        conn.execute(
            insert(loan_events).values(
                tenant=self.tenant,
                request_id=request_id,
                loan_id=loan.loan_id,
                kind=kind,
                amount_minor=amount,
                fees_minor=fees,
                interest_minor=interest,
                principal_minor=principal,
                created_at=self.clock.now_ns(),
            )
        )


def _loan_row(loan: Loan) -> dict[str, object]:
    return {
        "tenant": loan.tenant,
        "loan_id": loan.loan_id,
        "order_id": loan.order_id,
        "buyer_id": loan.buyer_id,
        "funder_id": loan.funder_id,
        "plan_code": loan.plan_code,
        "currency": loan.currency,
        "principal_minor": loan.principal_minor,
        "annual_rate": str(loan.annual_rate),
        "start_date": loan.start.isoformat(),
        "status": str(loan.status),
        "principal_outstanding": loan.principal_outstanding,
        "interest_due": loan.interest_due,
        "fees_due": loan.fees_due,
        "repaid_minor": loan.repaid_minor,
        "accrued_through": loan.accrued_through.isoformat(),
        "accrual_carry": str(loan.accrual_carry),
        "written_off_minor": loan.written_off_minor,
        "line_id": loan.line_id,
        "created_at": 0,
    }


def _loan(row: Any) -> Loan:
    return Loan(
        row["tenant"],
        row["loan_id"],
        row["order_id"],
        row["buyer_id"],
        row["funder_id"],
        row["plan_code"],
        row["currency"],
        row["principal_minor"],
        Decimal(row["annual_rate"]),
        date.fromisoformat(row["start_date"]),
        LoanStatus(row["status"]),
        row["principal_outstanding"],
        row["interest_due"],
        row["fees_due"],
        row["repaid_minor"],
        date.fromisoformat(row["accrued_through"]),
        Decimal(row["accrual_carry"]),
        row["written_off_minor"],
        row["line_id"],
    )
