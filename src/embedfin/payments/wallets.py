"""Stored-value wallets: top-up through a channel, withdrawal to a bound bank account.

Every command validates first, then in one unit of work: moves the money on the ledger, records
the movement, appends its event. Any refusal raises a typed error and rolls everything back.
A retry with the same ``request_id`` replays the first result; the same id with different
parameters is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select

from embedfin.core.clock import NS_PER_SECOND, Clock, SystemClock
from embedfin.core.errors import (
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    LedgerRejected,
    LimitExceeded,
)
from embedfin.core.events import Event
from embedfin.core.money import Money, currency
from embedfin.db.outbox import append_events
from embedfin.db.tables import wallet_movements
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.ledger.types import CreateTransferResult, Transfer
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import (
    CODE_TOP_UP,
    CODE_WITHDRAWAL,
    AccountCode,
    AccountKey,
    channel_clearing,
    platform_account,
)
from embedfin.payments.requests import (
    check_bank_account,
    check_name,
    check_request_id,
    transfer_id,
)
from embedfin.security.crypto import FieldCipher, load_cipher

R = CreateTransferResult
DAY_NS = 86_400 * NS_PER_SECOND


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
    """

    buyer_id: str
    amount: Money
    channel: str
    request_id: str


_PlannedTopUp = tuple[WalletMovement, AccountKey, AccountKey]  # movement, clearing, wallet


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


