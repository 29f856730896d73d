"""What the API runs on: the ledger, the services of each tenant, keys, limits, idempotency.

``Platform.command`` is how every POST changes anything: the effect, its audit entry and the
stored Idempotency-Key response commit in one unit of work (service commands called inside it
join it). Commands that must talk to a payment channel between their own commits (channel
payments) run with ``atomic=False``: the key becomes the command's request id, which the service
already de-duplicates, and the response is stored once the command has finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select, text

from embedfin.api.auth import KeyVerifier, Principal
from embedfin.api.group_commit import CheckoutBatcher
from embedfin.api.problems import IdempotencyInFlight, RateLimited, error_body
from embedfin.api.ratelimit import TokenBuckets
from embedfin.api.webhooks import Webhooks
from embedfin.bootstrap import build_consumers
from embedfin.commerce.aftersales import AfterSales
from embedfin.consumers.runner import Runner
from embedfin.core.clock import NS_PER_SECOND, Clock
from embedfin.core.errors import EmbedfinError, IdempotencyMismatch, InvalidInput
from embedfin.credit.service import CreditService, ensure_champion
from embedfin.db.tables import idempotency_keys
from embedfin.ledger.service import Ledger
from embedfin.lending.cards import CreditLines
from embedfin.lending.products import JURISDICTIONS, default_catalog
from embedfin.lending.servicing import Lending
from embedfin.payments.channel_checkout import ChannelPayments
from embedfin.payments.channels import default_channels
from embedfin.payments.cross_border import CrossBorderCheckout
from embedfin.payments.escrow import Checkout
from embedfin.payments.fx import Fx
from embedfin.payments.reconciliation import Reconciliation
from embedfin.payments.refunds import RefundsToOrigin
from embedfin.payments.routing import Router
from embedfin.payments.settlement_batches import MerchantSettlement
from embedfin.payments.wallets import Wallets
from embedfin.security import audit
from embedfin.security.crypto import FieldCipher, load_cipher

Body = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Production defaults; ``from_env`` reads ``EMBEDFIN_API_*`` overrides."""

    rate_per_s: float = 200.0
    burst: int = 400
    idempotency_retention_s: int = 48 * 3600
    webhook_max_attempts: int = 12
    worker_interval_s: float = 1.0
    run_worker: bool = True
    metrics_token: str | None = None
    jurisdiction: str = "CN"  # consumer-credit caps (lending/products.py JURISDICTIONS)
    funder_id: str = "platform"  # who funds loans made through the API
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> ApiSettings:
        env = os.environ
        return cls(
            rate_per_s=float(env.get("EMBEDFIN_API_RATE_PER_S", "200")),
            burst=int(env.get("EMBEDFIN_API_BURST", "400")),
            run_worker=env.get("EMBEDFIN_API_WORKER", "1") != "0",
            metrics_token=env.get("EMBEDFIN_METRICS_TOKEN") or None,
        )


