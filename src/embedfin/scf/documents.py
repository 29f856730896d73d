"""Trade documents and the three-way match: a purchase order's lines, the goods received
against it, and the supplier's invoice, compared before the invoice may become a confirmed
payable (and so a receivable certificate). Pure: no I/O.

The match is the accounts-payable control every buyer runs before paying a supplier: for each
invoiced SKU,

- it was ordered (``not_ordered`` otherwise);
- the quantity invoiced, with what earlier invoices on the order billed, is at most the quantity
  received (``over_received``) — so at most the quantity ordered, since receipts beyond the
  order are refused when they are recorded;
- the unit price invoiced is at most the order's, plus the order's price tolerance in basis
  points (``over_price``).

A matched invoice's amount — the sum of its lines, each quantity × unit price — is what the
core enterprise owes on it. An invoice that does not match is kept with its exceptions, so the
supplier can see why, and never becomes payable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from embedfin.core.errors import InvalidInput
from embedfin.scf.inventory import bounded

MAX_DOC_LINES = 500
MAX_QUANTITY = 10**9
MAX_PRICE = 10**12
MAX_TOLERANCE_BP = 1_000


@dataclass(frozen=True, slots=True)
class DocLine:
    """A line of an order or an invoice: a SKU, a quantity and a unit price (minor units)."""

    sku: str
    quantity: int
    unit_price_minor: int

    @property
    def amount_minor(self) -> int:
        return self.quantity * self.unit_price_minor


@dataclass(frozen=True, slots=True)
class Match:
    amount_minor: int
    exceptions: tuple[str, ...]

    @property
    def matched(self) -> bool:
        return not self.exceptions


def _sku(label: str, value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 64 or not value.isprintable():
        raise InvalidInput(f"{label}: sku must be 1-64 printable characters")
    return value


def check_lines(lines: object, priced: bool = True) -> tuple[DocLine, ...]:
    """An order's or an invoice's lines (``priced``), or a receipt's (quantities only, the
    price 0): each SKU once, quantities above 0."""
    if not isinstance(lines, list | tuple) or not 1 <= len(lines) <= MAX_DOC_LINES:
        raise InvalidInput(f"lines is a list of 1 to {MAX_DOC_LINES} lines")
    found: dict[str, DocLine] = {}
    for n, line in enumerate(lines, 1):
        if not isinstance(line, DocLine):
            raise InvalidInput(f"line {n} is not a document line")
        sku = _sku(f"line {n}", line.sku)
        if sku in found:
            raise InvalidInput(f"line {n}: sku {sku!r} appears twice")
        bounded(f"line {n}: quantity", line.quantity, 1, MAX_QUANTITY)
        bounded(f"line {n}: unit_price_minor", line.unit_price_minor, 1 if priced else 0,
               MAX_PRICE if priced else 0)  # fmt: skip
        found[sku] = line
    return tuple(found.values())


def check_tolerance(tolerance_bp: object) -> int:
    """The price tolerance of an order's invoices, in basis points (at most 10 %)."""
    return bounded("tolerance_bp", tolerance_bp, 0, MAX_TOLERANCE_BP)


def total(lines: Sequence[DocLine]) -> int:
    return sum(line.amount_minor for line in lines)


def check_receipt(
    ordered: Sequence[DocLine], received_before: Mapping[str, int], receipt: Sequence[DocLine]
) -> None:
    """A receipt names ordered SKUs and, with earlier receipts, no more than was ordered."""
    by_sku = {line.sku: line for line in ordered}
    for line in receipt:
        order_line = by_sku.get(line.sku)
        if order_line is None:
            raise InvalidInput(f"sku {line.sku!r} was not ordered")
        if received_before.get(line.sku, 0) + line.quantity > order_line.quantity:
            raise InvalidInput(f"sku {line.sku!r}: {order_line.quantity} ordered, and this receipt"
                               " would bring more than that in")  # fmt: skip


def match(
    ordered: Sequence[DocLine],
    received: Mapping[str, int],
    invoiced_before: Mapping[str, int],
    invoice: Sequence[DocLine],
    tolerance_bp: int = 0,
) -> Match:
    """The three-way match of an invoice (see the module)."""
    check_tolerance(tolerance_bp)
    by_sku = {line.sku: line for line in ordered}
    exceptions: list[str] = []
    for line in invoice:
        order_line = by_sku.get(line.sku)
        if order_line is None:
            exceptions.append(f"not_ordered:{line.sku}")
            continue
        if invoiced_before.get(line.sku, 0) + line.quantity > received.get(line.sku, 0):
            exceptions.append(f"over_received:{line.sku}")
        # at most the order's price plus the tolerance, in integers: p × 10,000 ≤ P × (10,000 + t)
        if line.unit_price_minor * 10_000 > order_line.unit_price_minor * (10_000 + tolerance_bp):
            exceptions.append(f"over_price:{line.sku}")
    return Match(total(invoice), tuple(exceptions))
