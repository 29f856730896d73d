"""The bank workload's clients: what they send, and the history of every answer.

Each client thread draws operations from a seeded mix — top-ups, withdrawals, wallet-paid and
card-paid checkouts, partial and full refunds — each under its own Idempotency-Key, and now
and then a *same-key burst*: one request sent by several connections at once (on a server with
several workers they land on different processes). Every request and every answer goes into
the ``History``; the checks (``bank_checks.py``) judge it afterwards, so a client never decides
what is right while it runs.

In *retry* mode (the kill loop) a client repeats a request under the same key after a
connection error, a 5xx or a 409 "in flight", until it gets an answer — as a careful client of
a payments API does — and the history keeps every 5xx it saw on the way.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

Body = dict[str, Any]
CURRENCY = "EUR"
IN_FLIGHT = "idempotency_in_flight"

#: Relative weights of the operations a client draws.
MIX: dict[str, int] = {
    "top_up": 22,
    "withdrawal": 6,
    "wallet_order": 24,
    "card_order": 14,
    "refund": 20,
    "burst": 14,
}
#: What a same-key burst repeats.
BURST_KINDS = ("top_up", "wallet_order", "card_order", "refund")


@dataclass(slots=True, eq=False)
class Op:
    """One request under one Idempotency-Key, and what it was answered.

    Attributes:
        kind: top_up, withdrawal, wallet_order, card_order or refund.
        key: the Idempotency-Key (every copy and retry of the op sends the same one).
        path: the POST path; ``body`` its JSON body.
        buyer: the buyer whose wallet the op may touch.
        order: the order a refund is for; for a checkout, the order its answer names.
        copies: how many copies were sent at once (1 unless a same-key burst).
        answers: (status, body) of every answer received, copies and retries included.
        status: the op's answer: the first 2xx, else the last non-409 answer (None: unanswered).
        answer: that answer's body.
    """

    kind: str
    key: str
    path: str
    body: Body
    buyer: str
    order: str | None = None
    copies: int = 1
    answers: list[tuple[int, Body]] = field(default_factory=list)
    status: int | None = None
    answer: Body | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def uncertain(self) -> bool:
        """No answer says what became of it (none came, or only 5xx)."""
        return self.status is None or self.status >= 500

    def settle(self) -> None:
        """Pick the op's answer from everything it was told."""
        for status, body in self.answers:
            if 200 <= status < 300:
                self.status, self.answer = status, body
                if self.kind in ("wallet_order", "card_order"):
                    self.order = str(body.get("id"))
                return
        for status, body in reversed(self.answers):
            if not _in_flight(status, body):
                self.status, self.answer = status, body
                return


@dataclass(frozen=True, slots=True)
class PaidOrder:
    """An acknowledged checkout a later refund may name."""

    order_id: str
    buyer: str
    total_minor: int


