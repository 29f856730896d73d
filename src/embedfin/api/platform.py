"""What the API runs on: the ledger, the services of each tenant, keys, limits, idempotency.

``Platform.command`` is how every POST changes anything: the effect, its audit entry and the
stored Idempotency-Key response commit in one unit of work (service commands called inside it
join it). Commands that must talk to a payment channel between their own commits (channel
payments, refunds) run with ``atomic=False``: the key is first claimed in the database (so the
same key sent to several processes runs once; see ``api/idempotency.py``), the key becomes the
command's request id, which the service de-duplicates, and the answer is stored once the command
has finished.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection

from embedfin.api.auth import KeyVerifier, Principal
from embedfin.api.group_commit import CheckoutBatcher
from embedfin.api.idempotency import (
    Body,
    KeyInFlight,
    check_idempotency_key,
    claim,
    fingerprint_digest,
    finish,
    holds_key_lock,
    insert_responses,
    purge_responses,
    release,
    stored_response,
)
from embedfin.api.problems import IdempotencyInFlight, RateLimited, error_body
from embedfin.api.ratelimit import TokenBuckets
from embedfin.api.webhook_targets import TargetPolicy
from embedfin.api.webhooks import Webhooks
from embedfin.bootstrap import Services, TenantServices, build_consumers
from embedfin.consumers.runner import Runner
from embedfin.core.clock import NS_PER_SECOND, Clock
from embedfin.core.errors import (
    ConfigurationError,
    EmbedfinError,
    IdempotencyMismatch,
    RiskRefused,
)
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.checkout import unfinished_channel_work
from embedfin.payments.channels.processors import default_channels
from embedfin.payments.channels.routing import Router
from embedfin.payments.channels.sandbox import ENV_URL as ACQUIRER_ENV
from embedfin.payments.channels.sandbox import SandboxAcquirer
from embedfin.risk import merchants as merchant_risk
from embedfin.risk.config import RiskSettings
from embedfin.risk.counters import SqlCounters
from embedfin.risk.signals import RETENTION_NS
from embedfin.security import audit
from embedfin.security.crypto import FieldCipher, load_cipher


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Production defaults; ``from_env`` reads ``EMBEDFIN_API_*`` overrides."""

    rate_per_s: float = 200.0
    burst: int = 400
    idempotency_retention_s: int = 48 * 3600
    #: How long a claimed Idempotency-Key stays another process's before a retry may take it
    #: over (longer than any channel call with its retries).
    idempotency_lease_s: float = 120.0
    webhook_max_attempts: int = 12
    worker_interval_s: float = 1.0
    run_worker: bool = True
    metrics_token: str | None = None
    jurisdiction: str = "CN"  # consumer-credit caps (lending/products.py JURISDICTIONS)
    funder_id: str = "platform"  # who funds loans made through the API
    #: The sandbox acquirer's store (``payments/channels/sandbox.py``), shared by every worker;
    #: None: in-memory simulated processors (tests, one process).
    acquirer_url: str | None = None
    #: Attempts and channel refunds left unfinished for this long are recovered by the worker.
    recovery_after_s: float = 60.0
    #: Signed audit checkpoints (security/audit_checkpoints.py): file (None: beside the
    #: database) and period; the worker also writes one at start and stop. 0 turns them off.
    audit_checkpoints: str | None = None
    audit_checkpoint_interval_s: float = 300.0
    #: Development only: accept ``http://`` webhook URLs (``EMBEDFIN_WEBHOOK_ALLOW_HTTP=1``).
    webhook_allow_http: bool = False
    #: Development only: addresses / CIDR blocks webhooks may reach although they are not
    #: public (``EMBEDFIN_WEBHOOK_ALLOW=127.0.0.1,::1``); see ``api.webhook_targets``.
    webhook_allow: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> ApiSettings:
        env = os.environ
        return cls(
            rate_per_s=float(env.get("EMBEDFIN_API_RATE_PER_S", "200")),
            burst=int(env.get("EMBEDFIN_API_BURST", "400")),
            run_worker=env.get("EMBEDFIN_API_WORKER", "1") != "0",
            metrics_token=env.get("EMBEDFIN_METRICS_TOKEN") or None,
            idempotency_lease_s=float(env.get("EMBEDFIN_API_IDEMPOTENCY_LEASE_S", "120")),
            acquirer_url=env.get(ACQUIRER_ENV) or None,
            audit_checkpoints=env.get("EMBEDFIN_AUDIT_CHECKPOINTS") or None,
            audit_checkpoint_interval_s=float(env.get("EMBEDFIN_AUDIT_CHECKPOINT_S", "300")),
            webhook_allow_http=env.get("EMBEDFIN_WEBHOOK_ALLOW_HTTP", "0") == "1",
            webhook_allow=tuple(env.get("EMBEDFIN_WEBHOOK_ALLOW", "").split(",")),
        )

    def webhook_targets(self) -> TargetPolicy:
        try:
            return TargetPolicy.parse(self.webhook_allow_http, self.webhook_allow)
        except ValueError as bad:
            raise ConfigurationError(f"EMBEDFIN_WEBHOOK_ALLOW: {bad}") from None


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
        self.acquirer: SandboxAcquirer | None = None
        if router is None and self.settings.acquirer_url:
            self.acquirer = SandboxAcquirer(self.settings.acquirer_url)
            router = Router(self.acquirer.channels)
        self.router = router or Router(default_channels())
        self.keys = KeyVerifier()
        self.buckets = TokenBuckets(self.settings.rate_per_s, self.settings.burst)
        risk = RiskSettings.from_env()
        #: Every outbox consumer of the platform, run by the worker (``Worker.run_once``).
        self.consumers = Runner(ledger, build_consumers(ledger, risk))
        self.webhooks = Webhooks(
            ledger,
            self.cipher,
            self.settings.webhook_max_attempts,
            runner=self.consumers,
            targets=self.settings.webhook_targets(),
        )
        self.services = Services(
            ledger,
            router=self.router,
            cipher=self.cipher,
            jurisdiction=self.settings.jurisdiction,
            funder_id=self.settings.funder_id,
            risk=risk,
        )
        self.batcher = CheckoutBatcher(self)
        self._inflight: set[tuple[str, str]] = set()
        self._inflight_lock = threading.Lock()

    # --- services of a tenant -------------------------------------------------------------------
    def tenant(self, tenant: str) -> TenantServices:
        """The tenant's services, wired by the composition root (built once per tenant)."""
        return self.services.tenant(tenant)

    @property
    def funder_id(self) -> str:
        return self.settings.funder_id

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
            refused: RiskRefused | None = None
            with self.ledger.transaction():
                try:
                    return (*effect(), False)
                except RiskRefused as error:
                    refused = error  # its decision, challenge or case commit; nothing moved
            raise refused
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
            return self._claimed(slot, digest, effect, instance)
        refused: RiskRefused | None = None
        try:
            with self.ledger.transaction() as tx:
                if not holds_key_lock(tx.conn, slot):
                    raise IdempotencyInFlight("a request with this Idempotency-Key is in flight")
                stored = self._stored(tx.conn, slot, digest)
                if stored is not None:
                    return (*stored, True)
                try:
                    status, body = effect()
                except RiskRefused as error:
                    # A risk refusal moved no money; what it rests on (the decision, the
                    # challenge to answer, the case) commits with the key's stored answer.
                    refused = error
                    status, body = error_body(error, instance)
                self._store(tx.conn, slot, digest, status, body)
                if refused is None:
                    return status, body, False
        except EmbedfinError as error:
            self._remember_error(slot, digest, error, instance)
            raise
        raise refused

    def _claimed(
        self,
        slot: tuple[str, str],
        digest: str,
        effect: Callable[[], tuple[int, Body]],
        instance: str,
    ) -> tuple[int, Body, bool]:
        """Claim the key in the database, run the effect between its own commits, answer."""
        owner = secrets.token_hex(8)
        lease_ns = int(self.settings.idempotency_lease_s * NS_PER_SECOND)
        with self.ledger.transaction() as tx:
            try:
                stored = claim(tx.conn, slot, digest, owner, self.clock.now_ns(), lease_ns)
            except KeyInFlight:
                raise IdempotencyInFlight(
                    "a request with this Idempotency-Key is in flight"
                ) from None
        if stored is not None:
            return (*stored, True)
        try:
            status, body = effect()
        except BaseException as error:
            refusal = _refusal(error, instance)
            if refusal is None:  # not this key's answer: free the key for a retry
                with self.ledger.transaction() as tx:
                    release(tx.conn, slot, owner)
            else:
                self._settle_claim(slot, digest, owner, *refusal)
            raise
        return (*self._settle_claim(slot, digest, owner, status, body), False)

    def _settle_claim(
        self, slot: tuple[str, str], digest: str, owner: str, status: int, body: Body
    ) -> tuple[int, Body]:
        """Store a claimed key's answer (the one another request stored, if it took over)."""
        with self.ledger.transaction() as tx:
            if not finish(tx.conn, slot, owner, status, body):
                # the lease ran out and another request took the key over: its answer stands
                try:
                    stored = stored_response(tx.conn, slot, digest, self.clock.now_ns())
                except KeyInFlight:
                    stored = None
                if stored is not None:
                    return stored
        return status, body

    def _stored(
        self, conn: Connection, slot: tuple[str, str], digest: str
    ) -> tuple[int, Body] | None:
        try:
            return stored_response(conn, slot, digest, self.clock.now_ns())
        except KeyInFlight:
            raise IdempotencyInFlight("a request with this Idempotency-Key is in flight") from None

    def _remember_error(
        self, slot: tuple[str, str], digest: str, error: EmbedfinError, instance: str
    ) -> None:
        """A business refusal is the request's answer: a retry replays it (nothing changed)."""
        refusal = _refusal(error, instance)
        if refusal is None:
            return
        status, body = refusal
        with self.ledger.transaction() as tx:
            if self._stored(tx.conn, slot, digest) is None:
                self._store(tx.conn, slot, digest, status, body)

    def _store(
        self, conn: Connection, slot: tuple[str, str], digest: str, status: int, body: Body
    ) -> None:
        self.store_responses(conn, [(slot, digest, status, body)])

    def store_responses(
        self, conn: Connection, answers: Sequence[tuple[tuple[str, str], str, int, Body]]
    ) -> None:
        """Keep the answers to Idempotency-Keys (one statement for many)."""
        insert_responses(conn, answers, self.clock.now_ns())

    def recover(self) -> dict[str, int]:
        """Finish what a crash left half-done: channel payments still "charging" and channel
        refunds still "started" are settled from what the channel really did."""
        cutoff = self.clock.now_ns() - int(self.settings.recovery_after_s * NS_PER_SECOND)
        with self.read() as conn:
            tenants = unfinished_channel_work(conn, cutoff)
        totals: dict[str, int] = {}
        for tenant in tenants:
            services = self.tenant(tenant)
            found = services.channel_payments.recover(self.settings.recovery_after_s)
            found |= services.refunds.recover(self.settings.recovery_after_s)
            for name, n in found.items():
                totals[name] = totals.get(name, 0) + n
        return totals

    def prune_risk_signals(self) -> int:
        """Forget risk observations and links past their retention (personal data, 90 days)."""
        with self.ledger.transaction() as tx:
            return SqlCounters().prune(tx.conn, self.clock.now_ns() - RETENTION_NS)

    def score_merchants_due(self) -> int:
        """Score the merchants of every tenant not scored for a day (merchant risk's daily
        run); how many tenants were scored."""
        with self.read() as conn:
            due = merchant_risk.tenants_due(conn, self.clock.now_ns())
        for tenant in due:
            self.tenant(tenant).merchant_risk.score_all()
        return len(due)

    def purge_idempotency_keys(self) -> int:
        cutoff = self.clock.now_ns() - self.settings.idempotency_retention_s * NS_PER_SECOND
        with self.ledger.transaction() as tx:
            return purge_responses(tx.conn, cutoff)


def _refusal(error: BaseException, instance: str) -> tuple[int, Body] | None:
    """The stored answer an error gives its Idempotency-Key: a business refusal's problem; None
    for what is not the request's answer (in flight, reused key, rate limit, server errors)."""
    if not isinstance(error, EmbedfinError):
        return None
    if isinstance(error, IdempotencyInFlight | IdempotencyMismatch | RateLimited):
        return None
    status, body = error_body(error, instance)
    return None if status >= 500 else (status, body)