class Platform:
    def __init__(
        self,
        ledger: Ledger,
        settings: ApiSettings | None = None,
        cipher: FieldCipher | None = None,
        router: Router | None = None,
    ) -> None:
        self.ledger = ledger
        self.engine = ledger.engine
        self.clock: Clock = ledger.clock
        self.settings = settings or ApiSettings()
        self.cipher = cipher or load_cipher()
        self.router = router or Router(default_channels())
        self.keys = KeyVerifier()
        self.buckets = TokenBuckets(self.settings.rate_per_s, self.settings.burst)
        #: Every outbox consumer of the platform, run by the worker (``Worker.run_once``).
        self.consumers = Runner(ledger, build_consumers(ledger))
        self.webhooks = Webhooks(
            ledger, self.cipher, self.settings.webhook_max_attempts, runner=self.consumers
        )
        self._services: dict[tuple[str, str], Any] = {}
        self.batcher = CheckoutBatcher(self)
        self._inflight: set[tuple[str, str]] = set()
        self._inflight_lock = threading.Lock()

    # --- services of a tenant -------------------------------------------------------------------
    def _service(self, kind: str, tenant: str, make: Callable[[], Any]) -> Any:
        key = (kind, tenant)
        found = self._services.get(key)
        if found is None:
            found = self._services[key] = make()
        return found

    def checkout(self, tenant: str) -> Checkout:
        made: Checkout = self._service("checkout", tenant, lambda: Checkout(self.ledger, tenant))
        return made

    def channel_payments(self, tenant: str) -> ChannelPayments:
        made: ChannelPayments = self._service(
            "channels", tenant, lambda: ChannelPayments(self.checkout(tenant), self.router)
        )
        return made

    def cross_border(self, tenant: str) -> CrossBorderCheckout:
        made: CrossBorderCheckout = self._service(
            "cross_border",
            tenant,
            lambda: CrossBorderCheckout(self.checkout(tenant), self.fx(tenant)),
        )
        return made

    @property
    def funder_id(self) -> str:
        return self.settings.funder_id

    def lending(self, tenant: str) -> Lending:
        def make() -> Lending:
            catalog = default_catalog(JURISDICTIONS[self.settings.jurisdiction])
            return Lending(self.checkout(tenant), catalog)

        made: Lending = self._service("lending", tenant, make)
        return made

    def credit(self, tenant: str) -> CreditService:
        def make() -> CreditService:
            self._ensure_model()
            return CreditService(self.lending(tenant), default_funder=self.funder_id)

        made: CreditService = self._service("credit", tenant, make)
        return made

    def credit_lines(self, tenant: str) -> CreditLines:
        made: CreditLines = self._service(
            "lines", tenant, lambda: CreditLines(self.lending(tenant))
        )
        return made

    def _ensure_model(self) -> None:
        ensure_champion(self.ledger)

    def aftersales(self, tenant: str) -> AfterSales:
        made: AfterSales = self._service(
            "aftersales",
            tenant,
            lambda: AfterSales(self.checkout(tenant), refund=self.refunds(tenant).refund),
        )
        return made

    def refunds(self, tenant: str) -> RefundsToOrigin:
        made: RefundsToOrigin = self._service(
            "refunds", tenant, lambda: RefundsToOrigin(self.channel_payments(tenant))
        )
        return made

    def wallets(self, tenant: str) -> Wallets:
        made: Wallets = self._service(
            "wallets", tenant, lambda: Wallets(self.ledger, tenant, cipher=self.cipher)
        )
        return made

    def settlement(self, tenant: str) -> MerchantSettlement:
        made: MerchantSettlement = self._service(
            "settlement", tenant, lambda: MerchantSettlement(self.ledger, tenant, self.cipher)
        )
        return made

    def fx(self, tenant: str) -> Fx:
        made: Fx = self._service("fx", tenant, lambda: Fx(self.ledger, tenant))
        return made

    def reconciliation(self, tenant: str) -> Reconciliation:
        made: Reconciliation = self._service(
            "recon", tenant, lambda: Reconciliation(self.ledger, tenant)
        )
        return made

    # --- requests ------------------------------------------------------------------------------
    def authenticate(self, secret: str) -> Principal:
        """Verify a key (reads the store on a cache miss) and charge its rate limit."""
        return self.charge(self.keys.verify(self.ledger.reader, secret))

    def charge(self, principal: Principal) -> Principal:
        wait = self.buckets.take(principal.key_id)
        if wait > 0:
            raise RateLimited(
                "rate limit exceeded for this API key", TokenBuckets.retry_after(wait)
            )
        return principal

    def read(self) -> Connection:
        return self.ledger.reader()

    def audit(
        self, principal: Principal, action: str, target: str, detail: Mapping[str, object]
    ) -> None:
        """Record a privileged action in the unit of work of the action itself."""
        with self.ledger.transaction() as tx:
            audit.record(
                tx.conn,
                tenant=principal.tenant,
                actor=principal.key_id,
                action=action,
                target=target,
                detail=detail,
                at_ns=self.clock.now_ns(),
            )

    def command(
        self,
        principal: Principal,
        idempotency_key: str | None,
        fingerprint: Body,
        effect: Callable[[], tuple[int, Body]],
        *,
        instance: str,
        atomic: bool = True,
    ) -> tuple[int, Body, bool]:
        """Run a POST once per Idempotency-Key; returns (status, body, replayed)."""
        if idempotency_key is None:
            if not atomic:
                return (*effect(), False)
            with self.ledger.transaction():
                return (*effect(), False)
        slot = (principal.key_id, idempotency_key)
        with self.claim(slot):
            digest = fingerprint_digest({"instance": instance, **fingerprint})
            return self._once(slot, digest, effect, instance, atomic)

    @contextmanager
    def claim(self, slot: tuple[str, str]) -> Iterator[None]:
        """Hold an Idempotency-Key for this request; a duplicate meanwhile gets 409."""
        check_idempotency_key(slot[1])
        with self._inflight_lock:
            if slot in self._inflight:
                raise IdempotencyInFlight("a request with this Idempotency-Key is in flight")
            self._inflight.add(slot)
        try:
            yield
        finally:
            with self._inflight_lock:
                self._inflight.discard(slot)

    def _once(
        self,
        slot: tuple[str, str],
        digest: str,
        effect: Callable[[], tuple[int, Body]],
        instance: str,
        atomic: bool,
    ) -> tuple[int, Body, bool]:
        if not atomic:
            with self.read() as conn:
                stored = _stored(conn, slot, digest)
            if stored is not None:
                return (*stored, True)
            try:
                status, body = effect()
            except EmbedfinError as error:
                self._remember_error(slot, digest, error, instance)
                raise
            with self.ledger.transaction() as tx:
                stored = _stored(tx.conn, slot, digest)
                if stored is not None:
                    return (*stored, True)
                self._store(tx.conn, slot, digest, status, body)
            return status, body, False
        try:
            with self.ledger.transaction() as tx:
                if not holds_key_lock(tx.conn, slot):
                    raise IdempotencyInFlight("a request with this Idempotency-Key is in flight")
                stored = _stored(tx.conn, slot, digest)
                if stored is not None:
                    return (*stored, True)
                status, body = effect()
                self._store(tx.conn, slot, digest, status, body)
                return status, body, False
        except EmbedfinError as error:
            self._remember_error(slot, digest, error, instance)
            raise

    def _remember_error(
        self, slot: tuple[str, str], digest: str, error: EmbedfinError, instance: str
    ) -> None:
        """A business refusal is the request's answer: a retry replays it (nothing changed)."""
        if isinstance(error, IdempotencyInFlight | IdempotencyMismatch | RateLimited):
            return
        status, body = error_body(error, instance)
        if status >= 500:
            return
        with self.ledger.transaction() as tx:
            if _stored(tx.conn, slot, digest) is None:
                self._store(tx.conn, slot, digest, status, body)

    def _store(
        self, conn: Connection, slot: tuple[str, str], digest: str, status: int, body: Body
    ) -> None:
        self.store_responses(conn, [(slot, digest, status, body)])

    def store_responses(
        self, conn: Connection, answers: Sequence[tuple[tuple[str, str], str, int, Body]]
    ) -> None:
        """Keep the answers to Idempotency-Keys (one statement for many)."""
        if not answers:
            return
        now = self.clock.now_ns()
        conn.execute(
            insert(idempotency_keys),
            [
                {
                    "api_key_id": slot[0],
                    "idempotency_key": slot[1],
                    "request_hash": digest,
                    "status_code": status,
                    "response_body": json.dumps(body, separators=(",", ":"), default=str),
                    "created_at": now,
                }
                for slot, digest, status, body in answers
            ],
        )

    def purge_idempotency_keys(self) -> int:
        cutoff = self.clock.now_ns() - self.settings.idempotency_retention_s * NS_PER_SECOND
        with self.ledger.transaction() as tx:
            gone = tx.conn.execute(
                delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)
            )
        return int(gone.rowcount or 0)


