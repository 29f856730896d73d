"""Wallet records and rules (pure): limits, movements, the wallet's account key, replays.

What a top-up or withdrawal is, before and after it is stored, and the rules that need no
database: a movement's amount is positive and within its cap, a retried request id must ask
for what it asked the first time, each movement announces itself with one event. The service
(``wallets``) and its rows (``wallet_store``) build on these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from embedfin.core.errors import IdempotencyMismatch, InvalidAmount, InvalidInput, LimitExceeded
from embedfin.core.events import Event
from embedfin.core.money import Money, currency
from embedfin.payments.chart import AccountCode, AccountKey
from embedfin.payments.requests import check_name
from embedfin.risk.decision import RiskContext


@dataclass(frozen=True, slots=True)
class WalletLimits:
    """Per-currency limits in minor units; a currency not listed has no limit."""

    withdrawal_per_day: Mapping[str, int] = field(
        default_factory=lambda: {"USD": 500_000, "EUR": 500_000, "CNY": 5_000_000}
    )
    top_up_max: Mapping[str, int] = field(
        default_factory=lambda: {"USD": 1_000_000, "EUR": 1_000_000, "CNY": 10_000_000}
    )


@dataclass(frozen=True, slots=True)
class WalletMovement:
    """A top-up or withdrawal as recorded.

    Attributes:
        transfer_id: the ledger transfer.
        request_id: the client's idempotency key.
        kind: ``top_up`` or ``withdrawal``.
        owner_kind, owner_id: whose wallet.
        amount: how much.
        channel: the payment channel (top-ups).
        bank_last4: last four digits of the bound bank account (withdrawals).
        created_at_ns: when.
        replayed: True when this answers a retry of an earlier request.
    """

    transfer_id: int
    request_id: str
    kind: str
    owner_kind: str
    owner_id: str
    amount: Money
    channel: str | None
    bank_last4: str | None
    created_at_ns: int
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class TopUpRequest:
    """One top-up of a bulk call (:meth:`Wallets.top_ups`).

    Attributes:
        buyer_id: whose wallet is credited.
        amount: how much was collected.
        channel: the payment channel that collected it.
        request_id: the client's idempotency key.
        context: the client's risk context (device, IP, …), if it sent one.
    """

    buyer_id: str
    amount: Money
    channel: str
    request_id: str
    context: RiskContext | None = None


PlannedTopUp = tuple[WalletMovement, AccountKey, AccountKey]  # movement, clearing, wallet


@dataclass(frozen=True, slots=True)
class WalletBalance:
    """``available`` can be spent now; ``held`` is reserved by pending payments."""

    available: Money
    held: Money


def wallet_key(tenant: str, owner_kind: str, owner_id: str, currency_code: str) -> AccountKey:
    codes = {"buyer": AccountCode.BUYER_WALLET, "merchant": AccountCode.MERCHANT_AVAILABLE}
    if owner_kind not in codes:
        raise InvalidInput(f"owner_kind must be buyer or merchant, got {owner_kind!r}")
    return AccountKey(
        tenant,
        owner_kind,
        check_name("owner_id", owner_id),
        currency(currency_code).code,
        codes[owner_kind],
    )


def bank_token_context(tenant: str, transfer_id: int) -> str:
    """Associated data binding an encrypted bank token to its wallet movement."""
    return f"wallet_movements.bank_token:{tenant}:{transfer_id}"


def check_positive(amount: Money) -> None:
    if amount.amount_minor <= 0:
        raise InvalidAmount(f"amount must be positive, got {amount}")


def check_top_up_cap(limits: WalletLimits, amount: Money) -> None:
    cap = limits.top_up_max.get(amount.currency)
    if cap is not None and amount.amount_minor > cap:
        raise LimitExceeded(f"a single top-up is at most {Money(cap, amount.currency)}")


def check_replay(request: WalletMovement, stored: WalletMovement | None) -> WalletMovement | None:
    """The stored movement of the request's id, if any (refused if it was another)."""
    if stored is None:
        return None
    same = (
        stored.kind,
        stored.owner_kind,
        stored.owner_id,
        stored.amount,
        stored.channel,
        stored.bank_last4,
    ) == (
        request.kind,
        request.owner_kind,
        request.owner_id,
        request.amount,
        request.channel,
        request.bank_last4,
    )
    if not same:
        raise IdempotencyMismatch(
            f"request_id {request.request_id!r} was used for a different request"
        )
    return stored


def movement_event(tenant: str, r: WalletMovement) -> Event:
    """``wallet_topped_up`` or ``wallet_withdrawn``, money as minor units plus currency."""
    payload: dict[str, object] = {
        "owner_kind": r.owner_kind,
        "owner_id": r.owner_id,
        "amount_minor": r.amount.amount_minor,
        "currency": r.amount.currency,
        "request_id": r.request_id,
    }
    if r.channel:
        payload["channel"] = r.channel
    return Event(
        "wallet_topped_up" if r.kind == "top_up" else "wallet_withdrawn",
        "wallet",
        f"{r.owner_kind}:{r.owner_id}",
        payload,
        r.created_at_ns,
        tenant,
    )
