"""Webhooks: endpoints per tenant, deliveries fed from the outbox, signed, retried, logged.

``WebhookFanOut`` (``webhook_fanout``, an outbox consumer; ``dispatch`` runs one batch of it)
turns each new event of a tenant into one delivery row per matching endpoint. ``deliver_due``
POSTs due deliveries, logs every attempt and reschedules failures with exponential backoff
(30 s, 1 min, 2 min … capped at 6 h) until ``max_attempts``; ``replay`` schedules a delivery
again by hand. Endpoint secrets are stored encrypted; during a rotation the old secret keeps
signing for a grace period. Endpoint URLs are checked against server-side request forgery at
creation and before every attempt (``webhook_targets``, ``webhook_transport``): deliver with
``client()``, which connects only to the addresses it checked.
"""

from __future__ import annotations

import json
import secrets
import socket
import time
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import Connection, Row, insert, select, update

from embedfin.api.ids import object_id
from embedfin.api.webhook_fanout import WebhookFanOut
from embedfin.api.webhook_records import (
    Delivery,
    Endpoint,
    delivery_from_row,
    endpoint_from_row,
)
from embedfin.api.webhook_targets import TargetPolicy, url_refusal
from embedfin.api.webhook_transport import (
    GuardedBackend,
    Resolver,
    delivery_refusal,
    guarded_client,
)
from embedfin.client import signing
from embedfin.consumers.runner import Runner
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.db.tables import (
    outbox_events,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)
from embedfin.ledger.service import Ledger
from embedfin.security.crypto import FieldCipher

BACKOFF_BASE_S = 30
BACKOFF_CAP_S = 6 * 3600
ROTATION_GRACE_S = 24 * 3600


def backoff_s(attempts: int) -> int:
    """Wait after the ``attempts``-th failed attempt."""
    return int(min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(attempts - 1, 0)))


class WebhookUrlRefused(InvalidInput):
    """The endpoint URL is not https, or names an address webhooks may not reach."""

    code = "webhook_url_refused"


