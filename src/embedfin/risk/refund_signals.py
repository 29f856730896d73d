"""Refunds into the online signals (the outbox consumer ``risk-refund-signals``).

A serial refunder pays, receives the goods and claims the money back — "never arrived",
"not as described", a chargeback — again and again. The checks cannot see that from the
payments alone: the refunds happen later, in the payments context. This consumer reads the
``refunded`` events and records each as an observation of kind :data:`signals.REFUND_KIND` on
the buyer (amount, currency, the refund's reason as its method, settled), in the tenant's
counter store, so the buyer's next check reads ``buyer_refunds_7d`` and
``buyer_refunded_amount_7d``.

Idempotent: the observation id is the event's (``rf-<event id>``) and the store records it
once (``CounterStore.record_once``), so an event read again — a replay, a crash between Redis
and the checkpoint's commit — counts once. A refund is
recorded at the time it happened, so events read late (a consumer started on old history)
fall out of the 7-day window as they should.
"""

from __future__ import annotations

from collections.abc import Sequence

from embedfin.core.events import StoredEvent
from embedfin.ledger.service import LedgerTransaction
from embedfin.risk.counters import CounterStore
from embedfin.risk.feature_types import Entity
from embedfin.risk.signals import REFUND_KIND, Observation, Status

CONSUMER = "risk-refund-signals"
#: The refund reasons a method column holds (anything else is recorded as ``refund``).
REASONS = frozenset({"refund", "return", "dispute", "chargeback"})


def observation_of(stored: StoredEvent) -> Observation | None:
    """The buyer's refund observation a ``refunded`` event leaves, or ``None`` (a guest's
    order, no amount, a malformed payload)."""
    event = stored.event
    payload = event.payload
    buyer, amount, currency = (
        payload.get("buyer_id"),
        payload.get("amount_minor"),
        payload.get("currency"),
    )
    if not event.tenant_id or not isinstance(buyer, str) or not buyer or len(buyer) > 64:
        return None
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return None
    if not isinstance(currency, str) or len(currency) != 3:
        return None
    reason = payload.get("reason")
    at = event.occurred_at_ns
    return Observation(
        f"rf-{event.event_id}"[:64],
        event.tenant_id,
        at - at % 1_000,  # whole microseconds, as every observation
        REFUND_KIND,
        reason if isinstance(reason, str) and reason in REASONS else "refund",
        amount,
        currency,
        {Entity.BUYER: buyer},
        f"b:{buyer}",
        Status.SUCCEEDED,
    )


class RefundSignals:
    """Records every refund as an observation on its buyer."""

    name = CONSUMER
    event_types: frozenset[str] | None = frozenset({"refunded"})
    batch_size = 500

    def __init__(self, counters: CounterStore) -> None:
        self._counters = counters

    def idle(self, conn: object) -> bool:
        return False

    def handle(self, events: Sequence[StoredEvent], tx: LedgerTransaction) -> int:
        by_tenant: dict[str, list[Observation]] = {}
        for stored in events:
            obs = observation_of(stored)
            if obs is not None:
                by_tenant.setdefault(obs.tenant, []).append(obs)
        for batch in by_tenant.values():
            batch.sort(key=lambda o: o.at)
            self._counters.record_once(tx.conn, batch)
        return sum(len(batch) for batch in by_tenant.values())
