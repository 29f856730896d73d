"""The FastAPI application: ``create_app(url)``; ``embedfin serve`` runs it under uvicorn.

A background worker thread (disabled with ``ApiSettings.run_worker=False``) runs every outbox
consumer (``embedfin.bootstrap.build_consumers``: credit features, invoices, the webhook
fan-out), delivers due webhooks, auto-confirms due orders, recovers channel payments and
refunds a crash left unfinished, purges expired Idempotency-Key responses and writes signed
checkpoints of the audit chain's head (at start, every
``ApiSettings.audit_checkpoint_interval_s``, at stop).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import select

from embedfin.api import docs, problems
from embedfin.api.body_limit import BodyLimit
from embedfin.api.failures import log_failure
from embedfin.api.observability import AccessLog, ErrorShield, Metrics
from embedfin.api.platform import ApiSettings, Platform
from embedfin.api.routes import router as v1_router
from embedfin.commerce.store import due_for_auto_confirm
from embedfin.core.clock import Clock
from embedfin.dashboard import app as dashboard
from embedfin.db.tables import merchants
from embedfin.ledger.service import Ledger
from embedfin.security.audit_checkpoints import (
    Checkpointer,
    checkpoint_entry,
    default_checkpoints_path,
)
from embedfin.transparency.service import PLATFORM

log = logging.getLogger("embedfin.api")
#: Batches of each consumer per worker pass: a large backlog is worked off over several passes
#: without holding up deliveries and auto-confirmation.
WORKER_BATCHES = 10
#: Passes between two recoveries of unfinished channel payments and refunds (the first pass
#: recovers too: what a crash left is finished when the server comes back).
RECOVERY_EVERY = 30

DESCRIPTION = """
Embedded finance for marketplaces: wallets, escrow checkout, payment channels, settlement,
FX, reconciliation, webhooks.

* Authenticate with `Authorization: Bearer <API key>`; each key has a role and scopes.
* Amounts are integer minor units with an ISO 4217 `currency`; timestamps are RFC 3339 UTC.
* Send an `Idempotency-Key` header on every POST (required: without one the answer is
  400 `idempotency_key_required`); a retry with the same key replays the first response.
* Errors are RFC 9457 problem details with a stable machine `code`.
* Lists take `limit` and `starting_after` and answer `has_more`.
"""


def create_app(
    platform: Platform | None = None,
    *,
    url: str | None = None,
    settings: ApiSettings | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    if platform is None:
        platform = Platform(Ledger.open(url, clock), settings or ApiSettings.from_env())
    worker = Worker(platform)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if platform.settings.run_worker:
            worker.start()
        try:
            yield
        finally:
            worker.stop()

    app = FastAPI(
        title="embedfin API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # served from local assets by api/docs.py
        redoc_url=None,
    )
    app.state.platform = platform
    app.state.worker = worker
    problems.install(app)
    docs.install(app)
    app.include_router(v1_router)
    dashboard.install(app)
    metrics = Metrics(platform.router, lag=platform.consumers.lag)
    app.add_middleware(BodyLimit)
    app.add_middleware(AccessLog, metrics=metrics)
    app.add_middleware(ErrorShield)  # outermost: the access log sees its request id

    @app.get("/metrics", include_in_schema=False)
    def prometheus(request: Request) -> Response:
        token = platform.settings.metrics_token
        if token and request.headers.get("authorization") != f"Bearer {token}":
            return PlainTextResponse("unauthorized", status_code=401)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        with platform.read() as conn:
            conn.execute(select(merchants.c.tenant).limit(1)).all()
        return {"status": "ok"}

    return app


class Worker:
    """The API's background duties, one pass every ``worker_interval_s``."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._passes = 0
        settings = platform.settings
        path = settings.audit_checkpoints or default_checkpoints_path(str(platform.engine.url))
        self.checkpoints = (
            None
            if path is None
            else Checkpointer(
                Path(path),
                settings.audit_checkpoint_interval_s,
                platform.read,
                platform.clock.now_ns,
                publish=lambda c: platform.tenant(PLATFORM).log.append_signed(
                    "audit", [checkpoint_entry(c)]
                ),
            )
        )

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="embedfin-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        self._checkpoint()
        with self.platform.webhooks.client() as client:
            while not self._stop.wait(self.platform.settings.worker_interval_s):
                try:
                    self.run_once(client)
                except Exception as error:  # the worker must outlive any one failure
                    log_failure(log, "worker pass failed", error)
        self._checkpoint()

    def _checkpoint(self) -> None:
        try:
            if self.checkpoints is not None and self.checkpoints.interval_s > 0:
                self.checkpoints.write()
        except Exception as error:  # a broken chain is reported, the worker goes on
            log_failure(log, "audit checkpoint failed", error)

    def run_once(self, client: httpx.Client) -> None:
        self.platform.consumers.run_all(max_batches=WORKER_BATCHES)
        self.platform.webhooks.deliver_due(client)
        with self.platform.read() as conn:
            due = due_for_auto_confirm(conn, self.platform.clock.now_ns(), 500)
        for tenant in sorted({t for t, _ in due}):
            self.platform.tenant(tenant).checkout.auto_confirm_due()
        if self._passes % RECOVERY_EVERY == 0:  # at start, then every so many passes
            recovered = self.platform.recover()
            if any(recovered.values()):
                log.info("recovered unfinished channel work: %s", recovered)
        self._passes += 1
        if self._passes % 60 == 1:
            self.platform.purge_idempotency_keys()
            self.platform.prune_risk_signals()
            self.platform.score_merchants_due()
        if self.checkpoints is not None:
            self.checkpoints.maybe_write()
