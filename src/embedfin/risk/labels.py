"""Training labels from what happened after a decision (the outbox consumer ``risk-labels``).

A checkout's decisions are labelled by the order's fate, read from other contexts' events:

* ``escrow_released`` — the buyer confirmed receipt (or the deadline passed without a dispute):
  ``good``, unless a label is already set;
* ``refunded`` with reason ``chargeback`` — the cardholder disputed with the bank: ``fraud``,
  over any earlier label (friendly fraud shows up after the release);
* a decided case labels its own decision (``risk/cases.py``).

The fraud model trains on these labels; the backtest counts them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update

from embedfin.core.events import StoredEvent
from embedfin.db.tables import risk_decisions
from embedfin.ledger.service import LedgerTransaction

CONSUMER = "risk-labels"
_D = risk_decisions.c


class LabelConsumer:
    """Labels checkout decisions good on release and fraud on a chargeback."""

    name = CONSUMER
    event_types: frozenset[str] | None = frozenset({"escrow_released", "refunded"})
    batch_size = 500

    def idle(self, conn: object) -> bool:
        return False

    def handle(self, events: Sequence[StoredEvent], tx: LedgerTransaction) -> int:
        good: dict[str, list[str]] = {}
        fraud: dict[str, list[str]] = {}
        for stored in events:
            event = stored.event
            tenant = event.tenant_id or ""
            if event.type == "escrow_released":
                good.setdefault(tenant, []).append(event.aggregate_id)
            elif event.payload.get("reason") == "chargeback":
                fraud.setdefault(tenant, []).append(event.aggregate_id)
        changed = 0
        for tenant, orders in good.items():
            changed += _label(tx, tenant, orders, "good", only_unknown=True)
        for tenant, orders in fraud.items():
            changed += _label(tx, tenant, orders, "fraud", only_unknown=False)
        return changed


def _label(
    tx: LedgerTransaction, tenant: str, orders: list[str], label: str, *, only_unknown: bool
) -> int:
    query = update(risk_decisions).where(
        _D.tenant == tenant, _D.kind == "checkout", _D.reference.in_(sorted(set(orders)))
    )
    if only_unknown:
        query = query.where(_D.label == "unknown")
    return int(tx.conn.execute(query.values(label=label)).rowcount)
