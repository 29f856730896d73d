"""Paying an order through the aggregated channels, with failover and crash recovery.

    1. record the attempt (committed before any channel is called)
    2. for each channel the router ranks: mark "charging <channel>" (committed), charge with an
       idempotency key derived from the request and the channel; a timeout or a lost
       connection is resolved by asking the channel (``lookup``) before trying the next one
    3. on approval, in one unit of work: the ledger (channel clearing → escrow), the order
       (paid), the attempt (succeeded) and the events

A crash between 2 and 3 leaves the attempt in "charging"; ``recover`` asks the channel what
happened and books the payment exactly once, or marks the attempt failed. If the order was
paid some other way in the meantime, the channel's money is credited to the buyer's wallet
rather than lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, union, update

from embedfin.commerce import orders as rules
from embedfin.commerce.orders import Order, OrderStatus
from embedfin.commerce.store import save_order
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import (
    InvalidAmount,
    InvalidInput,
    InvalidStateTransition,
    LedgerRejected,
    PaymentDeclined,
)
from embedfin.core.money import Money
from embedfin.db.tables import payment_attempts, refunds
from embedfin.ledger.service import LedgerTransaction
from embedfin.ledger.types import AMOUNT_MAX, CreateTransferResult, Transfer, TransferFlags
from embedfin.payments.accounts import open_accounts
from embedfin.payments.channels.processors import (
    ChannelError,
    ChannelKind,
    ChannelResponse,
    Outcome,
    PaymentChannel,
)
from embedfin.payments.channels.routing import Router
from embedfin.payments.chart import (
    CODE_CHANNEL_OVERPAYMENT,
    CODE_CHANNEL_PAYMENT,
    CODE_WALLET_HOLD,
    AccountCode,
    AccountKey,
    channel_clearing,
    platform_account,
)
from embedfin.payments.escrow.bulk import checkout_subject
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.limits import BalancePayment
from embedfin.payments.moves import move, order_leg
from embedfin.payments.requests import check_request_id, transfer_id
from embedfin.payments.wallets import wallet_key
from embedfin.risk.decision import RiskContext, SubjectKind

#: A split tender's wallet hold lapses on its own if nothing posts or voids it (crash safety).
HOLD_TIMEOUT_S = 15 * 60
R = CreateTransferResult


@dataclass(frozen=True, slots=True)
class ChannelPayment:
    """The result of paying an order through a channel.

    Attributes:
        order: the order after payment.
        channel: the channel that took the money.
        tried: every channel asked, in order.
        replayed: this answers a retry of an earlier request.
    """

    order: Order
    channel: str
    tried: list[str]
    replayed: bool = False


class ChannelPayments:
    def __init__(self, checkout: Checkout, router: Router) -> None:
        self.checkout = checkout
        self.router = router
        self.tenant = checkout.tenant
        self.ledger = checkout.ledger
        self.clock = checkout.clock

    def pay_order(
        self,
        order_id: str,
        request_id: str,
        method: ChannelKind | None = None,
        payer_ref: str = "",
        wallet_part: Money | None = None,
        context: RiskContext | None = None,
    ) -> ChannelPayment:
        """Pay through the channels; with ``wallet_part``, split tender: that much comes from
        the buyer's wallet (held first, posted only if the channel approves the rest).

        The risk check runs before any channel is charged, in the unit of work that records the
        attempt: a refusal records the attempt as failed and is raised once that commits; a
        review pays and holds the order."""
        check_request_id(request_id)
        refusal = None
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            attempt = self._attempt(tx, request_id)
            if attempt is not None:
                if attempt["order_id"] != order_id:
                    raise InvalidStateTransition(f"request {request_id} paid another order")
                if attempt["status"] == "succeeded":
                    earlier = json.loads(attempt["tried"])
                    return ChannelPayment(order, attempt["channel"], earlier, replayed=True)
                if attempt["status"] == "failed":
                    raise PaymentDeclined(f"declined: {attempt['decline_code']}")
            elif order.status is not OrderStatus.AWAITING_PAYMENT:
                raise InvalidStateTransition(f"order {order_id} is {order.status}")
            else:
                now = self.clock.now_ns()
                answer = self.checkout.risk.check(
                    tx,
                    checkout_subject(order, _method_code(method), context),
                    attempt=request_id,
                    token=payer_ref or None,
                    holdable=True,
                )
                refusal = answer.refusal
                from_wallet = 0
                if refusal is None:
                    from_wallet = self._hold_wallet_part(tx, order, request_id, wallet_part)
                tx.conn.execute(
                    insert(payment_attempts).values(
                        tenant=self.tenant,
                        request_id=request_id,
                        order_id=order_id,
                        amount_minor=order.total_minor - from_wallet,
                        wallet_minor=from_wallet,
                        currency=order.currency,
                        method=str(method) if method else None,
                        status="started" if refusal is None else "failed",
                        decline_code=None if refusal is None else refusal.code,
                        tried="[]",
                        created_at=now,
                        updated_at=now,
                    )
                )
        if refusal is not None:
            raise refusal
        with self.ledger.transaction() as tx:
            attempt = self._attempt(tx, request_id)
        amount = Money(attempt["amount_minor"], order.currency)
        tried: list[str] = []
        last_decline = "no_channel_answered"
        for channel in self.router.rank(amount, method):
            tried.append(channel.name)
            self._mark(request_id, status="charging", channel=channel.name, tried=tried)
            response = self._charge(channel, request_id, amount, payer_ref)
            self.router.record(channel.name, response.outcome is Outcome.APPROVED)
            if response.outcome is Outcome.APPROVED:
                paid = self._book(request_id, channel.name, response.channel_ref)
                return ChannelPayment(paid, channel.name, tried)
            last_decline = response.decline_code or "declined"
            if not response.retriable:
                break
        self._fail(request_id, last_decline, tried)
        raise PaymentDeclined(f"payment declined ({last_decline}) after trying {tried}")

    def recover(self, older_than_s: float = 60.0) -> dict[str, int]:
        """Settle attempts left in "charging" by a crash: book what the channel approved."""
        cutoff = self.clock.now_ns() - int(older_than_s * NS_PER_SECOND)
        with self.ledger.transaction() as tx:
            stuck = tx.conn.execute(
                select(payment_attempts.c.request_id, payment_attempts.c.channel).where(
                    payment_attempts.c.tenant == self.tenant,
                    payment_attempts.c.status == "charging",
                    payment_attempts.c.updated_at <= cutoff,
                )
            ).all()
        counts = {"booked": 0, "failed": 0}
        for request_id, channel_name in stuck:
            channel = self.router.channels[channel_name]
            found = channel.lookup(self.channel_key(request_id, channel_name))
            if found is not None and found.outcome is Outcome.APPROVED:
                self._book(request_id, channel_name, found.channel_ref)
                counts["booked"] += 1
            else:
                self._fail(request_id, "not_charged")
                counts["failed"] += 1
        return counts

    # --- internals ----------------------------------------------------------------------------
    def channel_key(self, request_id: str, channel: str) -> str:
        """The idempotency key a charge of this request carries at this channel."""
        return f"{self.tenant}:{request_id}:{channel}"

    def _charge(
        self, channel: PaymentChannel, request_id: str, amount: Money, payer_ref: str
    ) -> ChannelResponse:
        key = self.channel_key(request_id, channel.name)
        try:
            response = channel.charge(key, amount, payer_ref)
        except ChannelError:
            response = ChannelResponse(Outcome.TIMEOUT)
        if response.outcome is Outcome.TIMEOUT:  # unknown: never fail over before asking
            found = channel.lookup(key)
            return found or ChannelResponse(
                Outcome.DECLINED, decline_code="timeout", retriable=True
            )
        return response

    def _book(self, request_id: str, channel: str, channel_ref: str) -> Order:
        """Book a charged attempt: pay the order into escrow, or, when it was paid meanwhile by
        other means, credit the charge to the buyer's wallet; then mark the attempt succeeded."""
        with self.ledger.transaction() as tx:
            attempt = self._attempt(tx, request_id)
            assert attempt is not None
            order = self.checkout.locked_order(tx, attempt["order_id"])
            if attempt["status"] == "succeeded":
                return order
            clearing = channel_clearing(self.tenant, channel, order.currency)
            now = self.clock.now_ns()
            if order.status is OrderStatus.AWAITING_PAYMENT:
                order = self._pay_into_escrow(
                    tx, order, attempt, request_id, channel, clearing, now
                )
                order = self._hold_if_reviewed(tx, order, attempt, request_id)
                if attempt["wallet_minor"]:  # the wallet's share was a balance payment
                    part = Money(attempt["wallet_minor"], order.currency)
                    spend = BalancePayment(order.buyer_id, part, "purchase", now)
                    self.checkout.limits.count_many(tx, [spend])
            else:  # paid meanwhile by other means: the buyer keeps the money in the wallet
                self._credit_overpayment(tx, order, attempt, request_id, channel, clearing)
            self._update(
                tx, request_id, status="succeeded", channel=channel, channel_ref=channel_ref
            )
            return order

    def _hold_if_reviewed(
        self, tx: LedgerTransaction, order: Order, attempt: Any, request_id: str
    ) -> Order:
        """Settle the attempt's risk decision; a review holds the order it paid."""
        risk = self.checkout.risk
        answer = risk.check(
            tx,
            checkout_subject(order, attempt["method"] or "card", None),
            attempt=request_id,
            holdable=True,
        )
        risk.settle(tx, SubjectKind.CHECKOUT, order.order_id, succeeded=True, attempt=request_id)
        return self.checkout.hold_for_review(tx, order) if answer.hold else order

    def _pay_into_escrow(
        self,
        tx: LedgerTransaction,
        order: Order,
        attempt: Any,
        request_id: str,
        channel: str,
        clearing: AccountKey,
        now: int,
    ) -> Order:
        """Move the channel's charge (and any held wallet share) into escrow; the order is paid."""
        escrow = platform_account(self.tenant, order.currency, AccountCode.ESCROW)
        open_accounts(tx, [clearing, escrow])
        legs = [
            order_leg(
                self.tenant,
                order.order_id,
                "channel_pay",
                clearing,
                escrow,
                attempt["amount_minor"],
                CODE_CHANNEL_PAYMENT,
            )
        ]
        if attempt["wallet_minor"]:
            legs.insert(0, self._finish_hold(order, request_id, post=True))
        move(tx, legs, insufficient="the wallet hold is gone")
        order = rules.pay(order, now)
        save_order(tx.conn, order)
        self.checkout.emit(
            tx,
            "order_paid",
            "order",
            order.order_id,
            {
                "amount_minor": order.paid_minor,
                "currency": order.currency,
                "channel": channel,
                "buyer_id": order.buyer_id,
                "merchant_id": order.merchant_id,
            },
        )
        return order

    def _credit_overpayment(
        self,
        tx: LedgerTransaction,
        order: Order,
        attempt: Any,
        request_id: str,
        channel: str,
        clearing: AccountKey,
    ) -> None:
        """Credit a charge for an order already paid to the buyer's wallet."""
        wallet = wallet_key(self.tenant, "buyer", order.buyer_id, order.currency)
        open_accounts(tx, [clearing, wallet])
        move(
            tx,
            [
                order_leg(
                    self.tenant,
                    order.order_id,
                    f"overpay:{request_id}",
                    clearing,
                    wallet,
                    attempt["amount_minor"],
                    CODE_CHANNEL_OVERPAYMENT,
                )
            ],
            insufficient="unreachable: clearing is not limited",
        )
        self.checkout.emit(
            tx,
            "overpayment_credited",
            "order",
            order.order_id,
            {
                "amount_minor": attempt["amount_minor"],
                "currency": order.currency,
                "channel": channel,
                "buyer_id": order.buyer_id,
            },
        )

    def _hold_wallet_part(
        self, tx: LedgerTransaction, order: Order, request_id: str, part: Money | None
    ) -> int:
        """Reserve the wallet's share of a split tender as a pending transfer into escrow."""
        if part is None:
            return 0
        if part.currency != order.currency:
            raise InvalidInput(f"the order is in {order.currency}, not {part.currency}")
        if not 0 < part.amount_minor < order.total_minor:
            raise InvalidAmount("the wallet part must be positive and less than the total")
        spend = BalancePayment(order.buyer_id, part, "purchase", self.clock.now_ns())
        (limit,) = self.checkout.limits.check_many(tx, [spend])
        if limit is not None:  # the buyer's verification level does not reach this far
            raise limit
        wallet = wallet_key(self.tenant, "buyer", order.buyer_id, order.currency)
        escrow = platform_account(self.tenant, order.currency, AccountCode.ESCROW)
        open_accounts(tx, [wallet, escrow])
        hold = order_leg(
            self.tenant,
            order.order_id,
            f"hold:{request_id}",
            wallet,
            escrow,
            part.amount_minor,
            CODE_WALLET_HOLD,
        )
        hold = hold._replace(flags=TransferFlags.PENDING, timeout=HOLD_TIMEOUT_S)
        move(tx, [hold], insufficient=f"the buyer's wallet holds less than {part}")
        return part.amount_minor

    def _finish_hold(self, order: Order, request_id: str, *, post: bool) -> Transfer:
        pending = transfer_id(self.tenant, f"order:{order.order_id}", f"hold:{request_id}")
        step = "hold_post" if post else "hold_void"
        flags = TransferFlags.POST_PENDING_TRANSFER if post else TransferFlags.VOID_PENDING_TRANSFER
        return Transfer(
            transfer_id(self.tenant, f"order:{order.order_id}", f"{step}:{request_id}"),
            0,
            0,
            AMOUNT_MAX if post else 0,
            0,
            0,
            flags,
            pending_id=pending,
        )

    def _fail(self, request_id: str, decline_code: str, tried: list[str] | None = None) -> None:
        """Mark the attempt failed and release any wallet hold, in one unit of work."""
        with self.ledger.transaction() as tx:
            attempt = self._attempt(tx, request_id)
            if attempt["wallet_minor"]:
                order = self.checkout.locked_order(tx, attempt["order_id"])
                (result,) = tx.create_transfers([self._finish_hold(order, request_id, post=False)])
                if result not in (R.OK, R.EXISTS, R.PENDING_TRANSFER_EXPIRED):
                    raise LedgerRejected(f"could not release the wallet hold: {result}")
            self.checkout.risk.settle(
                tx, SubjectKind.CHECKOUT, attempt["order_id"], succeeded=False, attempt=request_id
            )
            values: dict[str, object] = {"status": "failed", "decline_code": decline_code}
            if tried is not None:
                values["tried"] = tried
            self._update(tx, request_id, **values)

    def _attempt(self, tx: LedgerTransaction, request_id: str) -> Any:
        query = select(payment_attempts).where(
            payment_attempts.c.tenant == self.tenant,
            payment_attempts.c.request_id == request_id,
        )
        return tx.conn.execute(query.with_for_update()).mappings().first()

    def _mark(self, request_id: str, **values: object) -> None:
        with self.ledger.transaction() as tx:
            self._update(tx, request_id, **values)

    def _update(self, tx: LedgerTransaction, request_id: str, **values: object) -> None:
        if "tried" in values:
            values["tried"] = json.dumps(values["tried"])
        tx.conn.execute(
            update(payment_attempts)
            .where(
                payment_attempts.c.tenant == self.tenant,
                payment_attempts.c.request_id == request_id,
            )
            .values(updated_at=self.clock.now_ns(), **values)
        )


def _method_code(method: ChannelKind | None) -> str:
    """The risk subject's payment method: the channel kind asked for, or ``card``."""
    return str(method).lower() if method else "card"


def unfinished_channel_work(conn: Connection, cutoff_ns: int) -> list[str]:
    """Tenants with channel payments still "charging" or channel refunds still "started" since
    before the cut-off (a process died between the channel's answer and the booking)."""
    a, r = payment_attempts.c, refunds.c
    charging = select(a.tenant).where(a.status == "charging", a.updated_at <= cutoff_ns)
    refunding = select(r.tenant).where(
        r.status == "started", r.channel_minor > 0, r.updated_at <= cutoff_ns
    )
    return sorted({t for (t,) in conn.execute(union(charging, refunding)).all()})
