"""Payment channels behind one interface: card acquirer, bank transfer, e-wallet, QR.

``SimulatedProcessor`` is a stand-in for a real processor with no network: it keeps its own
state keyed by the idempotency key each request carries (as real processors do), so a retried
request never charges twice and a lost response can be recovered with ``lookup``. Its approval
rate, timeouts (including timeouts *after* the charge went through) and latency are seeded and
can be changed at run time to simulate an outage. A real processor plugs in by implementing
``PaymentChannel``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

from embedfin.core.money import Money


class ChannelKind(StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    EWALLET = "ewallet"
    QR = "qr"


class Outcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """A percentage in basis points plus a fixed fee in minor units of the charged currency."""

    percent_bp: int
    fixed_minor: int = 0

    def fee_minor(self, amount_minor: int) -> int:
        exact = Decimal(amount_minor) * self.percent_bp / Decimal(10_000)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)) + self.fixed_minor


@dataclass(frozen=True, slots=True)
class ChannelResponse:
    """What a channel answered.

    Attributes:
        outcome: approved, declined or timeout (unknown: ask ``lookup`` before anything else).
        channel_ref: the processor's id for the charge.
        decline_code: why it was declined.
        retriable: a decline another channel may not share (issuer timeout, processor error).
        latency_ms: simulated time taken.
    """

    outcome: Outcome
    channel_ref: str = ""
    decline_code: str | None = None
    retriable: bool = False
    latency_ms: float = 0.0


class ChannelError(Exception):
    """The channel could not be reached: the outcome is unknown, like a timeout."""


class PaymentChannel(Protocol):
    name: str
    kind: ChannelKind
    currencies: frozenset[str]
    fees: FeeSchedule

    def charge(self, idempotency_key: str, amount: Money, payer_ref: str) -> ChannelResponse:
        """Authorise and capture; the same key always refers to the same charge."""
        ...

    def lookup(self, idempotency_key: str) -> ChannelResponse | None:
        """What became of a charge (None: the processor never saw it)."""
        ...

    def refund(self, idempotency_key: str, charge_key: str, amount: Money) -> ChannelResponse:
        """Return part or all of an approved charge to the payer's instrument; the same key
        always refers to the same refund, and a charge never refunds more than it took."""
        ...


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How a simulated processor answers: approval and timeout rates, latency, seed."""

    approval_rate: float = 0.97
    timeout_rate: float = 0.0
    charged_on_timeout: float = 0.5
    latency_ms: float = 120.0
    seed: int = 0


def charge_outcome(
    behaviour: Behaviour, name: str, key: str, nonce: int = 0
) -> tuple[ChannelResponse, ChannelResponse | None]:
    """A simulated charge (pure): what the caller hears, and what the processor keeps (None:
    nothing was charged). Seeded by the key, so every process decides a key the same way."""
    b = behaviour
    rng = random.Random(f"{b.seed}:{name}:{key}:{nonce}")
    latency = rng.expovariate(1 / b.latency_ms) if b.latency_ms else 0.0
    ref = "ch_" + hashlib.sha256(f"{name}:{key}".encode()).hexdigest()[:20]
    if rng.random() < b.timeout_rate:
        kept = None
        if rng.random() < b.charged_on_timeout:  # charged, but the answer was lost
            kept = ChannelResponse(Outcome.APPROVED, ref, latency_ms=latency)
        return ChannelResponse(Outcome.TIMEOUT, latency_ms=latency), kept
    if rng.random() < b.approval_rate:
        response = ChannelResponse(Outcome.APPROVED, ref, latency_ms=latency)
    else:
        retriable = rng.random() < 0.6
        code = "processor_error" if retriable else "do_not_honor"
        response = ChannelResponse(Outcome.DECLINED, ref, code, retriable, latency)
    return response, response


def refund_outcome(
    name: str,
    key: str,
    charge: tuple[ChannelResponse, Money] | None,
    refunded_minor: int,
    amount: Money,
) -> ChannelResponse:
    """A refund's answer (pure): a charge never gives back more than it took."""
    ref = "re_" + hashlib.sha256(f"{name}:{key}".encode()).hexdigest()[:20]
    if charge is None or charge[0].outcome is not Outcome.APPROVED:
        return ChannelResponse(Outcome.DECLINED, ref, "no_such_charge")
    if amount.currency != charge[1].currency or amount.amount_minor <= 0:
        return ChannelResponse(Outcome.DECLINED, ref, "invalid_amount")
    if refunded_minor + amount.amount_minor > charge[1].amount_minor:
        return ChannelResponse(Outcome.DECLINED, ref, "exceeds_charge")
    return ChannelResponse(Outcome.APPROVED, ref)


