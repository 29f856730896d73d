"""E-invoices issued when escrow is released, in a real standard format.

Format (``invoices/xml.py``): EN 16931 in the UN/CEFACT Cross Industry Invoice syntax, as a
Factur-X / ZUGFeRD document, built and validated against the official XSD by ``drafthorse``
(maintained by the pretix project for production use). UBL 2.1 is the other EN 16931 syntax;
we chose CII because its Python library is maintained and validates every document it writes,
while the UBL libraries on PyPI are young or unmaintained — the data model is the same, so a
UBL writer can be added behind ``render_invoice`` later.

``InvoiceConsumer`` is an outbox consumer (run by the consumers' runner, in the API's worker
and the simulator): for each ``escrow_released`` event it writes one invoice per order (the
unique (tenant, order) key makes a re-run harmless) in the transaction that moves its cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from embedfin.commerce.orders import Order, OrderLine
from embedfin.commerce.store import Merchant, load_lines_many, load_merchants, load_orders
from embedfin.consumers.runner import Runner
from embedfin.core.events import Event, StoredEvent
from embedfin.core.money import Money
from embedfin.db.tables import invoices
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.invoices.xml import render_invoice

CONSUMER = "invoices"


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: str
    order_id: str
    total: Money
    payment_reference: str
    xml: bytes


class InvoiceConsumer:
    """The outbox consumer: one invoice per order whose escrow was released."""

    name = CONSUMER
    event_types: frozenset[str] | None = frozenset({"escrow_released"})
    batch_size = 500

    def idle(self, conn: Connection) -> bool:
        return False

    def handle(self, events: Sequence[StoredEvent], tx: LedgerTransaction) -> int:
        by_tenant: dict[str, list[str]] = {}
        for stored in events:
            by_tenant.setdefault(stored.event.tenant_id or "", []).append(stored.event.aggregate_id)
        facts = {tenant: _Facts.load(tx.conn, tenant, ids) for tenant, ids in by_tenant.items()}
        rows: list[tuple[object, ...]] = []
        issued: list[Event] = []
        for stored in events:  # in outbox order, as the invoice_issued events must be
            event = stored.event
            tenant = event.tenant_id or ""
            known = facts[tenant]
            order = known.orders.get(event.aggregate_id)
            merchant = known.merchants.get(order.merchant_id) if order else None
            if order is None or merchant is None or order.order_id in known.invoiced:
                continue
            known.invoiced.add(order.order_id)
            rows.append(_invoice_row(tenant, order, merchant, known, event.occurred_at_ns))
            issued.append(  # dated when the escrow was released, as the invoice is
                Event(
                    "invoice_issued",
                    "order",
                    order.order_id,
                    {"invoice_id": _invoice_id(order)},
                    event.occurred_at_ns,
                    tenant,
                )
            )
        if rows:
            _insert_invoices(tx.conn, rows)
            tx.emit_all(issued)
        return len(rows)


def _invoice_id(order: Order) -> str:
    return f"INV-{order.order_id}"


#: the columns of an invoice row, in the order ``_invoice_row`` gives them
_COLUMNS = (
    "tenant",
    "invoice_id",
    "order_id",
    "merchant_id",
    "currency",
    "total_minor",
    "payment_reference",
    "xml",
    "issued_at",
)
_INSERT_SQLITE = (
    f"INSERT INTO invoices ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
)


def _invoice_row(
    tenant: str, order: Order, merchant: Merchant, known: _Facts, issued_ns: int
) -> tuple[object, ...]:
    """One invoice's row: the document rendered, the figures it states."""
    invoice_id = _invoice_id(order)
    lines = known.lines.get(order.order_id, [])
    xml = render_invoice(order, merchant, lines, invoice_id, issued_ns)
    return (
        tenant,
        invoice_id,
        order.order_id,
        merchant.merchant_id,
        order.currency,
        order.total_minor,
        order.order_id,  # the payment reference
        xml.decode(),
        issued_ns,
    )


def _insert_invoices(conn: Connection, rows: list[tuple[object, ...]]) -> None:
    """One statement for the batch; on SQLite the driver's executemany, which skips the
    per-row parameter processing (the rows are plain str and int already)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_INSERT_SQLITE, rows)
        return
    conn.execute(insert(invoices), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])


@dataclass(slots=True)
class _Facts:
    """What the invoices of one tenant's released orders are made of, read together."""

    orders: dict[str, Order]
    merchants: dict[str, Merchant]
    lines: dict[str, list[OrderLine]]
    invoiced: set[str]

    @classmethod
    def load(cls, conn: Connection, tenant: str, order_ids: Sequence[str]) -> _Facts:
        orders = load_orders(conn, tenant, order_ids)
        merchants = load_merchants(conn, tenant, [o.merchant_id for o in orders.values()])
        return cls(
            orders,
            merchants,
            load_lines_many(conn, tenant, list(orders)),
            _invoiced(conn, tenant, list(orders)),
        )


class InvoiceIssuer:
    """Issues invoices for released orders (``run``) and finds them (``get``)."""

    def __init__(self, ledger: Ledger, runner: Runner | None = None) -> None:
        self.ledger = ledger
        self.consumer = InvoiceConsumer()
        self.runner = runner or Runner(ledger)

    def run(self, limit: int = InvoiceConsumer.batch_size) -> int:
        """Issue the invoices of every release not yet invoiced; returns how many."""
        return self.runner.run(self.consumer, batch_size=limit)

    def get(self, tenant: str, order_id: str) -> Invoice | None:
        with self.ledger.transaction() as tx:
            row = (
                tx.conn.execute(
                    select(invoices).where(
                        invoices.c.tenant == tenant, invoices.c.order_id == order_id
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return Invoice(
            row["invoice_id"],
            row["order_id"],
            Money(row["total_minor"], row["currency"]),
            row["payment_reference"],
            row["xml"].encode(),
        )


def _invoiced(conn: Connection, tenant: str, order_ids: Sequence[str]) -> set[str]:
    """Which of these orders have their invoice already."""
    t = invoices.c
    found: set[str] = set()
    for start in range(0, len(order_ids), 500):
        found.update(
            conn.execute(
                select(t.order_id).where(
                    t.tenant == tenant, t.order_id.in_(order_ids[start : start + 500])
                )
            ).scalars()
        )
    return found
