"""The streaming monitor (the outbox consumer ``aml-monitor``): every movement of money into the
journal, the same-day totals and the streaming typologies, in the order it happened
(``monitor.Monitoring.record``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from embedfin.compliance.aml.journal import EVENT_TYPES, Movement, movement_of
from embedfin.compliance.aml.monitor import Monitoring
from embedfin.core.events import StoredEvent
from embedfin.ledger.service import LedgerTransaction

CONSUMER = "aml-monitor"


class MonitorConsumer:
    name = CONSUMER
    event_types: frozenset[str] | None = EVENT_TYPES
    #: a batch costs a handful of statements whatever its size: larger batches amortise them
    #: (5,000 movements are about 0.2 s of one unit of work: on SQLite, that long a write lock)
    batch_size = 5_000

    def __init__(self, monitoring_of: Callable[[str], Monitoring]) -> None:
        self._monitoring_of = monitoring_of

    def idle(self, conn: object) -> bool:
        return False

    def handle(self, events: Sequence[StoredEvent], tx: LedgerTransaction) -> int:
        by_tenant: dict[str, list[Movement]] = {}
        for stored in events:
            movement = movement_of(stored)
            if movement is not None and stored.event.tenant_id:
                by_tenant.setdefault(stored.event.tenant_id, []).append(movement)
        return sum(
            self._monitoring_of(tenant).record(tx, movements)
            for tenant, movements in sorted(by_tenant.items())
        )
