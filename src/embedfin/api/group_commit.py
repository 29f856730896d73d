"""Group commit for wallet checkouts: concurrent requests share one unit of work.

Each ``POST /v1/checkouts`` paid from the wallet is queued; one writer thread takes everything
queued (up to ``max_batch``), and for each tenant places and pays all those orders with the bulk
service commands in a single transaction — one ledger batch per step and one commit (one fsync)
for the lot. Each request still gets its own answer, exactly as if it had run alone:

* its Idempotency-Key is looked up and its response stored in that same transaction;
* a request that fails (unknown customer, insufficient funds, …) changes nothing: the batch runs
  inside a savepoint, and when any order fails the savepoint is rolled back, the failed requests
  are answered with their errors, and the rest run again without them. Orders fail in the same
  order a serial run would fail them (the bulk commands decide orders in sequence).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection

from embedfin.api.auth import Principal
from embedfin.api.failures import log_failure
from embedfin.api.idempotency import (
    Body,
    KeyInFlight,
    holds_key_lock,
    stored_answer,
    stored_responses,
)
from embedfin.api.problems import IdempotencyInFlight, error_body
from embedfin.api.schemas.orders import CheckoutCreate, OrderOut
from embedfin.bootstrap import TenantServices
from embedfin.commerce.customers import known_customers
from embedfin.commerce.orders import OrderLine
from embedfin.core.errors import EmbedfinError, IdempotencyMismatch, NotFound, RiskRefused
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.escrow.bulk import OrderSpec
from embedfin.risk.decision import RiskContext

log = logging.getLogger("embedfin.api")

Answer = tuple[int, Body, bool]


class BatchHost(Protocol):
    """What the batcher needs of the platform: its ledger, a tenant's services and the
    Idempotency-Key store (a protocol, so this module does not import ``api.platform``)."""

    @property
    def ledger(self) -> Ledger: ...

    def tenant(self, tenant: str) -> TenantServices: ...

    def store_responses(
        self, conn: Connection, answers: Sequence[tuple[tuple[str, str], str, int, Body]]
    ) -> None: ...


@dataclass
class CheckoutJob:
    principal: Principal
    slot: tuple[str, str] | None
    digest: str
    body: CheckoutCreate
    order_id: str
    future: Future[Answer] = field(default_factory=Future)


class CheckoutBatcher:
    def __init__(self, platform: BatchHost, max_batch: int = 512) -> None:
        self.platform = platform
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[CheckoutJob] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, job: CheckoutJob) -> Future[Answer]:
        """Queue a checkout; the future holds its answer (or its typed error)."""
        self._ensure_thread()
        self._queue.put(job)
        return job.future

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="embedfin-checkout-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            by_tenant: dict[str, list[CheckoutJob]] = defaultdict(list)
            for job in batch:
                by_tenant[job.principal.tenant].append(job)
            for jobs in by_tenant.values():
                try:
                    self.run_batch(jobs)
                except Exception as error:  # the unit of work failed as a whole
                    log_failure(log, "checkout batch failed", error)
                    for job in jobs:
                        if not job.future.done():
                            job.future.set_exception(error)

    def run_batch(self, jobs: list[CheckoutJob]) -> None:
        """Place and pay every job's order in one unit of work; answer each job."""
        platform = self.platform
        answers: dict[int, Answer | EmbedfinError] = {}
        with platform.ledger.transaction() as tx:
            live = self._replays(tx, jobs, answers)
            live = self._known_customers(tx, live, answers)
            while live:
                failed = self._attempt(tx, live, answers)
                if not failed:
                    break
                live = [job for job in live if id(job) not in failed]
            stored = []
            for job in jobs:
                answer = answers[id(job)]
                if job.slot is None or (isinstance(answer, tuple) and answer[2]):
                    continue
                if isinstance(answer, IdempotencyInFlight | IdempotencyMismatch):
                    continue  # the key's first answer stays the stored one
                if isinstance(answer, EmbedfinError):
                    status, body = error_body(answer, "/v1/checkouts")
                    if status >= 500:
                        continue
                    stored.append((job.slot, job.digest, status, body))
                else:
                    stored.append((job.slot, job.digest, answer[0], answer[1]))
            platform.store_responses(tx.conn, stored)
        for job in jobs:
            answer = answers[id(job)]
            if isinstance(answer, EmbedfinError):
                job.future.set_exception(answer)
            else:
                job.future.set_result(answer)

    def _replays(
        self,
        tx: LedgerTransaction,
        jobs: list[CheckoutJob],
        answers: dict[int, Answer | EmbedfinError],
    ) -> list[CheckoutJob]:
        # Take every key's lock *before* reading the stored answers: read first, and another
        # worker could commit its answer between the read and the lock, and this batch would
        # run the key a second time (a unique violation: the whole batch a 500).
        locked = []
        for job in jobs:
            if job.slot is not None and not holds_key_lock(tx.conn, job.slot):
                answers[id(job)] = IdempotencyInFlight("this Idempotency-Key is in flight")
            else:
                locked.append(job)
        found = stored_responses(tx.conn, [job.slot for job in locked if job.slot is not None])
        now = self.platform.ledger.clock.now_ns()
        live = []
        for job in locked:
            if job.slot is None:
                live.append(job)
                continue
            row = found.get(job.slot)
            try:
                stored = (
                    None if row is None else stored_answer(tx.conn, job.slot, row, job.digest, now)
                )
            except KeyInFlight:
                answers[id(job)] = IdempotencyInFlight("this Idempotency-Key is in flight")
                continue
            except IdempotencyMismatch as error:
                answers[id(job)] = error
                continue
            if stored is None:
                live.append(job)
            else:
                answers[id(job)] = (stored[0], stored[1], True)
        return live

    def _known_customers(
        self,
        tx: LedgerTransaction,
        jobs: list[CheckoutJob],
        answers: dict[int, Answer | EmbedfinError],
    ) -> list[CheckoutJob]:
        if not jobs:
            return jobs
        tenant = jobs[0].principal.tenant
        wanted = sorted({job.body.customer for job in jobs})
        known = known_customers(tx.conn, tenant, wanted)
        live = []
        for job in jobs:
            merchant_ok = job.principal.may_see_merchant(job.body.merchant)
            if job.body.customer not in known:
                answers[id(job)] = NotFound(f"no customer {job.body.customer}")
            elif not merchant_ok:
                answers[id(job)] = NotFound(f"no merchant {job.body.merchant}")
            else:
                live.append(job)
        return live

    def _attempt(
        self,
        tx: LedgerTransaction,
        jobs: list[CheckoutJob],
        answers: dict[int, Answer | EmbedfinError],
    ) -> set[int]:
        """Run the jobs in a savepoint; the ids of failed jobs (then nothing was kept)."""
        checkout = self.platform.tenant(jobs[0].principal.tenant).checkout
        failed: set[int] = set()
        try:
            with tx.savepoint():
                specs = [
                    OrderSpec(
                        job.order_id,
                        job.body.customer,
                        job.body.merchant,
                        job.body.currency,
                        [OrderLine(li.sku, li.quantity, li.unit_price) for li in job.body.lines],
                        job.body.goods_kind,
                    )
                    for job in jobs
                ]
                placed = checkout.place_orders(specs)
                for job, result in zip(jobs, placed, strict=True):
                    if result.error is not None:
                        answers[id(job)] = result.error
                        failed.add(id(job))
                paying = [job for job in jobs if id(job) not in failed]
                paid = checkout.pay_with_wallets(
                    [job.order_id for job in paying], _contexts(paying)
                )
                for job, result in zip(paying, paid, strict=True):
                    if isinstance(result.error, RiskRefused):
                        # kept: the order stays placed and the decision it rests on commits
                        answers[id(job)] = result.error
                    elif result.error is not None:
                        answers[id(job)] = result.error
                        failed.add(id(job))
                    else:
                        assert result.order is not None
                        body: Any = OrderOut.of(result.order).model_dump(mode="json")
                        answers[id(job)] = (201, body, False)
                if failed:
                    raise _Retry
        except _Retry:
            pass
        return failed


def _contexts(jobs: list[CheckoutJob]) -> dict[str, RiskContext]:
    """Each paying job's risk context, by order id (jobs without one are left out)."""
    return {job.order_id: context for job in jobs if (context := job.body.risk()) is not None}


class _Retry(Exception):
    """Some orders failed: undo the savepoint and run the others again."""