class History:
    """Every op of a run and the orders refunds can pick from, shared by the client threads."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.paid: list[PaidOrder] = []
        self.unexpected: list[str] = []  # 5xx and transport errors, a sample for the report
        self.server_errors = 0
        self.transport_errors = 0
        self._lock = threading.Lock()

    def add(self, op: Op) -> None:
        with self._lock:
            self.ops.append(op)
            if op.acknowledged and op.kind.endswith("_order") and op.answer is not None:
                total = int(op.answer.get("amount_total", 0))
                self.paid.append(PaidOrder(str(op.answer["id"]), op.buyer, total))

    def pick_paid(self, rng: random.Random) -> PaidOrder | None:
        with self._lock:
            return rng.choice(self.paid) if self.paid else None

    def note(self, what: str, server_error: bool) -> None:
        with self._lock:
            if server_error:
                self.server_errors += 1
            else:
                self.transport_errors += 1
            if len(self.unexpected) < 20:
                self.unexpected.append(what)


def _in_flight(status: int, body: Body) -> bool:
    return status == 409 and body.get("code") == IN_FLIGHT


@dataclass(frozen=True, slots=True)
class Market:
    """What the setup created: the buyers and merchants the mix draws from."""

    base_url: str
    secret: str
    buyers: tuple[str, ...]
    merchants: tuple[str, ...]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


class BankClient:
    """One client thread's loop: draw an op, send it, record it, until ``stop`` is set."""

    def __init__(
        self,
        number: int,
        market: Market,
        history: History,
        seed: int,
        *,
        retry: bool = False,
        retry_deadline_s: float = 180.0,
        timeout_s: float = 60.0,
    ) -> None:
        self.number = number
        self.market = market
        self.history = history
        self.rng = random.Random(f"{seed}:{number}")
        self.retry = retry
        self.retry_deadline_s = retry_deadline_s
        self.timeout_s = timeout_s
        self.sent = 0
        self._http = httpx.Client(base_url=market.base_url, timeout=timeout_s)

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                op = self.draw()
                if op is None:
                    continue
                if op.copies > 1:
                    self.burst(op)
                else:
                    self.send(op, self._http)
                op.settle()
                self.history.add(op)
        finally:
            self._http.close()

    # --- drawing ---------------------------------------------------------------------------
    def draw(self) -> Op | None:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        copies = 1
        if kind == "burst":
            kind, copies = self.rng.choice(BURST_KINDS), self.rng.randint(2, 4)
        op = self.build(kind)
        if op is not None:
            op.copies = copies
        return op

    def build(self, kind: str) -> Op | None:
        rng, market = self.rng, self.market
        self.sent += 1
        key = f"bank-{self.number}-{self.sent}-{rng.getrandbits(32):08x}"
        buyer = rng.choice(market.buyers)
        if kind == "top_up":
            body: Body = {"amount": rng.randint(100, 20_000), "currency": CURRENCY}
            return Op(kind, key, f"/v1/customers/{buyer}/top_ups", body, buyer)
        if kind == "withdrawal":
            body = {"amount": rng.randint(100, 5_000), "currency": CURRENCY}
            body |= {"bank_token": "tok_bankbench01", "bank_last4": "4242"}
            return Op(kind, key, f"/v1/customers/{buyer}/withdrawals", body, buyer)
        if kind in ("wallet_order", "card_order"):
            body = {
                "customer": buyer,
                "merchant": rng.choice(market.merchants),
                "currency": CURRENCY,
                "lines": [
                    {
                        "sku": "book",
                        "quantity": rng.randint(1, 3),
                        "unit_price": rng.randint(1, 50) * 100,
                    }
                ],
            }
            if kind == "card_order":
                body |= {"payment_method": "channel", "channel_kind": "card"}
            return Op(kind, key, "/v1/checkouts", body, buyer)
        paid = self.history.pick_paid(rng)
        if paid is None:
            return None
        amount = (
            paid.total_minor
            if rng.random() < 0.4
            else rng.randint(1, max(paid.total_minor // 2, 1))
        )
        body = {"amount": amount, "currency": CURRENCY}
        return Op(
            "refund", key, f"/v1/orders/{paid.order_id}/refunds", body, paid.buyer, paid.order_id
        )

    # --- sending ---------------------------------------------------------------------------
    def send(self, op: Op, http: httpx.Client) -> None:
        """Send the op once, or (retry mode) until it is answered with neither 5xx nor 409."""
        deadline = time.monotonic() + self.retry_deadline_s
        headers = self.market.headers | {"Idempotency-Key": op.key}
        while True:
            try:
                response = http.post(op.path, json=op.body, headers=headers)
            except httpx.TransportError as error:
                self.history.note(f"{op.kind} {op.path}: {type(error).__name__}", False)
                if not self.retry or time.monotonic() > deadline:
                    return
                time.sleep(0.2)
                continue
            body = _json(response)
            op.answers.append((response.status_code, body))
            if response.status_code >= 500:
                detail = f"{response.status_code} {op.kind} {op.path}: {str(body)[:200]}"
                self.history.note(detail, True)
            again = response.status_code >= 500 or _in_flight(response.status_code, body)
            if not (self.retry and again) or time.monotonic() > deadline:
                return
            time.sleep(0.2)

    def burst(self, op: Op) -> None:
        """Send ``op.copies`` copies at once, each on a new connection, then once more after
        they are all answered (that answer must replay the first)."""
        start = threading.Barrier(op.copies)
        copies = [
            Op(op.kind, op.key, op.path, op.body, op.buyer, op.order) for _ in range(op.copies)
        ]

        def fire(copy: Op) -> None:
            with httpx.Client(base_url=self.market.base_url, timeout=self.timeout_s) as http:
                with contextlib.suppress(httpx.TransportError):
                    http.get("/healthz")  # connect first, so the copies leave together
                with contextlib.suppress(threading.BrokenBarrierError):
                    start.wait(timeout=30)
                self.send(copy, http)

        threads = [threading.Thread(target=fire, args=(c,)) for c in copies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for copy in copies:
            op.answers.extend(copy.answers)
        self.send(op, self._http)


def _json(response: httpx.Response) -> Body:
    try:
        found = response.json()
    except ValueError:
        return {"text": response.text[:200]}
    return found if isinstance(found, dict) else {"value": found}
