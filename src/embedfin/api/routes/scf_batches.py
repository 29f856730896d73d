"""``POST /v1/scf/batches``: many certificate commands in one all-or-nothing unit of work.

Needs ``scf:write``. Each item is its single command (``/v1/scf/certificates/…``,
``/v1/scf/payables/{id}/settle``) under its own ``request_id``, kept per API key: a retry of an
item, in this batch or in another, returns what it did. A refused item refuses the whole batch
with nothing written: the problem's ``code`` is ``batch_item_refused``, its ``index`` the item's
position and ``item_code`` the item's own error (the status is the item's). More than
``MAX_ITEMS`` items: 422 ``batch_too_large``.
"""

from __future__ import annotations

from typing import Any

from embedfin.api.commands import ScfCommand
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import v1_router
from embedfin.api.routes.scf import _certificate_bodies, _payable_body
from embedfin.api.schemas.scf_batches import (
    BatchIn,
    BatchItemIn,
    BatchOut,
    IssueItemIn,
    SettleItemIn,
    SplitItemIn,
    TransferItemIn,
)
from embedfin.core.money import Money
from embedfin.ledger.service import BatchTooLarge
from embedfin.scf.batch import (
    MAX_ITEMS,
    BatchItem,
    DiscountItem,
    Done,
    IssueItem,
    SettleItem,
    SplitItem,
    TransferItem,
)

router = v1_router()


def _item(namespace: str, item: BatchItemIn) -> BatchItem:
    """The service's item, its request id and references kept in the API key's namespace."""
    rid = namespace + item.request_id

    def ref(value: str) -> str:
        return "@" + namespace + value[1:] if value.startswith("@") else value

    if isinstance(item, IssueItemIn):
        return IssueItem(rid, item.core, item.supplier, item.payable_ref,
                         Money(item.amount, item.currency), item.matures_on)  # fmt: skip
    if isinstance(item, SplitItemIn):
        return SplitItem(rid, ref(item.certificate), item.holder, item.parts)
    if isinstance(item, TransferItemIn):
        return TransferItem(rid, ref(item.certificate), item.holder, item.to, item.amount)
    if isinstance(item, SettleItemIn):
        return SettleItem(rid, ref(item.payable))
    return DiscountItem(rid, ref(item.certificate), item.holder, item.funder, item.amount)


def _done(namespace: str, done: Done) -> Body:
    return {"object": "scf_batch_item", "request_id": done.request_id.removeprefix(namespace),
            "kind": done.kind, "replayed": done.replayed,
            "certificates": _certificate_bodies(list(done.certificates)),
            "payable": None if done.payable is None else _payable_body(done.payable)}  # fmt: skip


@router.post("/scf/batches", status_code=201, response_model=BatchOut, tags=["scf"])
def run_batch(body: BatchIn, cmd: ScfCommand) -> Any:
    """Issue, split, transfer, discount and settle certificates, many at once, in order; each
    item may name what an earlier one makes (``@<request_id>/<n>``, ``@<request_id>``)."""
    if len(body.items) > MAX_ITEMS:
        raise BatchTooLarge(f"a batch has at most {MAX_ITEMS:,} items, not {len(body.items):,}")
    namespace = f"api:{cmd.principal.key_id}:"

    def effect() -> tuple[int, Body]:
        scf = cmd.platform.tenant(cmd.tenant).scf
        done = scf.batch([_item(namespace, item) for item in body.items])
        ids = [i.request_id for i in body.items]
        cmd.audit("scf.batch", "scf", {"items": len(done), "request_ids": ids})
        return 201, {"object": "scf_batch", "data": [_done(namespace, d) for d in done]}

    return cmd.run(body.model_dump(mode="json"), effect)
