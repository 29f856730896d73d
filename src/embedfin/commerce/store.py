"""Rows <-> commerce records. Only the commerce and payments services call these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)

from embedfin.commerce.orders import GoodsKind, Order, OrderLine, OrderStatus
from embedfin.core.errors import NotFound
from embedfin.db.tables import merchants, order_lines, orders

# Built once: constructing Core statements per call costs more than running them.
_LOAD_MERCHANT = select(merchants).where(
    merchants.c.tenant == bindparam("tenant"), merchants.c.merchant_id == bindparam("merchant_id")
)
_INSERT_ORDER = insert(orders)
_INSERT_LINES = insert(order_lines)
_SAVE_ORDER = (
    update(orders)
    .where(orders.c.tenant == bindparam("key_tenant"), orders.c.order_id == bindparam("key_id"))
    .values({c.name: bindparam(c.name) for c in orders.c if c.name not in ("tenant", "order_id")})
)
_LOAD_ORDER = select(orders).where(
    orders.c.tenant == bindparam("tenant"), orders.c.order_id == bindparam("order_id")
)
_LOAD_ORDER_LOCKED = _LOAD_ORDER.with_for_update()


@dataclass(frozen=True, slots=True)
class Merchant:
    """A seller on the marketplace.

    Attributes:
        kyc_status: ``verified`` merchants may sell and be paid out; ``review`` (verified, its
            details changed and under review again) may sell but is not paid out; ``pending``
            (never verified) and ``rejected`` may do neither.
        category: decides the commission rate.
        country: ISO 3166 alpha-2.
        settlement_currency: ISO 4217.
        payout_preference: ``t0`` (real-time release to available) or ``t1`` (next-day batch).
    """

    tenant: str
    merchant_id: str
    kyc_status: str
    category: str
    country: str
    settlement_currency: str
    payout_preference: str
    created_at: int


def insert_merchant(conn: Connection, merchant: Merchant) -> None:
    conn.execute(insert(merchants).values(**asdict(merchant)))


def set_kyc_status(conn: Connection, tenant: str, merchant_id: str, status: str) -> None:
    conn.execute(
        update(merchants)
        .where(merchants.c.tenant == tenant, merchants.c.merchant_id == merchant_id)
        .values(kyc_status=status)
    )


def load_merchant(conn: Connection, tenant: str, merchant_id: str) -> Merchant | None:
    row = (
        conn.execute(
            select(merchants).where(
                merchants.c.tenant == tenant, merchants.c.merchant_id == merchant_id
            )
        )
        .mappings()
        .first()
    )
    return Merchant(**row) if row else None


def load_merchants(
    conn: Connection, tenant: str, merchant_ids: Sequence[str]
) -> dict[str, Merchant]:
    """Many merchants in one query, by id (missing ids are absent)."""
    wanted = sorted(set(merchant_ids))
    found: dict[str, Merchant] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(merchants).where(
                merchants.c.tenant == tenant,
                merchants.c.merchant_id.in_(wanted[start : start + 500]),
            )
        ).mappings()
        for row in rows:
            found[row["merchant_id"]] = Merchant(**row)
    return found


def insert_order(conn: Connection, order: Order, lines: Sequence[OrderLine]) -> None:
    insert_orders(conn, [(order, lines)])


def insert_orders(conn: Connection, placed: Sequence[tuple[Order, Sequence[OrderLine]]]) -> None:
    """Insert many new orders and their lines: one executemany per table."""
    if not placed:
        return
    conn.execute(_INSERT_ORDER, [_order_values(order) for order, _ in placed])
    conn.execute(
        _INSERT_LINES,
        [
            {
                "tenant": order.tenant,
                "order_id": order.order_id,
                "line_no": n,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
            }
            for order, lines in placed
            for n, line in enumerate(lines, start=1)
        ],
    )


def save_order(conn: Connection, order: Order) -> None:
    save_orders(conn, [order])


def load_order(
    conn: Connection, tenant: str, order_id: str, *, for_update: bool = False
) -> Order | None:
    query = _LOAD_ORDER_LOCKED if for_update else _LOAD_ORDER
    row = conn.execute(query, {"tenant": tenant, "order_id": order_id}).mappings().first()
    return _order(row) if row else None


def load_lines(conn: Connection, tenant: str, order_id: str) -> list[OrderLine]:
    rows = conn.execute(
        select(order_lines.c.sku, order_lines.c.quantity, order_lines.c.unit_price_minor)
        .where(order_lines.c.tenant == tenant, order_lines.c.order_id == order_id)
        .order_by(order_lines.c.line_no)
    )
    return [OrderLine(*row) for row in rows]


def load_lines_many(
    conn: Connection, tenant: str, order_ids: Sequence[str]
) -> dict[str, list[OrderLine]]:
    """The lines of many orders, by order id, each in line order (one query per 500)."""
    found: dict[str, list[OrderLine]] = {}
    unique = sorted(set(order_ids))
    t = order_lines.c
    for start in range(0, len(unique), 500):
        rows = conn.execute(
            select(t.order_id, t.sku, t.quantity, t.unit_price_minor)
            .where(t.tenant == tenant, t.order_id.in_(unique[start : start + 500]))
            .order_by(t.order_id, t.line_no)
        )
        for order_id, sku, quantity, price in rows:
            found.setdefault(order_id, []).append(OrderLine(sku, quantity, price))
    return found


def due_for_auto_confirm(conn: Connection, now: int, limit: int) -> list[tuple[str, str]]:
    rows = conn.execute(
        select(orders.c.tenant, orders.c.order_id)
        .where(orders.c.auto_confirm_at > 0, orders.c.auto_confirm_at <= now)
        .order_by(orders.c.auto_confirm_at)
        .limit(limit)
    )
    return [(tenant, order_id) for tenant, order_id in rows]


_ORDER_FIELDS = tuple(f.name for f in fields(Order))


def _order_values(order: Order) -> dict[str, object]:
    values = {name: getattr(order, name) for name in _ORDER_FIELDS}  # asdict deep-copies
    values["status"] = str(order.status)
    values["goods_kind"] = str(order.goods_kind)
    values["frozen"] = int(order.frozen)
    values["risk_hold"] = int(order.risk_hold)
    return values


def _order(row: object) -> Order:
    values = dict(row)  # type: ignore[call-overload]
    values["status"] = OrderStatus(values["status"])
    values["goods_kind"] = GoodsKind(values["goods_kind"])
    values["frozen"] = bool(values["frozen"])
    values["risk_hold"] = bool(values["risk_hold"])
    return Order(**values)


def load_orders(
    conn: Connection, tenant: str, order_ids: Sequence[str], *, for_update: bool = False
) -> dict[str, Order]:
    """Many orders at once (locked on PostgreSQL when asked), by id."""
    found: dict[str, Order] = {}
    unique = sorted(set(order_ids))
    for start in range(0, len(unique), 500):
        query = select(orders).where(
            orders.c.tenant == tenant, orders.c.order_id.in_(unique[start : start + 500])
        )
        if for_update:
            query = query.order_by(orders.c.order_id).with_for_update()
        for row in conn.execute(query).mappings():
            order = _order(row)
            found[order.order_id] = order
    return found


def save_orders(conn: Connection, changed: Sequence[Order]) -> None:
    """Write many orders: one executemany, or on PostgreSQL one COPY and one joined UPDATE."""
    if not changed:
        return
    if conn.dialect.name == "postgresql" and len(changed) > 1:
        _save_orders_postgres(conn, changed)
        return
    if conn.dialect.name == "sqlite":  # driver-level executemany: no per-row binding work
        conn.exec_driver_sql(_SAVE_ORDER_SQLITE, [_save_row(order) for order in changed])
        return
    params = []
    for order in changed:
        values = _order_values(order)
        values["key_tenant"] = values.pop("tenant")
        values["key_id"] = values.pop("order_id")
        params.append(values)
    conn.execute(_SAVE_ORDER, params)


_UPDATED_FIELDS = tuple(name for name in _ORDER_FIELDS if name not in ("tenant", "order_id"))
_SAVE_ORDER_SQLITE = (
    "UPDATE orders SET "
    + ", ".join(f"{name} = ?" for name in _UPDATED_FIELDS)
    + " WHERE tenant = ? AND order_id = ?"
)


def _save_row(order: Order) -> tuple[object, ...]:
    values = _order_values(order)
    return (*(values[name] for name in _UPDATED_FIELDS), order.tenant, order.order_id)


def _save_orders_postgres(conn: Connection, changed: Sequence[Order]) -> None:
    driver = conn.connection.driver_connection
    assert driver is not None
    columns = ", ".join(_ORDER_FIELDS)
    assignments = ", ".join(
        f"{name} = u.{name}" for name in _ORDER_FIELDS if name not in ("tenant", "order_id")
    )
    with driver.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS order_updates (LIKE orders) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE order_updates")  # several batches may share a transaction
        with cursor.copy(f"COPY order_updates ({columns}) FROM STDIN") as copy:
            for order in changed:
                values = _order_values(order)
                copy.write_row([values[name] for name in _ORDER_FIELDS])
        cursor.execute(
            f"UPDATE orders AS o SET {assignments} FROM order_updates AS u"
            " WHERE o.tenant = u.tenant AND o.order_id = u.order_id"
        )


def list_orders(
    conn: Connection,
    tenant: str,
    limit: int,
    starting_after: str | None = None,
    merchant_id: str | None = None,
    buyer_id: str | None = None,
    status: str | None = None,
) -> tuple[list[Order], bool]:
    """Newest first by (placed_at, order_id); ``starting_after`` is an order id of the tenant."""
    query = select(orders).where(orders.c.tenant == tenant)
    for column, value in ((orders.c.merchant_id, merchant_id), (orders.c.buyer_id, buyer_id)):
        if value is not None:
            query = query.where(column == value)
    if status is not None:
        query = query.where(orders.c.status == status)
    if starting_after is not None:
        cursor = load_order(conn, tenant, starting_after)
        if cursor is None or (merchant_id is not None and cursor.merchant_id != merchant_id):
            raise NotFound(f"no order {starting_after}")
        query = query.where(
            tuple_(orders.c.placed_at, orders.c.order_id)
            < tuple_(literal(cursor.placed_at), literal(cursor.order_id))
        )
    rows = conn.execute(
        query.order_by(orders.c.placed_at.desc(), orders.c.order_id.desc()).limit(limit + 1)
    ).mappings()
    found = [_order(r) for r in rows]
    return found[:limit], len(found) > limit


def list_merchants(
    conn: Connection, tenant: str, limit: int, starting_after: str | None = None
) -> tuple[list[Merchant], bool]:
    """By merchant id, descending (API merchant ids are time-ordered: newest first)."""
    query = select(merchants).where(merchants.c.tenant == tenant)
    if starting_after is not None:
        query = query.where(merchants.c.merchant_id < starting_after)
    rows = conn.execute(query.order_by(merchants.c.merchant_id.desc()).limit(limit + 1)).all()
    found = [Merchant(**r._mapping) for r in rows]
    return found[:limit], len(found) > limit


@dataclass(frozen=True, slots=True)
class BuyerSales:
    """One buyer's paid orders at one merchant: in the window, the last week, the 28 days
    before that week, those frozen by an open dispute, and those confirmed received within a
    day of payment (merchant risk's fund-flow read)."""

    merchant_id: str
    buyer_id: str
    paid: int
    last_week: int
    prior_28d: int
    disputed: int
    quick_confirms: int


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def sales_by_buyer(
    conn: Connection, tenant: str, since: int, week: int, now: int
) -> list[BuyerSales]:
    """Paid orders per merchant and buyer: since ``since``, since ``week``, in the 28 days
    before ``week``; to ``now``."""
    o = orders.c
    day = 86_400 * 1_000_000_000
    before = week - 28 * day
    query = (
        select(
            o.merchant_id,
            o.buyer_id,
            _count_if(o.paid_at > since),
            _count_if(o.paid_at > week),
            _count_if(and_(o.paid_at <= week, o.paid_at > before)),
            _count_if(and_(o.paid_at > since, o.frozen == 1)),
            _count_if(
                and_(o.paid_at > since, o.completed_at > 0, o.completed_at - o.paid_at < day)
            ),
        )
        .where(o.tenant == tenant, o.paid_at > min(before, since), o.paid_at <= now)
        .group_by(o.merchant_id, o.buyer_id)
    )
    return [
        BuyerSales(m, b, int(p or 0), int(w or 0), int(q or 0), int(f or 0), int(c or 0))
        for m, b, p, w, q, f, c in conn.execute(query)
    ]


def merchant_onboarding(conn: Connection, tenant: str) -> dict[str, int]:
    """Every merchant of the tenant and when it was onboarded (ns)."""
    m = merchants.c
    query = select(m.merchant_id, m.created_at).where(m.tenant == tenant)
    return {str(merchant): int(at) for merchant, at in conn.execute(query)}


def tenants_with_merchants(conn: Connection) -> list[str]:
    query = select(merchants.c.tenant).distinct()
    return sorted(str(t) for (t,) in conn.execute(query))