class Wallets:
    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        clock: Clock | None = None,
        limits: WalletLimits | None = None,
        cipher: FieldCipher | None = None,
    ) -> None:
        self.cipher = cipher
        self.ledger = ledger
        self.tenant = check_name("tenant", tenant)
        self.clock = clock or ledger.clock or SystemClock()
        self.limits = limits or WalletLimits()

    # --- commands -----------------------------------------------------------------------------
    def top_up(self, buyer_id: str, amount: Money, channel: str, request_id: str) -> WalletMovement:
        """Credit a buyer's wallet with money collected through a payment channel."""
        return self.top_ups([TopUpRequest(buyer_id, amount, channel, request_id)])[0]

    def top_ups(self, requests: Sequence[TopUpRequest]) -> list[WalletMovement]:
        """Many top-ups in one unit of work and one ledger batch; all or none. Retried request
        ids answer their first movement.

        Steps: plan each movement (limits checked before any I/O), load the stored movements of
        these request ids, sort the batch into answers and fresh movements, move the fresh ones
        on the ledger in one batch, record them.
        """
        if not requests:
            return []
        planned = self._plan_top_ups(requests, self.clock.now_ns())
        with self.ledger.transaction() as tx:
            stored = self._stored_movements(tx, sorted({m.request_id for m, _, _ in planned}))
            answers, fresh = self._sort_replays(planned, stored)
            self._book_top_ups(tx, fresh)
            self._record_many(tx, [m for m, _, _ in fresh])
            return answers

    def _plan_top_ups(self, requests: Sequence[TopUpRequest], now: int) -> list[_PlannedTopUp]:
        planned: list[_PlannedTopUp] = []
        for request in requests:
            amount = request.amount
            _positive(amount)
            cap = self.limits.top_up_max.get(amount.currency)
            if cap is not None and amount.amount_minor > cap:
                raise LimitExceeded(f"a single top-up is at most {Money(cap, amount.currency)}")
            movement = WalletMovement(
                transfer_id(self.tenant, check_request_id(request.request_id)),
                request.request_id,
                "top_up",
                "buyer",
                request.buyer_id,
                amount,
                request.channel,
                None,
                now,
            )
            clearing = channel_clearing(
                self.tenant, check_name("channel", request.channel), amount.currency
            )
            planned.append(
                (
                    movement,
                    clearing,
                    wallet_key(self.tenant, "buyer", request.buyer_id, amount.currency),
                )
            )
        return planned

    def _stored_movements(self, tx: LedgerTransaction, request_ids: list[str]) -> dict[str, Any]:
        """The recorded movements of these request ids, by request id (500 per query)."""
        cols = wallet_movements.c
        stored: dict[str, Any] = {}
        for start in range(0, len(request_ids), 500):
            for row in tx.conn.execute(
                select(wallet_movements).where(
                    cols.tenant == self.tenant,
                    cols.request_id.in_(request_ids[start : start + 500]),
                )
            ).mappings():
                stored[row["request_id"]] = row
        return stored

    def _sort_replays(
        self, planned: list[_PlannedTopUp], stored: dict[str, Any]
    ) -> tuple[list[WalletMovement], list[_PlannedTopUp]]:
        """Each request's answer in order, and the movements not made before."""
        answers: list[WalletMovement] = []
        fresh: list[_PlannedTopUp] = []
        seen: dict[str, WalletMovement] = {}
        for movement, clearing, wallet in planned:
            twin = seen.get(movement.request_id)
            if twin is not None:  # the same request twice in one call
                if (twin.owner_id, twin.amount, twin.channel) != (
                    movement.owner_id,
                    movement.amount,
                    movement.channel,
                ):
                    raise IdempotencyMismatch(f"request_id {movement.request_id!r} repeated")
                answers.append(twin)
                continue
            seen[movement.request_id] = movement
            replay = self._check_replay(movement, stored.get(movement.request_id))
            answers.append(replay or movement)
            if replay is None:
                fresh.append((movement, clearing, wallet))
        return answers, fresh

    def _book_top_ups(self, tx: LedgerTransaction, fresh: list[_PlannedTopUp]) -> None:
        open_accounts(tx, [k for _, c, w in fresh for k in (c, w)])
        results = tx.create_transfers(
            [
                Transfer(
                    m.transfer_id,
                    clearing.account_id,
                    wallet.account_id,
                    m.amount.amount_minor,
                    clearing.ledger,
                    CODE_TOP_UP,
                )
                for m, clearing, wallet in fresh
            ]
        )
        for (m, _, _), result in zip(fresh, results, strict=True):
            if result is not R.OK:
                raise LedgerRejected(f"ledger refused top-up {m.request_id}: {result}")

    def withdraw(
        self,
        owner_kind: str,
        owner_id: str,
        amount: Money,
        bank_token: str,
        bank_last4: str,
        request_id: str,
    ) -> WalletMovement:
        """Pay money out of a wallet to the owner's bound bank account (held as a token)."""
        _positive(amount)
        check_bank_account(bank_token, bank_last4)
        wallet = wallet_key(self.tenant, owner_kind, owner_id, amount.currency)
        reserve = platform_account(self.tenant, amount.currency, AccountCode.CLIENT_RESERVE)
        request = WalletMovement(
            transfer_id(self.tenant, check_request_id(request_id)),
            request_id,
            "withdrawal",
            owner_kind,
            owner_id,
            amount,
            None,
            bank_last4,
            self.clock.now_ns(),
        )
        with self.ledger.transaction() as tx:
            replay = self._replay(tx, request)
            if replay is not None:
                return replay
            open_accounts(tx, [wallet, reserve])
            self._move(tx, request, wallet, reserve)  # locks the wallet on PostgreSQL
            self._check_daily_limit(tx, request)
            self._record(tx, request, bank_token=bank_token)
            return request

    # --- queries ------------------------------------------------------------------------------
    def balance(self, owner_kind: str, owner_id: str, currency_code: str) -> WalletBalance:
        key = wallet_key(self.tenant, owner_kind, owner_id, currency_code)
        found = self.ledger.lookup_accounts([key.account_id])
        if not found:
            zero = Money(0, key.currency)
            return WalletBalance(zero, zero)
        a = found[0]
        return WalletBalance(
            Money(a.credits_posted - a.debits_posted - a.debits_pending, key.currency),
            Money(a.debits_pending, key.currency),
        )

    # --- internals ----------------------------------------------------------------------------
    def _move(
        self,
        tx: LedgerTransaction,
        request: WalletMovement,
        debit: AccountKey,
        credit: AccountKey,
    ) -> None:
        code = CODE_TOP_UP if request.kind == "top_up" else CODE_WITHDRAWAL
        (result,) = tx.create_transfers(
            [
                Transfer(
                    request.transfer_id,
                    debit.account_id,
                    credit.account_id,
                    request.amount.amount_minor,
                    debit.ledger,
                    code,
                )
            ]
        )
        if result is R.EXCEEDS_CREDITS:
            raise InsufficientFunds(f"the wallet holds less than {request.amount}")
        if result is R.EXCEEDS_DEBITS:
            raise LedgerRejected(
                "the client reserve has not yet received these funds from the channels;"
                " retry after settlement"
            )
        if result is not R.OK:
            raise LedgerRejected(f"ledger refused the {request.kind}: {result}")

    def _check_daily_limit(self, tx: LedgerTransaction, request: WalletMovement) -> None:
        limit = self.limits.withdrawal_per_day.get(request.amount.currency)
        if limit is None:
            return
        day_start = request.created_at_ns - request.created_at_ns % DAY_NS
        m = wallet_movements.c
        so_far = tx.conn.execute(
            select(func.coalesce(func.sum(m.amount_minor), 0)).where(
                m.tenant == self.tenant,
                m.owner_id == request.owner_id,
                m.owner_kind == request.owner_kind,
                m.kind == "withdrawal",
                m.currency == request.amount.currency,
                m.created_at >= day_start,
            )
        ).scalar_one()
        if int(so_far) + request.amount.amount_minor > limit:
            left = Money(max(limit - int(so_far), 0), request.amount.currency)
            raise LimitExceeded(f"daily withdrawal limit reached; {left} left today")

    def _encrypt_token(self, request: WalletMovement, bank_token: str) -> str:
        if self.cipher is None:
            self.cipher = load_cipher()
        context = bank_token_context(self.tenant, request.transfer_id)
        return self.cipher.encrypt(bank_token, context)

    def _record(
        self, tx: LedgerTransaction, request: WalletMovement, bank_token: str | None
    ) -> None:
        self._record_many(tx, [request], bank_token)

    def _record_many(
        self,
        tx: LedgerTransaction,
        requests: Sequence[WalletMovement],
        bank_token: str | None = None,
    ) -> None:
        """The movements' rows and events (one statement each); a bank token only for one."""
        if not requests:
            return
        tx.conn.execute(
            insert(wallet_movements),
            [
                {
                    "transfer_id": r.transfer_id,
                    "tenant": self.tenant,
                    "request_id": r.request_id,
                    "owner_kind": r.owner_kind,
                    "owner_id": r.owner_id,
                    "kind": r.kind,
                    "amount_minor": r.amount.amount_minor,
                    "currency": r.amount.currency,
                    "channel": r.channel,
                    "bank_token": None
                    if bank_token is None
                    else self._encrypt_token(r, bank_token),
                    "bank_last4": r.bank_last4,
                    "created_at": r.created_at_ns,
                }
                for r in requests
            ],
        )
        events = []
        for r in requests:
            payload: dict[str, object] = {
                "owner_kind": r.owner_kind,
                "owner_id": r.owner_id,
                "amount_minor": r.amount.amount_minor,
                "currency": r.amount.currency,
                "request_id": r.request_id,
            }
            if r.channel:
                payload["channel"] = r.channel
            events.append(
                Event(
                    "wallet_topped_up" if r.kind == "top_up" else "wallet_withdrawn",
                    "wallet",
                    f"{r.owner_kind}:{r.owner_id}",
                    payload,
                    r.created_at_ns,
                    self.tenant,
                )
            )
        append_events(tx.conn, events)

    def _replay(self, tx: LedgerTransaction, request: WalletMovement) -> WalletMovement | None:
        m = wallet_movements.c
        row = (
            tx.conn.execute(
                select(wallet_movements).where(
                    m.tenant == self.tenant, m.request_id == request.request_id
                )
            )
            .mappings()
            .first()
        )
        return self._check_replay(request, row)

    def _check_replay(self, request: WalletMovement, row: Any) -> WalletMovement | None:
        """The stored movement of the request's id, if any (refused if it was another)."""
        if row is None:
            return None
        stored = WalletMovement(
            row["transfer_id"],
            row["request_id"],
            row["kind"],
            row["owner_kind"],
            row["owner_id"],
            Money(row["amount_minor"], row["currency"]),
            row["channel"],
            row["bank_last4"],
            row["created_at"],
            replayed=True,
        )
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


def _positive(amount: Money) -> None:
    if amount.amount_minor <= 0:
        raise InvalidAmount(f"amount must be positive, got {amount}")


__all__ = ["WalletBalance", "WalletLimits", "WalletMovement", "Wallets"]


def bank_token_context(tenant: str, transfer_id: int) -> str:
    """Associated data binding an encrypted bank token to its wallet movement."""
    return f"wallet_movements.bank_token:{tenant}:{transfer_id}"