class Webhooks:
    """Endpoints and deliveries; ``targets`` says where deliveries may go (https to public
    addresses unless it allows more), ``resolver`` is how host names are resolved."""

    def __init__(
        self,
        ledger: Ledger,
        cipher: FieldCipher,
        max_attempts: int = 12,
        runner: Runner | None = None,
        targets: TargetPolicy | None = None,
        resolver: Resolver = socket.getaddrinfo,
    ) -> None:
        self.targets = targets or TargetPolicy()
        self.resolver = resolver
        self.ledger = ledger
        self.engine = ledger.engine
        self.cipher = cipher
        self.clock = ledger.clock
        self.max_attempts = max_attempts
        self.fan_out = WebhookFanOut(self.clock)
        self.runner = runner or Runner(ledger)

    # --- endpoints (inside the caller's unit of work) ---------------------------------------
    def create_endpoint(
        self, conn: Connection, tenant: str, url: str, event_types: Sequence[str]
    ) -> tuple[Endpoint, str]:
        if not event_types:
            raise InvalidInput("choose at least one event type (or '*')")
        refused = url_refusal(url, self.targets)
        if refused is not None:
            raise WebhookUrlRefused(f"url: {refused}")
        endpoint_id = object_id("we")
        secret = "whsec_" + secrets.token_urlsafe(32)
        now = self.clock.now_ns()
        conn.execute(
            insert(webhook_endpoints).values(
                endpoint_id=endpoint_id,
                tenant=tenant,
                url=url,
                event_types=json.dumps(sorted(set(event_types))),
                secrets_enc=self._seal(endpoint_id, [{"secret": secret, "expires_at": None}]),
                status="enabled",
                created_at=now,
            )
        )
        return self.endpoint(conn, tenant, endpoint_id), secret

    def endpoint(self, conn: Connection, tenant: str, endpoint_id: str) -> Endpoint:
        row = conn.execute(
            select(webhook_endpoints).where(
                webhook_endpoints.c.tenant == tenant,
                webhook_endpoints.c.endpoint_id == endpoint_id,
            )
        ).first()
        if row is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return endpoint_from_row(row)

    def list_endpoints(
        self, conn: Connection, tenant: str, limit: int, starting_after: str | None
    ) -> tuple[list[Endpoint], bool]:
        t = webhook_endpoints
        query = select(t).where(t.c.tenant == tenant)
        if starting_after is not None:
            query = query.where(t.c.endpoint_id < starting_after)
        rows = conn.execute(query.order_by(t.c.endpoint_id.desc()).limit(limit + 1)).all()
        return [endpoint_from_row(r) for r in rows[:limit]], len(rows) > limit

    def rotate_secret(self, conn: Connection, tenant: str, endpoint_id: str) -> str:
        """A new signing secret; the current ones keep signing for 24 h."""
        self.endpoint(conn, tenant, endpoint_id)
        now = self.clock.now_ns()
        grace_end = now + ROTATION_GRACE_S * NS_PER_SECOND
        held = [
            {"secret": s["secret"], "expires_at": s["expires_at"] or grace_end}
            for s in self._secrets(conn, endpoint_id)
            if s["expires_at"] is None or s["expires_at"] > now
        ]
        secret = "whsec_" + secrets.token_urlsafe(32)
        conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.endpoint_id == endpoint_id)
            .values(
                secrets_enc=self._seal(endpoint_id, [{"secret": secret, "expires_at": None}, *held])
            )
        )
        return secret

    def set_status(self, conn: Connection, tenant: str, endpoint_id: str, status: str) -> Endpoint:
        self.endpoint(conn, tenant, endpoint_id)
        conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.endpoint_id == endpoint_id)
            .values(status=status)
        )
        return self.endpoint(conn, tenant, endpoint_id)

    def live_secrets(self, conn: Connection, endpoint_id: str) -> list[str]:
        now = self.clock.now_ns()
        return [
            s["secret"]
            for s in self._secrets(conn, endpoint_id)
            if s["expires_at"] is None or s["expires_at"] > now
        ]

    def _secrets(self, conn: Connection, endpoint_id: str) -> list[dict[str, Any]]:
        stored = conn.execute(
            select(webhook_endpoints.c.secrets_enc).where(
                webhook_endpoints.c.endpoint_id == endpoint_id
            )
        ).scalar_one()
        plain = self.cipher.decrypt(stored, secrets_context(endpoint_id))
        held: list[dict[str, Any]] = json.loads(plain)
        return held

    def _seal(self, endpoint_id: str, held: list[dict[str, Any]]) -> str:
        return self.cipher.encrypt(json.dumps(held), secrets_context(endpoint_id))

    # --- deliveries -----------------------------------------------------------------------------
    def deliveries(
        self,
        conn: Connection,
        tenant: str,
        endpoint_id: str,
        limit: int,
        starting_after: str | None,
    ) -> tuple[list[Delivery], bool]:
        self.endpoint(conn, tenant, endpoint_id)
        t = webhook_deliveries
        query = select(t).where(t.c.tenant == tenant, t.c.endpoint_id == endpoint_id)
        if starting_after is not None:
            query = query.where(t.c.delivery_id < starting_after)
        rows = conn.execute(query.order_by(t.c.delivery_id.desc()).limit(limit + 1)).all()
        return [delivery_from_row(r) for r in rows[:limit]], len(rows) > limit

    def replay(self, conn: Connection, tenant: str, delivery_id: str) -> Delivery:
        t = webhook_deliveries
        found = conn.execute(
            update(t)
            .where(t.c.tenant == tenant, t.c.delivery_id == delivery_id)
            .values(status="pending", next_attempt_at=self.clock.now_ns())
        )
        if found.rowcount == 0:
            raise NotFound(f"no webhook delivery {delivery_id}")
        row = conn.execute(select(t).where(t.c.delivery_id == delivery_id)).one()
        return delivery_from_row(row)

    def dispatch(self, limit: int = WebhookFanOut.batch_size) -> int:
        """Turn one batch of new outbox events into deliveries; returns how many deliveries
        were created."""
        return self.runner.run_batch(self.fan_out, limit).effects

    def client(self, timeout_s: float = 10.0) -> httpx.Client:
        """The client to deliver with: it connects only to addresses ``targets`` allows."""
        backend = GuardedBackend(lambda: self.targets, lambda: self.resolver)
        return guarded_client(backend, timeout_s)

    def deliver_due(self, client: httpx.Client, limit: int = 100) -> int:
        """POST every due delivery once (with ``client()``); returns how many were attempted."""
        t = webhook_deliveries
        now = self.clock.now_ns()
        with self.engine.connect() as conn:
            due = conn.execute(
                select(t)
                .where(t.c.status == "pending", t.c.next_attempt_at <= now)
                .order_by(t.c.next_attempt_at)
                .limit(limit)
            ).all()
        for row in due:
            self._attempt(client, delivery_from_row(row))
        return len(due)

    def _attempt(self, client: httpx.Client, delivery: Delivery) -> None:
        """One POST of one delivery, logged, and the delivery rescheduled or closed."""
        url, body, headers = self._signed_request(delivery)
        status_code, error, elapsed_ms = self._post(client, url, body, headers)
        self._record_attempt(delivery, status_code, error, elapsed_ms)

    def _signed_request(self, delivery: Delivery) -> tuple[str, bytes, dict[str, str]]:
        """The endpoint's URL, the event as the endpoint sees it, and headers signed with every
        live secret (during a rotation the old one signs too)."""
        with self.engine.connect() as conn:
            url = conn.execute(
                select(webhook_endpoints.c.url).where(
                    webhook_endpoints.c.endpoint_id == delivery.endpoint_id
                )
            ).scalar_one()
            keys = self.live_secrets(conn, delivery.endpoint_id)
            event = conn.execute(
                select(outbox_events).where(outbox_events.c.event_id == delivery.event_id)
            ).one()
        body = event_body(event)
        stamp = self.clock.now_ns() // NS_PER_SECOND
        headers = {
            "Content-Type": "application/json",
            signing.HEADER: signing.header_value(keys, stamp, body),
            "Embedfin-Delivery": delivery.delivery_id,
        }
        return url, body, headers

    def _post(
        self, client: httpx.Client, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None, int]:
        """(status code, error, milliseconds): the URL is checked again first, since what a
        host name resolves to can change after the endpoint was created."""
        started = time.perf_counter()
        status_code: int | None = None
        error = delivery_refusal(url, self.targets, self.resolver)
        try:
            if error is None:
                response = client.post(url, content=body, headers=headers)
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:500]
        return status_code, error, int((time.perf_counter() - started) * 1000)

    def _record_attempt(
        self, delivery: Delivery, status_code: int | None, error: str | None, elapsed_ms: int
    ) -> None:
        """Log the attempt; succeeded, failed after ``max_attempts``, or pending with backoff."""
        attempts = delivery.attempts + 1
        now = self.clock.now_ns()
        if error is None:
            status, next_at = "succeeded", now
        elif attempts >= self.max_attempts:
            status, next_at = "failed", now
        else:
            status, next_at = "pending", now + backoff_s(attempts) * NS_PER_SECOND
        with self.engine.begin() as conn:
            conn.execute(
                insert(webhook_attempts).values(
                    delivery_id=delivery.delivery_id,
                    attempt_no=attempts,
                    at=now,
                    status_code=status_code,
                    error=error,
                    duration_ms=elapsed_ms,
                )
            )
            conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.delivery_id == delivery.delivery_id)
                .values(
                    status=status,
                    attempts=attempts,
                    next_attempt_at=next_at,
                    last_status_code=status_code,
                    last_error=error,
                    updated_at=now,
                )
            )


def event_body(event: Row[Any]) -> bytes:
    """The JSON an endpoint receives for an outbox event (compact: the signature covers these
    exact bytes)."""
    return json.dumps(
        {
            "id": "evt_" + event.event_id,
            "object": "event",
            "type": event.type,
            "created": event.occurred_at // NS_PER_SECOND,
            "data": {
                "aggregate": event.aggregate,
                "aggregate_id": event.aggregate_id,
                **json.loads(event.payload),
            },
        },
        separators=(",", ":"),
    ).encode()


def secrets_context(endpoint_id: str) -> str:
    return f"webhook_endpoints.secrets:{endpoint_id}"
