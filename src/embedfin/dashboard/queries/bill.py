"""One bill: the order, how it was paid, where the money is, and what is owed when."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from embedfin.commerce.orders import Order
from embedfin.dashboard.queries.credit import Installment, order_loan
from embedfin.dashboard.queries.payments import order_channel


@dataclass(frozen=True, slots=True)
class Bill:
    """One bill: the order, how it was paid, where the money is, and what is owed when."""

    order_id: str
    merchant_id: str
    status: str
    currency: str
    total_minor: int
    paid_minor: int
    released_minor: int
    refunded_minor: int
    auto_confirm_at_ns: int
    channel: str | None
    loan_id: str | None
    plan: str | None
    loan_outstanding_minor: int
    installments: list[Installment]


def bill(conn: Connection, order: Order) -> Bill:
    """The bill of an order (as the checkout service found it)."""
    loan = order_loan(conn, order.tenant, order.order_id)
    return Bill(
        order_id=order.order_id,
        merchant_id=order.merchant_id,
        status=str(order.status),
        currency=order.currency,
        total_minor=order.total_minor,
        paid_minor=order.paid_minor,
        released_minor=order.released_minor,
        refunded_minor=order.refunded_minor,
        auto_confirm_at_ns=order.auto_confirm_at,
        channel=order_channel(conn, order.tenant, order.order_id),
        loan_id=None if loan is None else loan.loan_id,
        plan=None if loan is None else loan.plan,
        loan_outstanding_minor=0 if loan is None else loan.outstanding_minor,
        installments=[] if loan is None else loan.installments,
    )
