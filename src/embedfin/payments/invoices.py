"""E-invoices issued when escrow is released, in a real standard format.

Format: EN 16931 in the UN/CEFACT Cross Industry Invoice syntax, as a Factur-X / ZUGFeRD
document, built and validated against the official XSD by ``drafthorse`` (maintained by the
pretix project for production use). UBL 2.1 is the other EN 16931 syntax; we chose CII because
its Python library is maintained and validates every document it writes, while the UBL
libraries on PyPI are young or unmaintained — the data model is the same, so a UBL writer can
be added behind ``render_invoice`` later.

``InvoiceConsumer`` is an outbox consumer (run by the consumers' runner, in the API's worker
and the simulator): for each ``escrow_released`` event it writes one invoice per order (the
unique (tenant, order) key makes a re-run harmless) in the transaction that moves its cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.tradelines import LineItem
from sqlalchemy import Connection, insert, select

from embedfin.commerce.orders import Order, OrderLine
from embedfin.commerce.store import Merchant, load_lines, load_merchant, load_order
from embedfin.consumers.runner import Runner
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.events import Event, StoredEvent
from embedfin.core.money import Money
from embedfin.db.tables import invoices
from embedfin.ledger.service import Ledger, LedgerTransaction

CONSUMER = "invoices"
SCHEMA = "FACTUR-X_EN16931"


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: str
    order_id: str
    total: Money
    payment_reference: str
    xml: bytes


def _amount(minor: int, currency_code: str) -> Decimal:
    return Money(minor, currency_code).decimal


def render_invoice(
    order: Order, merchant: Merchant, lines: Sequence[OrderLine], invoice_id: str, issued_ns: int
) -> bytes:
    """The EN 16931 CII XML of an invoice for ``order`` (validated against the XSD)."""
    code = order.currency
    issued = datetime.fromtimestamp(issued_ns / NS_PER_SECOND, tz=UTC)
    doc = Document()
    doc.context.guideline_parameter.id = "urn:cen.eu:en16931:2017"
    doc.header.id = invoice_id
    doc.header.type_code = "380"  # commercial invoice
    doc.header.issue_date_time = issued.date()
    doc.trade.agreement.seller.name = merchant.merchant_id
    doc.trade.agreement.seller.address.country_id = merchant.country
    doc.trade.agreement.buyer.name = order.buyer_id
    doc.trade.agreement.buyer_order.issuer_assigned_id = order.order_id
    doc.trade.settlement.currency_code = code
    doc.trade.settlement.payment_reference = order.order_id
    doc.trade.settlement.payment_means.type_code = "58"  # credit transfer via the platform
    total = 0
    for n, line in enumerate(lines, start=1):
        line_total = line.quantity * line.unit_price_minor
        total += line_total
        item = LineItem()
        item.document.line_id = str(n)
        item.product.name = line.sku
        item.agreement.net.amount = _amount(line.unit_price_minor, code)
        item.delivery.billed_quantity = (Decimal(line.quantity), "H87")  # pieces
        item.settlement.trade_tax.type_code = "VAT"
        item.settlement.trade_tax.category_code = "O"  # outside the scope of VAT here
        item.settlement.monetary_summation.total_amount = _amount(line_total, code)
        doc.trade.items.add(item)
    tax = ApplicableTradeTax()
    tax.calculated_amount = Decimal(0)
    tax.basis_amount = _amount(total, code)
    tax.type_code = "VAT"
    tax.category_code = "O"
    tax.exemption_reason_code = "VATEX-EU-O"
    doc.trade.settlement.trade_tax.add(tax)
    summation = doc.trade.settlement.monetary_summation
    summation.line_total = _amount(total, code)
    summation.tax_basis_total = _amount(total, code)
    summation.tax_total = (Decimal(0), code)
    summation.grand_total = _amount(total, code)
    summation.prepaid_total = _amount(total, code)  # paid through escrow
    summation.due_amount = Decimal(0)
    return bytes(doc.serialize(schema=SCHEMA))


class InvoiceConsumer:
    """The outbox consumer: one invoice per order whose escrow was released."""

    name = CONSUMER
    event_types: frozenset[str] | None = frozenset({"escrow_released"})
    batch_size = 500

    def handle(self, events: Sequence[StoredEvent], tx: LedgerTransaction) -> int:
        issued = 0
        for stored in events:
            event = stored.event
            tenant = event.tenant_id or ""
            if _exists(tx.conn, tenant, event.aggregate_id):
                continue
            order = load_order(tx.conn, tenant, event.aggregate_id)
            merchant = load_merchant(tx.conn, tenant, order.merchant_id) if order else None
            if order is None or merchant is None:
                continue
            lines = load_lines(tx.conn, tenant, order.order_id)
            invoice_id = f"INV-{order.order_id}"
            xml = render_invoice(order, merchant, lines, invoice_id, event.occurred_at_ns)
            tx.conn.execute(
                insert(invoices).values(
                    tenant=tenant,
                    invoice_id=invoice_id,
                    order_id=order.order_id,
                    merchant_id=merchant.merchant_id,
                    currency=order.currency,
                    total_minor=order.total_minor,
                    payment_reference=order.order_id,
                    xml=xml.decode(),
                    issued_at=event.occurred_at_ns,
                )
            )
            tx.emit_all(  # dated when the escrow was released, as the invoice is
                [
                    Event(
                        "invoice_issued",
                        "order",
                        order.order_id,
                        {"invoice_id": invoice_id},
                        event.occurred_at_ns,
                        tenant,
                    )
                ]
            )
            issued += 1
        return issued


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


def _exists(conn: Connection, tenant: str, order_id: str) -> bool:
    found = conn.execute(
        select(invoices.c.invoice_id).where(
            invoices.c.tenant == tenant, invoices.c.order_id == order_id
        )
    ).first()
    return found is not None
