"""The webhook fan-out: the outbox consumer that turns events into pending deliveries.

Run by the consumers' runner (``bootstrap.build_consumers``; ``Webhooks.dispatch`` runs one
batch of it): each new event of a tenant becomes one delivery row per matching endpoint that
existed when it happened, in the same transaction that advances the consumer's cursor (exactly
one delivery per endpoint and event). Sending the deliveries is ``webhooks.Webhooks``' work.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert, select

from embedfin.api.ids import object_id
from embedfin.api.webhook_records import endpoint_from_row
from embedfin.core.clock import Clock
from embedfin.core.events import StoredEvent
from embedfin.db.tables import webhook_deliveries, webhook_endpoints
from embedfin.ledger.service import LedgerTransaction

CONSUMER = "webhooks"


class WebhookFanOut:
    """The outbox consumer: each event of a tenant becomes one pending delivery per enabled
    endpoint of that tenant that wants its type and existed when it happened."""

    name = CONSUMER
    event_types: frozenset[str] | None = None
    batch_size = 1_000

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def idle(self, conn: Connection) -> bool:
        """Nobody listens: the events stay unread, and an endpoint created later skips them
        (it gets only what happened after it existed)."""
        enabled = conn.execute(
            select(webhook_endpoints.c.endpoint_id)
            .where(webhook_endpoints.c.status == "enabled")
            .limit(1)
        ).first()
        return enabled is None

    def handle(self, events: Sequence[StoredEvent], tx: LedgerTransaction) -> int:
        tenants = {e.event.tenant_id for e in events if e.event.tenant_id}
        if not tenants:
            return 0
        endpoints = [
            endpoint_from_row(r)
            for r in tx.conn.execute(
                select(webhook_endpoints).where(
                    webhook_endpoints.c.tenant.in_(sorted(tenants)),
                    webhook_endpoints.c.status == "enabled",
                )
            ).all()
        ]
        now = self.clock.now_ns()
        rows = []
        for stored in events:
            event = stored.event
            for ep in endpoints:
                if ep.tenant != event.tenant_id or event.occurred_at_ns < ep.created_at_ns:
                    continue  # another tenant's, or from before the endpoint existed
                if "*" not in ep.event_types and event.type not in ep.event_types:
                    continue
                rows.append(
                    {
                        "delivery_id": object_id("whd"),
                        "tenant": ep.tenant,
                        "endpoint_id": ep.endpoint_id,
                        "event_id": event.event_id,
                        "event_type": event.type,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        if rows:
            tx.conn.execute(insert(webhook_deliveries), rows)
        return len(rows)
