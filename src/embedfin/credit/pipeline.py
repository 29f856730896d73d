"""The credit feature pipeline: outbox events in, point-in-time buyer features out.

``FeatureConsumer`` (an outbox consumer, on the consumers' runner) turns each event credit uses
into a row of ``credit_feature_events``, in the transaction that advances its cursor: exactly
once, indexed by buyer. ``FeaturePipeline.online`` replays one buyer's rows up to a moment
through ``BuyerState``; ``batch`` computes every buyer of a tenant with the pandas
implementation. Decisions (``credit.service``) and training (``credit.training``) read features
only through this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from embedfin.consumers.runner import Runner
from embedfin.core.events import StoredEvent
from embedfin.credit.features import (
    FEATURE_EVENT_TYPES,
    BuyerFeatures,
    BuyerState,
    FeatureEvent,
    batch_features,
    from_event,
)
from embedfin.db.tables import credit_feature_events
from embedfin.ledger.service import Ledger, LedgerTransaction

CONSUMER = "credit-features"


class FeatureConsumer:
    """The outbox consumer behind ``FeaturePipeline``: each event credit uses becomes a row
    of ``credit_feature_events``."""

    name = CONSUMER
    event_types: frozenset[str] | None = FEATURE_EVENT_TYPES
    batch_size = 5_000

    def idle(self, conn: Connection) -> bool:
        return False

    def handle(self, events: Sequence[StoredEvent], tx: LedgerTransaction) -> int:
        rows = []
        for stored in events:
            e = stored.event
            mapped = from_event(e.type, e.payload, e.occurred_at_ns)
            if mapped is None or e.tenant_id is None:
                continue
            rows.append(
                {
                    "tenant": e.tenant_id,
                    "event_id": e.event_id,
                    "buyer_id": mapped.buyer_id,
                    "kind": mapped.kind,
                    "at_ns": mapped.at_ns,
                    "amount_minor": mapped.amount_minor,
                    "category": mapped.category[:32],
                    "on_time": int(mapped.on_time),
                }
            )
        if rows:
            tx.conn.execute(insert(credit_feature_events), rows)
        return len(rows)


class FeaturePipeline:
    def __init__(self, ledger: Ledger, runner: Runner | None = None) -> None:
        self.ledger = ledger
        self.consumer = FeatureConsumer()
        self.runner = runner or Runner(ledger)

    def consume(self, limit: int = FeatureConsumer.batch_size) -> int:
        """Move every new outbox event into the feature table, ``limit`` per unit of work;
        returns how many were kept.

        Decisions call this first; when nothing is new it only reads (no write transaction)."""
        return self.runner.run(self.consumer, batch_size=limit)

    def events(self, conn: Connection, tenant: str, as_of_ns: int) -> list[FeatureEvent]:
        """Every buyer's feature events up to a moment, in the order they happened."""
        t = credit_feature_events.c
        query = select(credit_feature_events).where(t.tenant == tenant, t.at_ns <= as_of_ns)
        rows = conn.execute(query.order_by(t.at_ns, t.event_id)).mappings()
        return [_feature_event(r) for r in rows]

    def online(self, tenant: str, buyer_id: str, as_of_ns: int) -> BuyerFeatures:
        """One buyer's features as of a moment, replayed from its events."""
        with self.ledger.current() as conn:
            return self.online_many(conn, tenant, [buyer_id], as_of_ns)[buyer_id]

    def online_many(
        self, conn: Connection, tenant: str, buyers: Sequence[str], as_of_ns: int
    ) -> dict[str, BuyerFeatures]:
        """``online`` for several buyers with one read: each replayed alone, the same figures."""
        t = credit_feature_events.c
        rows = conn.execute(
            select(credit_feature_events)
            .where(
                t.tenant == tenant,
                t.at_ns <= as_of_ns,
                t.buyer_id.in_(bindparam("buyers", expanding=True)),
            )
            .order_by(t.at_ns, t.event_id),
            {"buyers": list(buyers)},
        ).mappings()
        states = {buyer: BuyerState() for buyer in buyers}
        for r in rows:
            states[r["buyer_id"]].apply(_feature_event(r))
        return {buyer: state.features(as_of_ns) for buyer, state in states.items()}

    def batch(self, tenant: str, as_of_ns: int) -> dict[str, BuyerFeatures]:
        with self.ledger.current() as conn:
            return batch_features(self.events(conn, tenant, as_of_ns), as_of_ns)


def _feature_event(row: Any) -> FeatureEvent:
    return FeatureEvent(
        row["buyer_id"],
        row["kind"],
        row["at_ns"],
        row["amount_minor"],
        row["category"],
        bool(row["on_time"]),
    )
