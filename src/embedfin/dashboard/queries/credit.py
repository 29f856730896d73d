"""Credit figures from lending's loans: the book per currency, and the loan behind an order.

Lending offers a loan by its id but neither a loan by its order nor its schedule, so both are
read here (read-only) until it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from embedfin.db.tables import loan_installments, loans

#: What a borrower still owes on a loan.
OWED = loans.c.principal_outstanding + loans.c.interest_due + loans.c.fees_due


@dataclass(frozen=True, slots=True)
class LendingFigures:
    currency: str
    active_loans: int
    outstanding_minor: int  # principal + interest + fees owed on active loans
    repaid_minor: int
    written_off_minor: int


@dataclass(frozen=True, slots=True)
class Installment:
    number: int
    due_date: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class OrderLoan:
    """The loan that financed an order, and its schedule."""

    loan_id: str
    plan: str
    outstanding_minor: int
    installments: list[Installment]


def lending_figures(conn: Connection, tenant: str) -> list[LendingFigures]:
    """Loans made through checkout, per currency."""
    active = loans.c.status == "active"
    rows = conn.execute(
        select(
            loans.c.currency,
            func.count().filter(active),
            func.coalesce(func.sum(OWED).filter(active), 0),
            func.coalesce(func.sum(loans.c.repaid_minor), 0),
            func.coalesce(func.sum(loans.c.written_off_minor), 0),
        )
        .where(loans.c.tenant == tenant)
        .group_by(loans.c.currency)
        .order_by(loans.c.currency)
    ).all()
    return [LendingFigures(c, int(n), int(o), int(r), int(w)) for c, n, o, r, w in rows]


def order_loan(conn: Connection, tenant: str, order_id: str) -> OrderLoan | None:
    """The loan of a financed order (None: the order was not financed)."""
    loan = conn.execute(
        select(loans.c.loan_id, loans.c.plan_code, OWED.label("owed")).where(
            loans.c.tenant == tenant, loans.c.order_id == order_id
        )
    ).first()
    if loan is None:
        return None
    return OrderLoan(
        loan.loan_id, loan.plan_code, int(loan.owed), installments(conn, tenant, loan.loan_id)
    )


def installments(conn: Connection, tenant: str, loan_id: str) -> list[Installment]:
    """The loan's schedule: what falls due when (with any late fee charged on it)."""
    i = loan_installments.c
    rows = conn.execute(
        select(
            i.number,
            i.due_date,
            i.principal_minor + i.interest_minor + i.fee_minor + i.late_fee_minor,
        )
        .where(i.tenant == tenant, i.loan_id == loan_id)
        .order_by(i.number)
    ).all()
    return [Installment(int(number), due, int(amount)) for number, due, amount in rows]
