"""Sales figures from commerce's orders: GMV, order counts and payment-to-release time."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, func, select

from embedfin.commerce.store import list_orders
from embedfin.core.clock import NS_PER_SECOND
from embedfin.db.tables import orders

DAY_NS = 86_400 * NS_PER_SECOND
#: Orders whose money has been taken (GMV counts them; cancelled-before-payment ones do not).
PAID = orders.c.paid_at > 0


@dataclass(frozen=True, slots=True)
class DailyPoint:
    day: int  # days since the Unix epoch (UTC)
    orders: int
    gmv_minor: int
    release_days: float | None


@dataclass(frozen=True, slots=True)
class Sales:
    """Paid orders of a currency or a merchant, and the money they moved."""

    orders: int
    gmv_minor: int
    commission_minor: int = 0
    refunded_minor: int = 0


def _days(mean_ns: float | Decimal | None) -> float | None:
    return None if mean_ns is None else round(float(mean_ns) / DAY_NS, 3)


def sales_by_currency(conn: Connection, tenant: str) -> dict[str, Sales]:
    """Paid orders and GMV per currency."""
    rows = conn.execute(
        select(orders.c.currency, func.count(), func.sum(orders.c.paid_minor))
        .where(orders.c.tenant == tenant, PAID)
        .group_by(orders.c.currency)
    ).all()
    return {code: Sales(int(count), int(gmv or 0)) for code, count, gmv in rows}


def release_days_by_currency(conn: Connection, tenant: str) -> dict[str, float | None]:
    """Mean days from payment to release to the merchant, per currency (released orders)."""
    rows = conn.execute(
        select(orders.c.currency, func.avg(orders.c.completed_at - orders.c.paid_at))
        .where(orders.c.tenant == tenant, PAID, orders.c.completed_at > 0)
        .group_by(orders.c.currency)
    ).all()
    return {code: _days(mean) for code, mean in rows}


def daily_sales(
    conn: Connection, tenant: str, currency: str, merchant_id: str | None = None
) -> list[DailyPoint]:
    """Orders, GMV and mean payment-to-release time per UTC day of payment (of one merchant,
    or of the whole marketplace)."""
    day = orders.c.paid_at / DAY_NS
    released = orders.c.completed_at > 0
    query = (
        select(
            day.label("day"),
            func.count(),
            func.sum(orders.c.paid_minor),
            func.avg(orders.c.completed_at - orders.c.paid_at).filter(released),
        )
        .where(orders.c.tenant == tenant, orders.c.currency == currency, PAID)
        .group_by("day")
        .order_by("day")
    )
    if merchant_id is not None:
        query = query.where(orders.c.merchant_id == merchant_id)
    rows = conn.execute(query).all()
    return [DailyPoint(int(d), int(n), int(gmv or 0), _days(mean)) for d, n, gmv, mean in rows]


def top_merchants_by_sales(
    conn: Connection, tenant: str, currency: str, limit: int = 8
) -> list[tuple[str, int, int]]:
    """(merchant id, orders, GMV) of the best-selling merchants in the currency."""
    gmv = func.sum(orders.c.paid_minor)
    rows = conn.execute(
        select(orders.c.merchant_id, func.count(), gmv)
        .where(orders.c.tenant == tenant, orders.c.currency == currency, PAID)
        .group_by(orders.c.merchant_id)
        .order_by(gmv.desc(), orders.c.merchant_id)
        .limit(limit)
    ).all()
    return [(m, int(n), int(g)) for m, n, g in rows]


def merchant_sales(conn: Connection, tenant: str, merchant_id: str) -> Sales:
    """A merchant's paid orders: count, GMV, commission taken and refunds."""
    count, gmv, commission, refunded = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(orders.c.paid_minor), 0),
            func.coalesce(func.sum(orders.c.commission_minor), 0),
            func.coalesce(func.sum(orders.c.refunded_minor), 0),
        ).where(orders.c.tenant == tenant, orders.c.merchant_id == merchant_id, PAID)
    ).one()
    return Sales(int(count), int(gmv), int(commission), int(refunded))


def recent_orders(
    conn: Connection, tenant: str, merchant_id: str | None = None, limit: int = 12
) -> list[tuple[str, str, int, str, int]]:
    """(order id, status, total, currency, placed at) newest first (commerce's order list)."""
    found, _ = list_orders(conn, tenant, limit, merchant_id=merchant_id)
    return [(o.order_id, str(o.status), o.total_minor, o.currency, o.placed_at) for o in found]
