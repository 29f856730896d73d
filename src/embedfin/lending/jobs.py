"""The loan book's daily jobs: accrue interest, assess late fees, report installments whose
grace period is over, charge off loans past ``charge_off_dpd``, and true up the loss allowance.
Each run is one unit of work over the active loans (locked, in id order) and may be re-run for
the same day without moving anything twice: transfer ids derive from the loan and the day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import Connection

from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.lending.book import LoanBook
from embedfin.lending.chart import CODE_PROVISION, CODE_WRITE_OFF, LendingAccountCode
from embedfin.lending.loans import PROVISION_RATES, Loan, LoanStatus, late_fee
from embedfin.lending.products import Caps
from embedfin.payments.accounts import open_accounts, owned_accounts
from embedfin.payments.moves import move


class LoanJobs:
    def __init__(
        self,
        ledger: Ledger,
        book: LoanBook,
        caps: Caps,
        today: Callable[[], date],
        *,
        grace_days: int,
        charge_off_dpd: int,
    ) -> None:
        self.ledger = ledger
        self.book = book
        self.store = book.store
        self.tenant = book.tenant
        self.caps = caps
        self.today = today
        self.grace_days = grace_days
        self.charge_off_dpd = charge_off_dpd

    def accrue(self, as_of: date | None = None) -> int:
        """Accrue daily interest on every active loan up to ``as_of``; returns how many."""
        day = as_of or self.today()
        count = 0
        with self.ledger.transaction() as tx:
            for loan in self.store.active(tx.conn):
                if loan.accrued_through < day:
                    self.book.accrue_one(tx, loan, day)
                    count += 1
        return count

    def assess_late_fees(self, as_of: date | None = None) -> int:
        """One capped late fee per installment left unpaid past the grace period."""
        day = as_of or self.today()
        assessed = 0
        past_grace = day - timedelta(days=self.grace_days + 1)
        with self.ledger.transaction() as tx:
            for loan in self.store.active(tx.conn, past_grace, unpaid=True):
                assessed += self._late_fee_of(tx, loan, day)
        return assessed

    def _late_fee_of(self, tx: LedgerTransaction, loan: Loan, day: date) -> int:
        """At most one new late fee per loan per run: on the first uncovered installment past
        its grace period that has none yet. Returns how many were charged (0 or 1)."""
        covered = loan.repaid_minor
        for row in self.store.installments(tx.conn, loan.loan_id):
            installment = row.installment
            covered -= installment.total_minor + row.late_fee_minor
            if covered >= 0 or row.late_fee_minor:
                continue
            if (day - installment.due).days <= self.grace_days:
                return 0
            fee = late_fee(self.caps, installment.total_minor)
            if fee <= 0:
                return 0
            loan = self.book.charge_fee(tx, loan, fee, f"late:{loan.loan_id}:{row.number}")
            self.store.update_installment(tx.conn, loan.loan_id, row.number, late_fee_minor=fee)
            return 1
        return 0

    def report_due_installments(self, as_of: date | None = None) -> int:
        """Once an installment's grace period is over, say whether it was paid on time
        (``installment_due`` events: the credit features' repayment punctuality)."""
        day = as_of or self.today()
        reported = 0
        past_grace = day - timedelta(days=self.grace_days + 1)
        with self.ledger.transaction() as tx:
            for loan in self.store.active(tx.conn, past_grace):
                covered = loan.repaid_minor
                for row in self.store.installments(tx.conn, loan.loan_id):
                    covered -= row.installment.total_minor + row.late_fee_minor
                    due = row.installment.due
                    if row.due_reported or (day - due).days <= self.grace_days:
                        continue
                    self.store.update_installment(tx.conn, loan.loan_id, row.number, due_reported=1)
                    tx.emit(
                        self.tenant,
                        "installment_due",
                        "loan",
                        loan.loan_id,
                        {"buyer_id": loan.buyer_id, "number": row.number, "on_time": covered >= 0},
                    )
                    reported += 1
        return reported

    def charge_off(self, as_of: date | None = None) -> list[str]:
        """Write off every loan at least ``charge_off_dpd`` days past due."""
        day = as_of or self.today()
        written: list[str] = []
        with self.ledger.transaction() as tx:
            for loan in self.store.active(tx.conn):
                if self.book.delinquency_of(tx.conn, loan, day)[0] < self.charge_off_dpd:
                    continue
                self._write_off(tx, self.book.accrue_one(tx, loan, day))
                written.append(loan.loan_id)
        return written

    def _write_off(self, tx: LedgerTransaction, loan: Loan) -> None:
        """Receivables (fees, interest, principal) → credit losses; the loan is charged off."""
        book = self.book
        loss = book.funder(loan.funder_id, loan.currency, LendingAccountCode.CREDIT_LOSS_EXPENSE)
        open_accounts(tx, [loss])
        legs = [
            book.leg(
                f"writeoff:{loan.loan_id}",
                code.name.lower(),
                loss,
                book.loan_key(loan, code),
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
        self.store.save(tx.conn, written_off)
        tx.emit(
            self.tenant,
            "loan_charged_off",
            "loan",
            loan.loan_id,
            {"amount_minor": loan.owed_minor, "currency": loan.currency},
        )

    def provision(self, as_of: date | None = None) -> dict[tuple[str, str], int]:
        """True up each funder's loss allowance to the expected loss of its active loans
        (owed × the bucket's rate); returns the allowance per (funder, currency)."""
        day = as_of or self.today()
        target: dict[tuple[str, str], int] = {}
        with self.ledger.transaction() as tx:
            for loan in self.store.active(tx.conn):
                _, name = self.book.delinquency_of(tx.conn, loan, day)
                key = (loan.funder_id, loan.currency)
                expected = int(loan.owed_minor * PROVISION_RATES[name])
                target[key] = target.get(key, 0) + expected
            for funder_id, code_ in self._funders_with_allowance(tx.conn):
                target.setdefault((funder_id, code_), 0)
            for (funder_id, code_), wanted in sorted(target.items()):
                self._true_up(tx, funder_id, code_, wanted, day)
        return target

    def _true_up(
        self, tx: LedgerTransaction, funder_id: str, code_: str, wanted: int, day: date
    ) -> None:
        """Move the allowance of ``funder_id`` in ``code_`` to ``wanted`` (credit losses ↔
        loss allowance)."""
        allowance = self.book.funder(funder_id, code_, LendingAccountCode.LOSS_ALLOWANCE)
        expense = self.book.funder(funder_id, code_, LendingAccountCode.CREDIT_LOSS_EXPENSE)
        open_accounts(tx, [allowance, expense])
        found = tx.lookup_accounts([allowance.account_id])
        now = found[0].credits_posted - found[0].debits_posted if found else 0
        change = wanted - now
        if change == 0:
            return
        debit, credit = (expense, allowance) if change > 0 else (allowance, expense)
        move(
            tx,
            [
                self.book.leg(
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

    def _funders_with_allowance(self, conn: Connection) -> list[tuple[str, str]]:
        allowances = owned_accounts(conn, self.tenant, "funder", LendingAccountCode.LOSS_ALLOWANCE)
        return [(key.owner_id, key.currency) for key in allowances]
