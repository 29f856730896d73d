"""A tenant's loan book on the ledger: the account keys of funders and loans, and the posting
steps the commands (``servicing``) and the daily jobs (``jobs``) share — a repayment through the
waterfall, one loan's interest accrual, a late fee, settling a loan paid down to nothing, and
how far past due a loan is. Each step runs inside the caller's unit of work.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import Connection

from embedfin.ledger.chart import ChartAccountCode
from embedfin.ledger.service import LedgerTransaction
from embedfin.ledger.types import Transfer
from embedfin.lending.chart import (
    CODE_DISBURSE,
    CODE_DISBURSE_LENDER,
    CODE_FEE,
    CODE_INTEREST,
    CODE_LATE_FEE,
    CODE_PLATFORM_FEE,
    CODE_PLATFORM_FEE_LENDER,
    CODE_REPAY,
    CODE_REPAY_FEES,
    CODE_REPAY_INTEREST,
    CODE_REPAY_PRINCIPAL,
    LendingAccountCode,
)
from embedfin.lending.loan_store import LoanStore
from embedfin.lending.loans import (
    Loan,
    LoanStatus,
    accrue_interest,
    bucket,
    days_past_due,
    waterfall,
)
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import AccountCode, AccountKey, platform_account
from embedfin.payments.moves import leg, move
from embedfin.payments.requests import check_name
from embedfin.payments.wallets import wallet_key


class LoanBook:
    def __init__(self, tenant: str, store: LoanStore) -> None:
        self.tenant = tenant
        self.store = store

    # --- keys --------------------------------------------------------------------------------
    def funder(self, funder_id: str, code_: str, code: ChartAccountCode) -> AccountKey:
        return AccountKey(self.tenant, "funder", check_name("funder_id", funder_id), code_, code)

    def loan_key(self, loan: Loan, code: LendingAccountCode) -> AccountKey:
        return AccountKey(self.tenant, "loan", loan.loan_id, loan.currency, code)

    def leg(
        self,
        request_id: str,
        step: str,
        debit: AccountKey,
        credit: AccountKey,
        amount: int,
        code: int,
    ) -> Transfer:
        return leg(self.tenant, request_id, step, debit, credit, amount, code)

    # --- postings ----------------------------------------------------------------------------
    def disbursement(
        self, tx: LedgerTransaction, loan: Loan, fee_minor: int, platform_fee_bp: int
    ) -> list[Transfer]:
        """Open the loan's accounts; the legs: funds held → escrow and principal → lender cash,
        the plan's flat fee, and the platform's origination fee (paid by the funder)."""
        book, loan_id, currency, total = self, loan.loan_id, loan.currency, loan.principal_minor
        held = book.funder(loan.funder_id, currency, AccountCode.LENDER_FUNDS_HELD)
        cash = book.funder(loan.funder_id, currency, LendingAccountCode.LENDER_CASH)
        fee_income = book.funder(loan.funder_id, currency, LendingAccountCode.FEE_INCOME)
        escrow = platform_account(self.tenant, currency, AccountCode.ESCROW)
        principal = book.loan_key(loan, LendingAccountCode.LOAN_PRINCIPAL)
        fees_due = book.loan_key(loan, LendingAccountCode.LOAN_FEES_DUE)
        interest_due = book.loan_key(loan, LendingAccountCode.LOAN_INTEREST_DUE)
        open_accounts(tx, [held, cash, fee_income, escrow, principal, fees_due, interest_due])
        legs = [
            book.leg(loan_id, "disburse", held, escrow, total, CODE_DISBURSE),
            book.leg(loan_id, "principal", principal, cash, total, CODE_DISBURSE_LENDER),
        ]
        if fee_minor:
            legs.append(book.leg(loan_id, "fee", fees_due, fee_income, fee_minor, CODE_FEE))
        platform_fee = total * platform_fee_bp // 10_000
        if platform_fee:
            commission = platform_account(self.tenant, currency, AccountCode.COMMISSION_IN_RESERVE)
            expense = book.funder(loan.funder_id, currency, LendingAccountCode.PLATFORM_FEE_EXPENSE)
            open_accounts(tx, [commission, expense])
            legs += [
                book.leg(
                    loan_id, "platform_fee", held, commission, platform_fee, CODE_PLATFORM_FEE
                ),
                book.leg(
                    loan_id,
                    "platform_fee_lender",
                    expense,
                    cash,
                    platform_fee,
                    CODE_PLATFORM_FEE_LENDER,
                ),
            ]
        return legs

    def repay(self, tx: LedgerTransaction, loan: Loan, amount: int, request_id: str) -> Loan:
        """Wallet → funds held, and the waterfall's parts → lender cash; the loan settles if
        nothing is left."""
        fees, interest, principal = waterfall(loan, amount)
        wallet = wallet_key(self.tenant, "buyer", loan.buyer_id, loan.currency)
        held = self.funder(loan.funder_id, loan.currency, AccountCode.LENDER_FUNDS_HELD)
        cash = self.funder(loan.funder_id, loan.currency, LendingAccountCode.LENDER_CASH)
        open_accounts(tx, [wallet])
        legs = [self.leg(request_id, "repay", wallet, held, amount, CODE_REPAY)]
        for step, code, part, ledger_code in (
            ("fees", LendingAccountCode.LOAN_FEES_DUE, fees, CODE_REPAY_FEES),
            ("interest", LendingAccountCode.LOAN_INTEREST_DUE, interest, CODE_REPAY_INTEREST),
            ("principal", LendingAccountCode.LOAN_PRINCIPAL, principal, CODE_REPAY_PRINCIPAL),
        ):
            if part:
                legs.append(
                    self.leg(request_id, step, cash, self.loan_key(loan, code), part, ledger_code)
                )
        move(tx, legs, insufficient="the wallet holds less than the repayment")
        repaid = replace(
            loan,
            fees_due=loan.fees_due - fees,
            interest_due=loan.interest_due - interest,
            principal_outstanding=loan.principal_outstanding - principal,
            repaid_minor=loan.repaid_minor + amount,
        )
        self.store.record_event(
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
        return self.settle_if_paid(tx, repaid)

    def settle_if_paid(self, tx: LedgerTransaction, loan: Loan) -> Loan:
        """Save the loan; one that owes nothing is paid off."""
        if loan.principal_outstanding == 0 and loan.owed_minor == 0:
            loan = replace(loan, status=LoanStatus.PAID_OFF)
            tx.emit(self.tenant, "loan_paid_off", "loan", loan.loan_id, {"buyer_id": loan.buyer_id})
        self.store.save(tx.conn, loan)
        return loan

    def accrue_one(self, tx: LedgerTransaction, loan: Loan, day: date) -> Loan:
        """Interest income → interest due for the days since the loan last accrued."""
        days = (day - loan.accrued_through).days
        if days <= 0:
            return loan
        amount, carry = accrue_interest(
            loan.principal_outstanding, loan.annual_rate, days, loan.accrual_carry
        )
        if amount:
            income = self.funder(loan.funder_id, loan.currency, LendingAccountCode.INTEREST_INCOME)
            open_accounts(tx, [income])
            move(
                tx,
                [
                    self.leg(
                        f"accrual:{loan.loan_id}:{day.isoformat()}",
                        "interest",
                        self.loan_key(loan, LendingAccountCode.LOAN_INTEREST_DUE),
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
        self.store.save(tx.conn, accrued)
        return accrued

    def charge_fee(self, tx: LedgerTransaction, loan: Loan, fee: int, request_id: str) -> Loan:
        """Fee income → fees due: a late fee on the loan."""
        income = self.funder(loan.funder_id, loan.currency, LendingAccountCode.FEE_INCOME)
        open_accounts(tx, [income])
        move(
            tx,
            [
                self.leg(
                    request_id,
                    "late_fee",
                    self.loan_key(loan, LendingAccountCode.LOAN_FEES_DUE),
                    income,
                    fee,
                    CODE_LATE_FEE,
                )
            ],
            insufficient="unreachable",
        )
        charged = replace(loan, fees_due=loan.fees_due + fee)
        self.store.save(tx.conn, charged)
        tx.emit(
            self.tenant,
            "late_fee_charged",
            "loan",
            loan.loan_id,
            {"amount_minor": fee, "currency": loan.currency},
        )
        return charged

    def reschedule(self, conn: Connection, loan: Loan, reduced_by: int) -> None:
        """A refund lowers the installments still to come, latest first (the plan's term is
        kept; what the buyer has paid stays paid)."""
        left = reduced_by
        for row in reversed(self.store.installments(conn, loan.loan_id)):
            if left <= 0:
                break
            principal = row.installment.principal_minor
            cut = min(left, principal)
            if cut:
                self.store.update_installment(
                    conn, loan.loan_id, row.number, principal_minor=principal - cut
                )
                left -= cut

    # --- delinquency -------------------------------------------------------------------------
    def delinquency_of(self, conn: Connection, loan: Loan, as_of: date) -> tuple[int, str]:
        """Days past due and the bucket; a loan not active or owing nothing is current."""
        if loan.status is not LoanStatus.ACTIVE or loan.owed_minor == 0:
            return 0, "current"
        rows = self.store.installments(conn, loan.loan_id)
        dpd = days_past_due(
            [r.installment for r in rows],
            [r.late_fee_minor for r in rows],
            loan.repaid_minor,
            as_of,
        )
        return dpd, bucket(dpd)
