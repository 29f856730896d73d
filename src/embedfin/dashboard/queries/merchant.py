"""One merchant's figures: what it sold, what it holds with the platform, what it was paid."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from embedfin.commerce.store import load_merchant
from embedfin.dashboard.queries.payments import merchant_balances, merchant_payouts
from embedfin.dashboard.queries.sales import merchant_sales
from embedfin.ledger.service import Ledger


@dataclass(frozen=True, slots=True)
class MerchantFigures:
    merchant_id: str
    category: str
    currency: str
    orders: int
    gmv_minor: int
    commission_minor: int
    refunded_minor: int
    pending_minor: int  # released to the merchant, not yet settled to available
    available_minor: int
    paid_out_minor: int
    payouts: list[tuple[str, int, int]] = field(default_factory=list)  # batch, amount, at


def merchant_figures(
    conn: Connection, ledger: Ledger, tenant: str, merchant_id: str
) -> MerchantFigures | None:
    """The merchant's figures in its settlement currency (None: no such merchant here)."""
    merchant = load_merchant(conn, tenant, merchant_id)
    if merchant is None:
        return None
    code = merchant.settlement_currency
    sold = merchant_sales(conn, tenant, merchant_id)
    paid = merchant_payouts(conn, tenant, merchant_id)
    pending, available = merchant_balances(ledger, tenant, merchant_id, code)
    return MerchantFigures(
        merchant_id=merchant_id,
        category=merchant.category,
        currency=code,
        orders=sold.orders,
        gmv_minor=sold.gmv_minor,
        commission_minor=sold.commission_minor,
        refunded_minor=sold.refunded_minor,
        pending_minor=pending,
        available_minor=available,
        paid_out_minor=sum(amount for _, amount, _ in paid),
        payouts=paid[:10],
    )
