"""Stored-value wallets: top-up through a channel, withdrawal to a bound bank account.

Every command validates first, then in one unit of work: moves the money on the ledger, records
the movement, appends its event. Any refusal raises a typed error and rolls everything back.
A retry with the same ``request_id`` replays the first result; the same id with different
parameters is refused. The records and pure rules are ``wallet_records``, the rows
``wallet_store``; this module is the service.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from embedfin.core.clock import NS_PER_SECOND, Clock, SystemClock
from embedfin.core.errors import (
    ComplianceHold,
    IdempotencyMismatch,
    InsufficientFunds,
    LedgerRejected,
    LimitExceeded,
    RiskRefused,
)
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.ledger.types import CreateTransferResult, Transfer
from embedfin.payments import wallet_store as store
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import (
    CODE_TOP_UP,
    CODE_WITHDRAWAL,
    AccountCode,
    AccountKey,
    channel_clearing,
    platform_account,
)
from embedfin.payments.holds import ComplianceHolds, NoHolds
from embedfin.payments.limits import BalanceLimits, BalancePayment, NoBalanceLimits
from embedfin.payments.requests import (
    check_bank_account,
    check_name,
    check_request_id,
    transfer_id,
)
from embedfin.payments.wallet_records import (
    PlannedTopUp,
    TopUpRequest,
    WalletBalance,
    WalletLimits,
    WalletMovement,
    bank_token_context,
    check_positive,
    check_replay,
    check_top_up_cap,
    wallet_key,
)
from embedfin.risk.decision import RiskContext, RiskSubject, SubjectKind
from embedfin.risk.gate import NoRiskCheck, RiskGate
from embedfin.security.crypto import FieldCipher, load_cipher

R = CreateTransferResult
DAY_NS = 86_400 * NS_PER_SECOND


class Wallets:
    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        clock: Clock | None = None,
        limits: WalletLimits | None = None,
        cipher: FieldCipher | None = None,
        risk: RiskGate | None = None,
        holds: ComplianceHolds | None = None,
        balance_limits: BalanceLimits | None = None,
    ) -> None:
        self.risk: RiskGate = risk or NoRiskCheck()
        self.holds: ComplianceHolds = holds or NoHolds()
        #: a buyer's verification level: how much it may pay out of its balance
        self.balance_limits: BalanceLimits = balance_limits or NoBalanceLimits()
        self.cipher = cipher
        self.ledger = ledger
        self.tenant = check_name("tenant", tenant)
        self.clock = clock or ledger.clock or SystemClock()
        self.limits = limits or WalletLimits()

    # --- commands -----------------------------------------------------------------------------
    def top_up(
        self,
        buyer_id: str,
        amount: Money,
        channel: str,
        request_id: str,
        context: RiskContext | None = None,
    ) -> WalletMovement:
        """Credit a buyer's wallet with money collected through a payment channel."""
        return self.top_ups([TopUpRequest(buyer_id, amount, channel, request_id, context)])[0]

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
        contexts = {r.request_id: r.context for r in requests}
        refusal: RiskRefused | None = None
        with self.ledger.transaction() as tx:
            request_ids = sorted({m.request_id for m, _, _ in planned})
            stored = store.stored_movements(tx.conn, self.tenant, request_ids)
            answers, fresh = self._sort_replays(planned, stored)
            refusal = self._check_fresh(tx, fresh, contexts)
            if refusal is None:
                self._book_top_ups(tx, fresh)
                self._record_many(tx, [m for m, _, _ in fresh])
                for movement, _, _ in fresh:
                    self.risk.settle(tx, SubjectKind.TOP_UP, movement.request_id, succeeded=True)
                return answers
        raise refusal  # all or none: the decisions committed, no money moved

    def _check_fresh(
        self,
        tx: LedgerTransaction,
        fresh: list[PlannedTopUp],
        contexts: dict[str, RiskContext | None],
    ) -> RiskRefused | None:
        """The risk check of each fresh top-up; the first refusal, if any."""
        refusals = [
            self._check(tx, m, SubjectKind.TOP_UP, contexts.get(m.request_id), m.channel or "")
            for m, _, _ in fresh
        ]
        return next((r for r in refusals if r is not None), None)

    def _check(
        self,
        tx: LedgerTransaction,
        movement: WalletMovement,
        kind: SubjectKind,
        context: RiskContext | None,
        method: str,
        token: str | None = None,
    ) -> RiskRefused | None:
        subject = RiskSubject(
            kind,
            self.tenant,
            movement.amount.amount_minor,
            movement.amount.currency,
            _method_code(method),
            buyer_id=movement.owner_id if movement.owner_kind == "buyer" else None,
            merchant_id=movement.owner_id if movement.owner_kind == "merchant" else None,
            reference=movement.request_id,
            context=context,
        )
        # a withdrawal's bank account links the wallets cashed out into it (mule accounts)
        return self.risk.check(tx, subject, token=token).refusal

    def _plan_top_ups(self, requests: Sequence[TopUpRequest], now: int) -> list[PlannedTopUp]:
        planned: list[PlannedTopUp] = []
        for request in requests:
            amount = request.amount
            check_positive(amount)
            check_top_up_cap(self.limits, amount)
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

    def _sort_replays(
        self, planned: list[PlannedTopUp], stored: dict[str, object]
    ) -> tuple[list[WalletMovement], list[PlannedTopUp]]:
        """Each request's answer in order, and the movements not made before."""
        answers: list[WalletMovement] = []
        fresh: list[PlannedTopUp] = []
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
            replay = check_replay(movement, store.movement_of(stored.get(movement.request_id)))
            answers.append(replay or movement)
            if replay is None:
                fresh.append((movement, clearing, wallet))
        return answers, fresh

    def _book_top_ups(self, tx: LedgerTransaction, fresh: list[PlannedTopUp]) -> None:
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
        context: RiskContext | None = None,
    ) -> WalletMovement:
        """Pay money out of a wallet to the owner's bound bank account (held as a token), after
        the compliance hold check (``ComplianceHold`` while a screening case is open or was
        confirmed) and the risk check (a review refuses it until its case is decided)."""
        check_positive(amount)
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
        refusal: RiskRefused | None = None
        self.holds.catch_up(owner_kind, owner_id)  # a hit's case commits even if refused
        with self.ledger.transaction() as tx:
            replay = self._replay(tx, request)
            if replay is not None:
                return replay
            hold = self.holds.hold_of(tx, owner_kind, owner_id)
            if hold is not None:
                raise ComplianceHold(hold)
            refusal = self._check(
                tx, request, SubjectKind.WITHDRAWAL, context, "bank_transfer", bank_token
            )
            if refusal is None:
                spend = [BalancePayment(owner_id, amount, "own_bank", request.created_at_ns)]
                if owner_kind == "buyer":
                    (limit,) = self.balance_limits.check_many(tx, spend)
                    if limit is not None:
                        raise limit
                open_accounts(tx, [wallet, reserve])
                self._move(tx, request, wallet, reserve)  # locks the wallet on PostgreSQL
                self._check_daily_limit(tx, request)
                self._record(tx, request, bank_token=bank_token)
                self.risk.settle(tx, SubjectKind.WITHDRAWAL, request_id, succeeded=True)
                if owner_kind == "buyer":
                    self.balance_limits.count_many(tx, spend)
                return request
        raise refusal  # the decision (and any case) committed; nothing moved

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
        so_far = store.withdrawn_since(tx.conn, self.tenant, request, day_start)
        if so_far + request.amount.amount_minor > limit:
            left = Money(max(limit - so_far, 0), request.amount.currency)
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
        """The movements' rows and events; a bank token only for a withdrawal (one movement)."""
        sealed = [
            None if bank_token is None else self._encrypt_token(r, bank_token) for r in requests
        ]
        store.record_movements(tx.conn, self.tenant, requests, sealed)

    def _replay(self, tx: LedgerTransaction, request: WalletMovement) -> WalletMovement | None:
        row = store.stored_movement(tx.conn, self.tenant, request.request_id)
        return check_replay(request, store.movement_of(row))


#: the records live in ``wallet_records``; they are named here too for the modules that import
#: them with the service
__all__ = [
    "TopUpRequest",
    "WalletBalance",
    "WalletLimits",
    "WalletMovement",
    "Wallets",
    "bank_token_context",
    "wallet_key",
]


def _method_code(channel: str) -> str:
    """A channel's name as a risk method code (``card-acquirer`` → ``card_acquirer``)."""
    code = re.sub(r"[^a-z0-9_]", "_", channel.lower()).strip("_")[:32]
    if not code:
        return "bank_transfer"
    return code if code[0].isalpha() else f"m_{code}"[:32]
