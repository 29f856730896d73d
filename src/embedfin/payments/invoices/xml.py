"""The EN 16931 invoice document: UN/CEFACT Cross Industry Invoice XML (Factur-X profile).

``render_with_drafthorse`` builds the document with ``drafthorse`` and validates it against the
official XSD. That takes ~5 ms an invoice, which is more than the rest of an order's life in the
simulator, so ``render_invoice`` renders each (line count, currency, seller country) shape once
with drafthorse — placeholders in every field that varies — and fills the placeholders of that
validated template for each invoice. Only values whose text drafthorse would write unchanged
take that path (a conservative character set, no escaping needed); any other input is rendered
by drafthorse itself. The test suite checks both paths give the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.tradelines import LineItem

from embedfin.commerce.orders import Order, OrderLine
from embedfin.commerce.store import Merchant
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.money import Money, currency

SCHEMA = "FACTUR-X_EN16931"
#: Text that the XML writers keep exactly as given (nothing to escape, no whitespace to
#: normalise) and that cannot be mistaken for a placeholder.
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]*")
_TEMPLATES = 256
_LINES_MAX = 100


def _amount(minor: int, currency_code: str) -> Decimal:
    return Money(minor, currency_code).decimal


@cache
def _exponent(currency_code: str) -> int:
    return currency(currency_code).exponent


def _amount_text(minor: int, currency_code: str) -> str:
    """``str(_amount(minor, currency_code))`` without building a ``Money`` per field."""
    return str(Decimal(minor).scaleb(-_exponent(currency_code)))


def _date_text(issued_ns: int) -> str:
    """The issue date as the template writes it (``%Y%m%d``)."""
    issued = datetime.fromtimestamp(issued_ns / NS_PER_SECOND, tz=UTC).date()
    if issued.year < 1000:  # strftime's own (platform's) padding of small years
        return issued.strftime("%Y%m%d")
    return f"{issued.year}{issued.month:02d}{issued.day:02d}"


def render_with_drafthorse(
    order: Order, merchant: Merchant, lines: Sequence[OrderLine], invoice_id: str, issued_ns: int
) -> bytes:
    """The EN 16931 CII XML of an invoice for ``order``, built by drafthorse and validated
    against the XSD."""
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


def render_invoice(
    order: Order, merchant: Merchant, lines: Sequence[OrderLine], invoice_id: str, issued_ns: int
) -> bytes:
    """The EN 16931 CII XML of an invoice for ``order``: the bytes ``render_with_drafthorse``
    gives, from a validated template when the values allow (see the module text)."""
    texts = (invoice_id, merchant.merchant_id, order.buyer_id, order.order_id)
    if all(_PLAIN.fullmatch(t) for t in (*texts, *(line.sku for line in lines))):
        template = _template(order, merchant, len(lines))
        if template is not None:
            return template.fill(_fields(order, merchant, lines, invoice_id, issued_ns))
    return render_with_drafthorse(order, merchant, lines, invoice_id, issued_ns)


def _fields(
    order: Order, merchant: Merchant, lines: Sequence[OrderLine], invoice_id: str, issued_ns: int
) -> list[str]:
    """The text of every field that varies between invoices of one shape, in a fixed order."""
    code = order.currency
    total = sum(line.quantity * line.unit_price_minor for line in lines)
    texts = [
        invoice_id,
        _date_text(issued_ns),
        merchant.merchant_id,
        order.buyer_id,
        order.order_id,
        _amount_text(total, code),
    ]
    for line in lines:
        texts += [
            line.sku,
            _amount_text(line.unit_price_minor, code),
            str(Decimal(line.quantity)),
            _amount_text(line.quantity * line.unit_price_minor, code),
        ]
    return texts


class _Template:
    """A rendered document cut at its placeholders: ``fill`` puts the fields between.

    The pieces are kept as one bytes %-format (``%`` in them doubled), so that filling an
    invoice is one C-level formatting call rather than a join of many small pieces."""

    __slots__ = ("_format", "pieces", "slots")

    def __init__(self, pieces: tuple[bytes, ...], slots: tuple[int, ...]) -> None:
        self.pieces = pieces
        self.slots = slots  # which field goes after each piece but the last
        self._format = b"%s".join(piece.replace(b"%", b"%%") for piece in pieces)

    def fill(self, texts: Sequence[str]) -> bytes:
        return self._format % tuple([texts[slot].encode() for slot in self.slots])


_templates: dict[tuple[int, str, str], _Template | None] = {}


def _template(order: Order, merchant: Merchant, line_count: int) -> _Template | None:
    """The shape of ``order``'s invoice rendered by drafthorse with a distinct placeholder in
    every varying field, checked on a second set of placeholders; None when the check fails
    (drafthorse then renders every invoice of that shape)."""
    key = (line_count, order.currency, merchant.country)
    if key in _templates:
        return _templates[key]
    if len(_templates) >= _TEMPLATES:
        _templates.clear()
    made = None
    if line_count <= _LINES_MAX:
        made = _cut(*_placeholders(order, merchant, line_count, 0))
        probe = _placeholders(order, merchant, line_count, 1)
        if made is not None and made.fill(_fields(*probe)) != render_with_drafthorse(*probe):
            made = None
    _templates[key] = made
    return made


def _placeholders(
    order: Order, merchant: Merchant, line_count: int, variant: int
) -> tuple[Order, Merchant, list[OrderLine], str, int]:
    """Invoice inputs of one shape whose varying fields all render to distinct texts."""
    tag = "ZY"[variant]
    lines = [
        OrderLine(f"{tag}{4 + n}{tag}", 7_001 + n + 500 * variant, 3_100_017 + 1_013 * n)
        for n in range(line_count)
    ]
    day = datetime(1901 + variant, 2, 3, tzinfo=UTC)
    return (
        replace(order, order_id=f"{tag}1{tag}", buyer_id=f"{tag}2{tag}"),
        replace(merchant, merchant_id=f"{tag}3{tag}"),
        lines,
        f"{tag}0{tag}",
        int(day.timestamp()) * NS_PER_SECOND,
    )


def _cut(
    order: Order, merchant: Merchant, lines: list[OrderLine], invoice_id: str, issued_ns: int
) -> _Template | None:
    marks = [m.encode() for m in _fields(order, merchant, lines, invoice_id, issued_ns)]
    slot_of: dict[bytes, int] = {}
    for n, mark in enumerate(marks):  # fields that are always equal (one line's total and the
        slot_of.setdefault(mark, n)  # grand total) share a place; the probe checks "always"
    xml = render_with_drafthorse(order, merchant, lines, invoice_id, issued_ns)
    pattern = re.compile(b">(" + b"|".join(re.escape(m) for m in slot_of) + b")<")
    pieces, slots, at = [], [], 0
    for found in pattern.finditer(xml):
        pieces.append(xml[at : found.start(1)])
        slots.append(slot_of[found.group(1)])
        at = found.end(1)
    pieces.append(xml[at:])
    if set(slots) != set(slot_of.values()):
        return None  # a field is not where a placeholder can find it
    return _Template(tuple(pieces), tuple(slots))
