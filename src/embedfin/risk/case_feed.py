"""Disputes and returns into the one case queue (the outbox consumer ``risk-case-feed``).

* ``dispute_opened`` and ``return_requested`` open a ``dispute`` or ``return`` case on the order
  (its amount, buyer and merchant; a dispute's SLA is three days, a return's seven, the return
  window's length);
* ``dispute_resolved``, ``return_received`` and ``return_rejected`` — the dispute or return
  settled on its own route (the API, the merchant's page) — close the order's undecided case as
  ``settled``; a case decided in the queue settles it itself and is left alone.

The case id derives from the opening event, so a redelivered event opens nothing twice and a
second dispute on the same order later opens a new case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from embedfin.commerce.store import load_order
from embedfin.core.events import StoredEvent
from embedfin.ledger.service import LedgerTransaction
from embedfin.risk.cases import HOUR_NS, Cases

CONSUMER = "risk-case-feed"
_OPENS = {
    "dispute_opened": ("dispute", 72 * HOUR_NS),
    "return_requested": ("return", 168 * HOUR_NS),
}
_CLOSES = {
    "dispute_resolved": "dispute",
    "return_received": "return",
    "return_rejected": "return",
}


def case_id_for(event_id: str) -> str:
    return "case_" + hashlib.blake2b(event_id.encode(), digest_size=12).hexdigest()


class CaseFeed:
    """Opens and closes the queue's dispute and return cases from after-sales events."""

    name = CONSUMER
    event_types: frozenset[str] | None = frozenset(_OPENS) | frozenset(_CLOSES)
    batch_size = 200

    def __init__(self, cases_of: Callable[[str], Cases]) -> None:
        self._cases_of = cases_of

    def idle(self, conn: object) -> bool:
        return False

    def handle(self, events: Sequence[StoredEvent], tx: LedgerTransaction) -> int:
        changed = 0
        for stored in events:
            event = stored.event
            if not event.tenant_id:
                continue
            cases = self._cases_of(event.tenant_id)
            order_id = event.aggregate_id
            if event.type in _OPENS:
                kind, sla = _OPENS[event.type]
                order = load_order(tx.conn, event.tenant_id, order_id)
                if order is None:
                    continue
                reason = str(event.payload.get("reason", ""))[:200]
                cases.open(
                    tx,
                    kind=kind,
                    case_id=case_id_for(event.event_id),
                    summary=f"{kind} on order {order_id}: {reason}"[:500],
                    amount_minor=order.paid_minor - order.refunded_minor,
                    currency=order.currency,
                    order_id=order_id,
                    buyer_id=order.buyer_id,
                    merchant_id=order.merchant_id,
                    sla_ns=sla,
                )
                changed += 1
            else:
                outcome = str(event.payload.get("outcome", event.type.removeprefix("return_")))
                changed += cases.close_settled(tx, _CLOSES[event.type], order_id, outcome)
        return changed
