"""The webhook records the API answers with and the fan-out reads: endpoints and deliveries.

Kept apart from ``webhooks`` (the service) and ``webhook_fanout`` (the outbox consumer) so that
both can read the same rows without importing each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row


@dataclass(frozen=True, slots=True)
class Endpoint:
    endpoint_id: str
    tenant: str
    url: str
    event_types: list[str]
    status: str
    created_at_ns: int


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at_ns: int
    last_status_code: int | None
    last_error: str | None


def endpoint_from_row(r: Row[Any]) -> Endpoint:
    return Endpoint(
        r.endpoint_id, r.tenant, r.url, json.loads(r.event_types), r.status, r.created_at
    )


def delivery_from_row(r: Row[Any]) -> Delivery:
    return Delivery(
        r.delivery_id,
        r.endpoint_id,
        r.event_id,
        r.event_type,
        r.status,
        r.attempts,
        r.next_attempt_at,
        r.last_status_code,
        r.last_error,
    )