class SimulatedProcessor:
    """A processor simulation with its own idempotent state in memory (see module docstring);
    ``channels/sandbox.py`` keeps the same behaviour's state in a durable store."""

    def __init__(
        self,
        name: str,
        kind: ChannelKind,
        currencies: Iterable[str],
        fees: FeeSchedule,
        *,
        approval_rate: float = 0.97,
        timeout_rate: float = 0.0,
        charged_on_timeout: float = 0.5,
        latency_ms: float = 120.0,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.kind = kind
        self.currencies = frozenset(currencies)
        self.fees = fees
        self.behaviour = Behaviour(
            approval_rate, timeout_rate, charged_on_timeout, latency_ms, seed
        )
        self.charges: dict[str, tuple[ChannelResponse, Money]] = {}
        self.refunds: dict[str, tuple[ChannelResponse, str, Money]] = {}
        self.requests = 0
        self.refunds_down = False  # simulate an outage of the refund API

    @property
    def approval_rate(self) -> float:
        return self.behaviour.approval_rate

    @approval_rate.setter
    def approval_rate(self, rate: float) -> None:  # an outage, set at run time
        self.behaviour = replace(self.behaviour, approval_rate=rate)

    @property
    def timeout_rate(self) -> float:
        return self.behaviour.timeout_rate

    @timeout_rate.setter
    def timeout_rate(self, rate: float) -> None:
        self.behaviour = replace(self.behaviour, timeout_rate=rate)

    @property
    def latency_ms(self) -> float:
        return self.behaviour.latency_ms

    @latency_ms.setter
    def latency_ms(self, latency: float) -> None:
        self.behaviour = replace(self.behaviour, latency_ms=latency)

    def charge(self, idempotency_key: str, amount: Money, payer_ref: str) -> ChannelResponse:
        self.requests += 1
        if idempotency_key in self.charges:
            return self.charges[idempotency_key][0]
        heard, kept = charge_outcome(self.behaviour, self.name, idempotency_key, self.requests)
        if kept is not None:
            self.charges[idempotency_key] = (kept, amount)
        return heard

    def lookup(self, idempotency_key: str) -> ChannelResponse | None:
        found = self.charges.get(idempotency_key)
        return found[0] if found else None

    def refund(self, idempotency_key: str, charge_key: str, amount: Money) -> ChannelResponse:
        self.requests += 1
        if self.refunds_down:
            raise ChannelError(f"{self.name}: refund API unreachable")
        if idempotency_key in self.refunds:
            return self.refunds[idempotency_key][0]
        refunded = sum(
            m.amount_minor
            for r, key, m in self.refunds.values()
            if key == charge_key and r.outcome is Outcome.APPROVED
        )
        charge = self.charges.get(charge_key)
        response = refund_outcome(self.name, idempotency_key, charge, refunded, amount)
        self.refunds[idempotency_key] = (response, charge_key, amount)
        return response


def default_channels(seed: int = 0) -> list[SimulatedProcessor]:
    """The simulated channel set used by the demo and the benchmarks (fees are typical)."""
    majors = ["USD", "EUR", "GBP", "CNY", "JPY"]
    return [
        SimulatedProcessor(
            "card-acquirer",
            ChannelKind.CARD,
            majors,
            FeeSchedule(290, 30),
            approval_rate=0.95,
            latency_ms=250,
            seed=seed,
        ),
        SimulatedProcessor(
            "bank-transfer",
            ChannelKind.BANK_TRANSFER,
            majors,
            FeeSchedule(80),
            approval_rate=0.99,
            latency_ms=400,
            seed=seed,
        ),
        SimulatedProcessor(
            "e-wallet",
            ChannelKind.EWALLET,
            majors,
            FeeSchedule(150),
            approval_rate=0.97,
            latency_ms=150,
            seed=seed,
        ),
        SimulatedProcessor(
            "qr-pay",
            ChannelKind.QR,
            ["CNY", "USD"],
            FeeSchedule(60),
            approval_rate=0.98,
            latency_ms=100,
            seed=seed,
        ),
    ]