def holds_key_lock(conn: Connection, slot: tuple[str, str]) -> bool:
    """On PostgreSQL, take the key's transaction-scoped advisory lock if no other process holds
    it (several API processes may share the database); SQLite has one writer anyway."""
    if conn.dialect.name != "postgresql":
        return True
    lock = int.from_bytes(hashlib.sha256(repr(slot).encode()).digest()[:8], "big") - (1 << 63)
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock}).scalar())


def fingerprint_digest(fingerprint: Body) -> str:
    """What a retry must repeat exactly: a hash of the request's method, path and parameters."""
    canonical = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def stored_responses(
    conn: Connection, slots: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, int, Body]]:
    """Stored answers of many keys at once: (request hash, status, body) by key."""
    found: dict[tuple[str, str], tuple[str, int, Body]] = {}
    by_api_key: dict[str, list[str]] = {}
    for api_key, key in slots:
        by_api_key.setdefault(api_key, []).append(key)
    t = idempotency_keys
    for api_key, keys in by_api_key.items():
        for start in range(0, len(keys), 500):
            rows = conn.execute(
                select(t).where(
                    t.c.api_key_id == api_key, t.c.idempotency_key.in_(keys[start : start + 500])
                )
            ).all()
            for row in rows:
                found[(api_key, row.idempotency_key)] = (
                    row.request_hash,
                    row.status_code,
                    json.loads(row.response_body),
                )
    return found


def check_idempotency_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not key.isprintable() or not key.isascii():
        raise InvalidInput("Idempotency-Key must be 1-255 printable ASCII characters")


def _stored(conn: Connection, slot: tuple[str, str], digest: str) -> tuple[int, Body] | None:
    row = conn.execute(
        select(idempotency_keys).where(
            idempotency_keys.c.api_key_id == slot[0],
            idempotency_keys.c.idempotency_key == slot[1],
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyMismatch(
            "this Idempotency-Key was used with other parameters; use a new key"
        )
    body: Body = json.loads(row.response_body)
    return row.status_code, body
