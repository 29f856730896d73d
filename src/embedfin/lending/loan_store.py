"""Lending's rows: ``loans`` (one per loan, mapped to and from ``Loan``), ``loan_installments``
(the schedule, its late fees and whether each was reported) and ``loan_events`` (one per
repayment or refund, keyed by request id: the idempotency record). Only lending writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from embedfin.core.clock import Clock
from embedfin.core.errors import NotFound
from embedfin.db.tables import loan_events, loan_installments, loans
from embedfin.lending.loans import Loan, LoanStatus
from embedfin.lending.schedules import Installment


@dataclass(frozen=True, slots=True)
class InstallmentRow:
    """One stored installment: the schedule's part, its late fee, whether it was reported."""

    number: int
    installment: Installment
    late_fee_minor: int
    due_reported: bool


class LoanStore:
    def __init__(self, tenant: str, clock: Clock) -> None:
        self.tenant = tenant
        self.clock = clock

    # --- loans -------------------------------------------------------------------------------
    def insert(self, conn: Connection, loan: Loan, installments: Sequence[Installment]) -> None:
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

    def save(self, conn: Connection, loan: Loan) -> None:
        values = _loan_row(loan)
        for key in ("tenant", "loan_id", "created_at"):
            values.pop(key)
        conn.execute(
            update(loans)
            .where(loans.c.tenant == self.tenant, loans.c.loan_id == loan.loan_id)
            .values(**values)
        )

    def load(self, conn: Connection, loan_id: str, lock: bool = False) -> Loan | None:
        query = select(loans).where(loans.c.tenant == self.tenant, loans.c.loan_id == loan_id)
        row = conn.execute(query.with_for_update() if lock else query).mappings().first()
        return _loan(row) if row else None

    def locked(self, conn: Connection, loan_id: str) -> Loan:
        found = self.load(conn, loan_id, lock=True)
        if found is None:
            raise NotFound(f"no loan {loan_id}")
        return found

    def loan_id_of_order(self, conn: Connection, order_id: str) -> str | None:
        row = conn.execute(
            select(loans.c.loan_id).where(
                loans.c.tenant == self.tenant, loans.c.order_id == order_id
            )
        ).first()
        return None if row is None else str(row.loan_id)

    def active(
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

    def owed_by_buyers(self, conn: Connection, buyers: Sequence[str]) -> dict[str, int]:
        t = loans.c
        rows = conn.execute(
            select(t.buyer_id, func.sum(t.principal_outstanding + t.interest_due + t.fees_due))
            .where(
                t.tenant == self.tenant,
                t.status == "active",
                t.buyer_id.in_(bindparam("buyers", expanding=True)),
            )
            .group_by(t.buyer_id),
            {"buyers": list(buyers)},
        ).all()
        return {buyer: int(owed or 0) for buyer, owed in rows}

    # --- installments ------------------------------------------------------------------------
    def installments(self, conn: Connection, loan_id: str) -> list[InstallmentRow]:
        rows = conn.execute(
            select(loan_installments)
            .where(
                loan_installments.c.tenant == self.tenant,
                loan_installments.c.loan_id == loan_id,
            )
            .order_by(loan_installments.c.number)
        ).mappings()
        return [
            InstallmentRow(
                r["number"],
                Installment(
                    r["number"],
                    date.fromisoformat(r["due_date"]),
                    r["principal_minor"],
                    r["interest_minor"],
                    r["fee_minor"],
                ),
                r["late_fee_minor"],
                bool(r["due_reported"]),
            )
            for r in rows
        ]

    def update_installment(
        self, conn: Connection, loan_id: str, number: int, **values: int
    ) -> None:
        """Set ``principal_minor``, ``late_fee_minor`` or ``due_reported`` of one installment."""
        conn.execute(
            update(loan_installments)
            .where(
                loan_installments.c.tenant == self.tenant,
                loan_installments.c.loan_id == loan_id,
                loan_installments.c.number == number,
            )
            .values(**values)
        )

    # --- loan events (repayments and refunds, by request id) ----------------------------------
    def event(self, conn: Connection, request_id: str) -> Any:
        return (
            conn.execute(
                select(loan_events).where(
                    loan_events.c.tenant == self.tenant, loan_events.c.request_id == request_id
                )
            )
            .mappings()
            .first()
        )

    def record_event(
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
