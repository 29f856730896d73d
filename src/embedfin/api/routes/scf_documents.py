"""``/v1/scf/purchase_orders/{id}/…`` documents and ``/v1/scf/documents/…``: what an order is
for, the goods received against it, the supplier's invoices three-way matched against both,
and a matched invoice certified as a receivable certificate (``scf/invoices.py``).

Commands need ``scf:write``; reads need ``read``, and a merchant's key sees only the documents
of orders it is the buyer or the supplier of.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import ScfCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import page, v1_router
from embedfin.api.routes.scf import _certificate_bodies, _visible_order
from embedfin.api.schemas.scf import CertificateOut
from embedfin.api.schemas.scf_inventory import (
    CertifyIn,
    DocumentLineOut,
    DocumentOut,
    InvoiceIn,
    OrderLinesIn,
    ReceiptIn,
)
from embedfin.scf.documents import DocLine
from embedfin.scf.invoices import Document

router = v1_router()
Reader = Annotated[Principal, Depends(require(Scope.READ))]


def _document_body(doc: Document) -> Body:
    return DocumentOut(
        id=doc.doc_id, purchase_order=doc.po_id, kind=doc.kind, ref=doc.ref,
        lines=[DocumentLineOut(sku=x.sku, quantity=x.quantity, unit_price=x.unit_price_minor)
               for x in doc.lines],
        amount=doc.amount_minor, status=doc.status, exceptions=list(doc.exceptions),
        tolerance_bp=doc.tolerance_bp, payable=doc.payable_id, on=doc.on_date,
    ).model_dump(mode="json")  # fmt: skip


def _document_command(cmd: Any, fingerprint: Body, run: Any, action: str) -> Any:
    def effect() -> tuple[int, Body]:
        made = run(cmd.platform.tenant(cmd.tenant).scf_documents, cmd.request_id())
        cmd.audit(action, made.doc_id, fingerprint)
        return 201, _document_body(made)

    return cmd.run(fingerprint, effect)


@router.post("/scf/purchase_orders/{po_id}/lines", status_code=201, response_model=DocumentOut,
             tags=["scf"])  # fmt: skip
def state_lines(po_id: str, body: OrderLinesIn, cmd: ScfCommand) -> Any:
    """What the order is for (once): lines summing to its amount, and the price tolerance."""
    lines = [DocLine(x.sku, x.quantity, x.unit_price) for x in body.lines]
    return _document_command(cmd, body.model_dump(),
                             lambda d, r: d.state_lines(r, po_id, lines, body.tolerance_bp),
                             "scf.po_lines")  # fmt: skip


@router.post("/scf/purchase_orders/{po_id}/goods_receipts", status_code=201,
             response_model=DocumentOut, tags=["scf"])  # fmt: skip
def receive_goods(po_id: str, body: ReceiptIn, cmd: ScfCommand) -> Any:
    """The buyer records goods received (partial receipts add up to at most what was ordered)."""
    lines = [DocLine(x.sku, x.quantity, 0) for x in body.lines]
    return _document_command(cmd, body.model_dump(), lambda d, r: d.receive(r, po_id, lines),
                             "scf.po_receipt")  # fmt: skip


@router.post("/scf/purchase_orders/{po_id}/invoices", status_code=201,
             response_model=DocumentOut, tags=["scf"])  # fmt: skip
def invoice(po_id: str, body: InvoiceIn, cmd: ScfCommand) -> Any:
    """The supplier's invoice, three-way matched at once: ``matched`` or ``exception``."""
    lines = [DocLine(x.sku, x.quantity, x.unit_price) for x in body.lines]
    return _document_command(cmd, body.model_dump(),
                             lambda d, r: d.invoice(r, po_id, body.invoice_ref, lines),
                             "scf.po_invoice")  # fmt: skip


@router.get("/scf/purchase_orders/{po_id}/documents", tags=["scf"])
def list_documents(po_id: str, platform: PlatformDep, principal: Reader) -> Any:
    services = platform.tenant(principal.tenant)
    _visible_order(principal, services.scf_orders.order(po_id))
    return page([_document_body(d) for d in services.scf_documents.documents(po_id)], False)


@router.get("/scf/documents/{doc_id}", response_model=DocumentOut, tags=["scf"])
def get_document(doc_id: str, platform: PlatformDep, principal: Reader) -> Any:
    services = platform.tenant(principal.tenant)
    found = services.scf_documents.document(doc_id)
    _visible_order(principal, services.scf_orders.order(found.po_id))
    return _document_body(found)


@router.post("/scf/documents/{doc_id}/certificate", status_code=201,
             response_model=CertificateOut, tags=["scf"])  # fmt: skip
def certify(doc_id: str, body: CertifyIn, cmd: ScfCommand) -> Any:
    """The buyer certifies a matched invoice: a certificate to the supplier for its amount."""

    def effect() -> tuple[int, Body]:
        made = cmd.platform.tenant(cmd.tenant).scf_documents.certify(
            cmd.request_id(), doc_id, body.matures_on
        )
        cmd.audit("scf.certify_invoice", doc_id, body.model_dump(mode="json"))
        return 201, _certificate_bodies([made])[0]

    return cmd.run(body.model_dump(mode="json"), effect)
