"""Purchase-order documents: the order's lines, goods receipts and supplier invoices, and the
three-way match that turns a matched invoice into a confirmed payable — a receivable
certificate (``documents.py`` has the rules).

===========  =================================================================================
command      what changes
===========  =================================================================================
lines        the buyer states what the order is for: SKUs, quantities, unit prices (summing to
             the order's amount) and the price tolerance its invoices are matched with; once
receive      the buyer records goods received against the order's lines (partial receipts
             add up, never beyond what was ordered); the order is ``received``
invoice      the supplier's invoice, matched at once against the order and what was received
             and invoiced before: ``matched``, or ``exception`` with the reasons
certify      a matched invoice becomes a certificate the buyer issues to the supplier for the
             invoice's amount (``Certificates.issue``, in the same unit of work); once
===========  =================================================================================

Each command is one unit of work, idempotent by request id, and appended to the tenant's ``scf``
log like the orders' events. Money moves only when the certificate is discounted or settled.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from embedfin.core.errors import InvalidInput, InvalidStateTransition, NotFound
from embedfin.core.money import Money
from embedfin.db.tables import scf_documents
from embedfin.ledger.service import LedgerTransaction
from embedfin.payments.requests import check_name, check_request_id
from embedfin.scf.documents import (
    DocLine,
    check_lines,
    check_receipt,
    check_tolerance,
    match,
    total,
)
from embedfin.scf.ids import fingerprint_of, new_id
from embedfin.scf.orders import OrderFinancing, OrderStatus, PurchaseOrder
from embedfin.scf.store import Certificate, require

_D = scf_documents.c
_KINDS = ("lines", "receipt", "invoice")


@dataclass(frozen=True, slots=True)
class Document:
    doc_id: str
    po_id: str
    kind: str  # lines, receipt, invoice
    ref: str
    lines: tuple[DocLine, ...]
    amount_minor: int
    status: str  # recorded; an invoice: matched, exception, certified
    exceptions: tuple[str, ...]
    on_date: date
    tolerance_bp: int | None = None
    payable_id: str | None = None


class OrderDocuments:
    """A tenant's purchase-order documents."""

    def __init__(self, orders: OrderFinancing) -> None:
        self.orders = orders
        self.certificates = orders.certificates
        self.ledger = orders.ledger
        self.tenant = orders.tenant
        self.clock = orders.clock

    # --- commands ----------------------------------------------------------------------------
    def state_lines(
        self, request_id: str, po_id: str, lines: Sequence[DocLine], tolerance_bp: int = 0
    ) -> Document:
        """What the order is for (once): its lines sum to the order's amount."""
        check_request_id(request_id)
        checked = check_lines(lines)
        check_tolerance(tolerance_bp)
        fingerprint = fingerprint_of("po_lines", po_id, _json(checked), tolerance_bp)
        with self.ledger.transaction() as tx:
            order = self.orders.locked(tx, po_id)
            doc_id = new_id("doc", self.tenant, request_id, 0)
            if self.certificates.store.replay(tx.conn, request_id, fingerprint) is not None:
                return self._document(tx.conn, doc_id)
            if total(checked) != order.amount_minor:
                raise InvalidInput(f"the lines sum to {total(checked)}, the order is for"
                                   f" {order.amount_minor}")  # fmt: skip
            made = Document(doc_id, po_id, "lines", "lines", checked, order.amount_minor,
                            "recorded", (), self.certificates.today(), tolerance_bp)  # fmt: skip
            self._insert(tx, made, f"order {po_id} has its lines already")
            self._record(tx, "po_lines", request_id, fingerprint, order, made)
        return made

    def receive(self, request_id: str, po_id: str, lines: Sequence[DocLine]) -> Document:
        """A goods receipt: quantities of the order's SKUs received (prices are the order's)."""
        check_request_id(request_id)
        checked = check_lines([DocLine(x.sku, x.quantity, 0) for x in _doc_lines(lines)], False)
        fingerprint = fingerprint_of("po_receipt", po_id, _json(checked))
        with self.ledger.transaction() as tx:
            order = self.orders.locked(tx, po_id)
            doc_id = new_id("doc", self.tenant, request_id, 0)
            if self.certificates.store.replay(tx.conn, request_id, fingerprint) is not None:
                return self._document(tx.conn, doc_id)
            if order.status is OrderStatus.PAID:
                raise InvalidStateTransition(f"order {po_id} is paid")
            ordered = self._lines_of(tx.conn, po_id)
            check_receipt(ordered.lines, self._quantities(tx.conn, po_id, "receipt"), checked)
            by_sku = {line.sku: line for line in ordered.lines}
            priced = tuple(DocLine(x.sku, x.quantity, by_sku[x.sku].unit_price_minor)
                           for x in checked)  # fmt: skip
            made = Document(doc_id, po_id, "receipt", doc_id, priced, total(priced), "recorded",
                            (), self.certificates.today())  # fmt: skip
            self._insert(tx, made, "a receipt with this id exists")
            if order.status is OrderStatus.CONFIRMED:
                self.orders.save(tx.conn, replace(order, status=OrderStatus.RECEIVED,
                                                  received_on=made.on_date))  # fmt: skip
            self._record(tx, "po_receipt", request_id, fingerprint, order, made)
        return made

    def invoice(
        self, request_id: str, po_id: str, invoice_ref: str, lines: Sequence[DocLine]
    ) -> Document:
        """The supplier's invoice, three-way matched at once (see the module)."""
        check_request_id(request_id)
        check_name("invoice_ref", invoice_ref)
        checked = check_lines(lines)
        fingerprint = fingerprint_of("po_invoice", po_id, invoice_ref, _json(checked))
        with self.ledger.transaction() as tx:
            order = self.orders.locked(tx, po_id)
            doc_id = new_id("doc", self.tenant, request_id, 0)
            if self.certificates.store.replay(tx.conn, request_id, fingerprint) is not None:
                return self._document(tx.conn, doc_id)
            ordered = self._lines_of(tx.conn, po_id)
            found = match(ordered.lines, self._quantities(tx.conn, po_id, "receipt"),
                          self._quantities(tx.conn, po_id, "invoice", matched_only=True),
                          checked, ordered.tolerance_bp or 0)  # fmt: skip
            status = "matched" if found.matched else "exception"
            made = Document(doc_id, po_id, "invoice", invoice_ref, checked, found.amount_minor,
                            status, found.exceptions, self.certificates.today())  # fmt: skip
            self._insert(tx, made, f"invoice {invoice_ref} of order {po_id} exists")
            self._record(tx, "po_invoice", request_id, fingerprint, order, made)
        return made

    def certify(self, request_id: str, doc_id: str, matures_on: date) -> Certificate:
        """The buyer certifies a matched invoice: a certificate to the supplier for its amount,
        maturing on ``matures_on`` (the certificates' term rules apply)."""
        check_request_id(request_id)
        check_name("doc_id", doc_id)
        with self.ledger.transaction() as tx:
            invoice = self._locked(tx.conn, doc_id)
            if invoice.kind != "invoice":
                raise NotFound(f"no invoice {doc_id}")
            order = self.orders.locked(tx, invoice.po_id)
            if invoice.status == "exception":
                raise InvalidStateTransition(f"invoice {doc_id} did not match its order:"
                                             f" {', '.join(invoice.exceptions)}")  # fmt: skip
            made = self.certificates.issue(
                request_id, order.buyer_id, order.supplier_id, f"{order.po_ref}/{invoice.ref}"[:64],
                Money(invoice.amount_minor, order.currency), matures_on,
            )  # fmt: skip
            if invoice.payable_id not in (None, made.payable_id):
                raise InvalidStateTransition(f"invoice {doc_id} is certified already")
            tx.conn.execute(update(scf_documents).values(status="certified",
                            payable_id=made.payable_id).where(*self._key(doc_id)))  # fmt: skip
        return made

    # --- queries -----------------------------------------------------------------------------
    def document(self, doc_id: str) -> Document:
        with self.ledger.current() as conn:
            return self._document(conn, check_name("doc_id", doc_id))

    def documents(self, po_id: str) -> list[Document]:
        with self.ledger.current() as conn:
            self.orders.order(po_id)
            rows = conn.execute(select(scf_documents).where(_D.tenant == self.tenant,
                                _D.po_id == po_id).order_by(_D.created_at, _D.doc_id))  # fmt: skip
            found = [_document(row) for row in rows.mappings()]
        return sorted(found, key=lambda d: _KINDS.index(d.kind))  # lines, receipts, invoices

    # --- rows --------------------------------------------------------------------------------
    def _lines_of(self, conn: Connection, po_id: str) -> Document:
        which = (_D.tenant == self.tenant, _D.po_id == po_id, _D.kind == "lines")
        row = conn.execute(select(scf_documents).where(*which)).mappings().first()
        if row is None:
            raise InvalidStateTransition(f"order {po_id} has no lines yet: the buyer states them"
                                         " before goods are received or invoiced")  # fmt: skip
        return _document(row)

    def _quantities(
        self, conn: Connection, po_id: str, kind: str, *, matched_only: bool = False
    ) -> Counter[str]:
        query = select(_D.lines).where(_D.tenant == self.tenant, _D.po_id == po_id,
                                       _D.kind == kind)  # fmt: skip
        if matched_only:
            query = query.where(_D.status.in_(("matched", "certified")))
        counts: Counter[str] = Counter()
        for (lines,) in conn.execute(query):
            for line in json.loads(lines):
                counts[line["sku"]] += int(line["quantity"])
        return counts

    def _insert(self, tx: LedgerTransaction, made: Document, taken: str) -> None:
        exists = tx.conn.execute(select(_D.doc_id).where(
            _D.tenant == self.tenant, _D.po_id == made.po_id, _D.kind == made.kind,
            _D.ref == made.ref)).first()  # fmt: skip
        if exists is not None:
            raise InvalidStateTransition(taken)
        tx.conn.execute(insert(scf_documents).values(
            tenant=self.tenant, doc_id=made.doc_id, po_id=made.po_id, kind=made.kind,
            ref=made.ref, lines=_json(made.lines), amount_minor=made.amount_minor,
            tolerance_bp=made.tolerance_bp, status=made.status,
            exceptions=json.dumps(list(made.exceptions)), payable_id=None,
            on_date=made.on_date.isoformat(), created_at=self.clock.now_ns()))  # fmt: skip

    def _record(
        self,
        tx: LedgerTransaction,
        kind: str,
        request_id: str,
        fingerprint: str,
        order: PurchaseOrder,
        made: Document,
    ) -> None:
        fields: dict[str, Any] = {
            "order": {"id": order.po_id, "buyer": order.buyer_id, "supplier": order.supplier_id,
                      "currency": order.currency, "amount_minor": order.amount_minor},
            "document": {"id": made.doc_id, "kind": made.kind, "ref": made.ref,
                         "amount_minor": made.amount_minor, "status": made.status,
                         "exceptions": list(made.exceptions),
                         "lines": [asdict(line) for line in made.lines]},
        }  # fmt: skip
        self.certificates.record(tx, f"scf_{kind}", kind, request_id, fingerprint,
                                 ("scf_order", order.po_id), made.doc_id, fields,
                                 order.currency)  # fmt: skip

    def _key(self, doc_id: str) -> tuple[Any, ...]:
        return (_D.tenant == self.tenant, _D.doc_id == doc_id)

    def _locked(self, conn: Connection, doc_id: str) -> Document:
        row = conn.execute(select(scf_documents).where(*self._key(doc_id)).with_for_update())
        return _document(require(row.mappings().first(), f"document {doc_id}"))

    def _document(self, conn: Connection, doc_id: str) -> Document:
        row = conn.execute(select(scf_documents).where(*self._key(doc_id)))
        return _document(require(row.mappings().first(), f"document {doc_id}"))


def _doc_lines(lines: object) -> list[DocLine]:
    if not isinstance(lines, list | tuple) or not all(isinstance(x, DocLine) for x in lines):
        raise InvalidInput("lines is a list of document lines")
    return list(lines)


def _json(lines: Sequence[DocLine]) -> str:
    return json.dumps([asdict(line) for line in lines], separators=(",", ":"))


def _document(row: RowMapping) -> Document:
    return Document(
        row["doc_id"], row["po_id"], row["kind"], row["ref"],
        tuple(DocLine(**line) for line in json.loads(row["lines"])), int(row["amount_minor"]),
        row["status"], tuple(json.loads(row["exceptions"])), date.fromisoformat(row["on_date"]),
        row["tolerance_bp"], row["payable_id"],
    )  # fmt: skip
