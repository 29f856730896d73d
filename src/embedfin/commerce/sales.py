"""Commerce's read model of what merchants sold, for lenders (``scf.stock.SalesHistory``)."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from embedfin.commerce.orders import OrderStatus
from embedfin.db.tables import order_lines, orders

#: orders whose goods have left the merchant's stock (paid, shipped or completed)
SOLD = (OrderStatus.PAID.value, OrderStatus.SHIPPED.value, OrderStatus.COMPLETED.value)


class CommerceSales:
    """Units sold by SKU in orders a merchant was paid for, in a window of payment times."""

    def units_sold(
        self, conn: Connection, tenant: str, merchant_id: str, since_ns: int, until_ns: int
    ) -> dict[str, int]:
        o, line = orders.c, order_lines.c
        rows = conn.execute(
            select(line.sku, func.sum(line.quantity))
            .join_from(orders, order_lines,
                       (line.tenant == o.tenant) & (line.order_id == o.order_id))
            .where(o.tenant == tenant, o.merchant_id == merchant_id, o.status.in_(SOLD),
                   o.paid_at >= since_ns, o.paid_at < until_ns)
            .group_by(line.sku)
        )  # fmt: skip
        return {sku: int(units) for sku, units in rows}
