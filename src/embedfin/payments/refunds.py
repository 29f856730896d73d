"""Refunds to the original payment method.

An order paid through a channel (card, e-wallet, …) is refunded through that channel, up to what
the channel took; the rest (the wallet share of a split tender, or anything beyond) goes back to
the buyer's wallet. An order paid from the wallet is refunded to the wallet
(``Checkout.refund``).

    1. validate and record the refund (committed before the channel is called)
    2. ask the channel to refund, with an idempotency key derived from the request
    3. on approval, in one unit of work: the ledger, the order, the record and the event

The channel's refund is booked out of escrow (before release) or the merchant's balance (after)
into the channel's clearing account while the channel still owes us that much, and out of the
client reserve beyond it (the channel has already paid the charge over and now takes it back).
A channel that cannot be reached leaves the record "started": nothing has moved, and the same
request retried later completes it exactly once. A declined refund moves nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update

from embedfin.commerce import orders as rules
from embedfin.commerce.orders import Order
from embedfin.core.errors import (
    CurrencyMismatch,
    EmbedfinError,
    IdempotencyMismatch,
    PaymentDeclined,
)
from embedfin.core.money import Money
from embedfin.db.tables import channel_refunds, payment_attempts
from embedfin.ledger.service import LedgerTransaction
from embedfin.payments.channel_checkout import ChannelPayments
from embedfin.payments.channels import ChannelError, Outcome
from embedfin.payments.chart import AccountCode, AccountKey, channel_clearing, platform_account
from embedfin.payments.requests import check_request_id
from embedfin.payments.wallets import wallet_key


class ChannelUnavailable(EmbedfinError):
    """The channel could not be reached; nothing moved. Retry the same request later."""

    code = "channel_unavailable"


class RefundsToOrigin:
    def __init__(self, payments: ChannelPayments) -> None:
        self.payments = payments
        self.checkout = payments.checkout
        self.ledger = payments.ledger
        self.tenant = payments.tenant
        self.clock = payments.clock

    def refund(self, order_id: str, amount: Money, request_id: str) -> Order:
        check_request_id(request_id)
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            record = self._record(tx, request_id)
            if record is None:
                if amount.currency != order.currency:
                    raise CurrencyMismatch(f"the order is in {order.currency}, not {amount}")
                # validates only, counting refunds recorded but not yet booked (the order row
                # is locked, so two refunds of one order cannot both pass this check)
                rules.refund(order, amount.amount_minor + self._unbooked(tx, order_id), 0)
                attempt = self._paid_by_channel(tx, order_id)
                if attempt is None:
                    via_wallet = True
                else:
                    via_wallet = False
                    record = self._start(tx, order, attempt, amount, request_id)
            else:
                via_wallet = False
                total = record["amount_minor"] + record["wallet_minor"]
                if (record["order_id"], total) != (order_id, amount.amount_minor):
                    raise IdempotencyMismatch(f"request_id {request_id!r} was another refund")
                if record["status"] == "succeeded":
                    return order
                if record["status"] == "failed":
                    raise PaymentDeclined(f"the refund was declined: {record['decline_code']}")
        if via_wallet:
            return self.checkout.refund(order_id, amount, request_id)
        assert record is not None
        channel_ref = self._ask_channel(record, request_id)
        return self._book(order_id, request_id, channel_ref)

    # --- steps ---------------------------------------------------------------------------------
    def _unbooked(self, tx: LedgerTransaction, order_id: str) -> int:
        r = channel_refunds.c
        return int(
            tx.conn.execute(
                select(func.coalesce(func.sum(r.amount_minor + r.wallet_minor), 0)).where(
                    r.tenant == self.tenant, r.order_id == order_id, r.status == "started"
                )
            ).scalar_one()
        )

    def _paid_by_channel(self, tx: LedgerTransaction, order_id: str) -> Any:
        a = payment_attempts.c
        return (
            tx.conn.execute(
                select(payment_attempts).where(
                    a.tenant == self.tenant, a.order_id == order_id, a.status == "succeeded"
                )
            )
            .mappings()
            .first()
        )

    def _start(
        self, tx: LedgerTransaction, order: Order, attempt: Any, amount: Money, request_id: str
    ) -> Any:
        r = channel_refunds.c
        already = tx.conn.execute(
            select(func.coalesce(func.sum(r.amount_minor), 0)).where(
                r.tenant == self.tenant,
                r.order_id == order.order_id,
                r.status.in_(["started", "succeeded"]),
            )
        ).scalar_one()
        to_channel = min(amount.amount_minor, attempt["amount_minor"] - int(already))
        now = self.clock.now_ns()
        values = {
            "tenant": self.tenant,
            "request_id": request_id,
            "order_id": order.order_id,
            "channel": attempt["channel"],
            "amount_minor": max(to_channel, 0),
            "wallet_minor": amount.amount_minor - max(to_channel, 0),
            "currency": order.currency,
            "status": "started",
            "created_at": now,
            "updated_at": now,
        }
        tx.conn.execute(insert(channel_refunds).values(**values))
        return values | {"charge_request": attempt["request_id"]}

    def _ask_channel(self, record: Any, request_id: str) -> str | None:
        if not record["amount_minor"]:
            return None
        channel = self.payments.router.channels[record["channel"]]
        charge_request = record.get("charge_request") or self._charge_request(record["order_id"])
        charge_key = self.payments.channel_key(charge_request, channel.name)
        amount = Money(record["amount_minor"], record["currency"])
        try:
            response = channel.refund(f"{self.tenant}:refund:{request_id}", charge_key, amount)
        except ChannelError as error:
            raise ChannelUnavailable(f"{channel.name} is unreachable; retry later") from error
        if response.outcome is Outcome.TIMEOUT:
            raise ChannelUnavailable(f"{channel.name} timed out; retry later")
        if response.outcome is not Outcome.APPROVED:
            with self.ledger.transaction() as tx:
                self._update(tx, request_id, status="failed", decline_code=response.decline_code)
            raise PaymentDeclined(f"{channel.name} declined the refund: {response.decline_code}")
        return response.channel_ref

    def _book(self, order_id: str, request_id: str, channel_ref: str | None) -> Order:
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            record = self._record(tx, request_id)
            assert record is not None
            if record["status"] == "succeeded":
                return order
            parts: list[tuple[AccountKey, int]] = []
            if record["amount_minor"]:
                parts += self._channel_destinations(tx, record)
            if record["wallet_minor"]:
                wallet = wallet_key(self.tenant, "buyer", order.buyer_id, order.currency)
                parts.append((wallet, record["wallet_minor"]))
            refunded = self.checkout.book_refund(
                tx,
                order,
                request_id,
                parts,
                {
                    "channel": record["channel"],
                    "channel_minor": record["amount_minor"],
                    "wallet_minor": record["wallet_minor"],
                },
            )
            self._update(tx, request_id, status="succeeded", channel_ref=channel_ref)
            return refunded

    def _channel_destinations(
        self, tx: LedgerTransaction, record: Any
    ) -> list[tuple[AccountKey, int]]:
        """Clearing while the channel still owes us that much, the client reserve beyond."""
        clearing = channel_clearing(self.tenant, record["channel"], record["currency"])
        reserve = platform_account(self.tenant, record["currency"], AccountCode.CLIENT_RESERVE)
        found = tx.lookup_accounts([clearing.account_id])
        owed = 0
        if found:
            a = found[0]
            owed = max(a.debits_posted - a.credits_posted - a.credits_pending, 0)
        to_clearing = min(owed, record["amount_minor"])
        return [(clearing, to_clearing), (reserve, record["amount_minor"] - to_clearing)]

    def _charge_request(self, order_id: str) -> str:
        with self.ledger.transaction() as tx:
            attempt = self._paid_by_channel(tx, order_id)
        return str(attempt["request_id"])

    def _record(self, tx: LedgerTransaction, request_id: str) -> Any:
        r = channel_refunds.c
        query = select(channel_refunds).where(r.tenant == self.tenant, r.request_id == request_id)
        row = tx.conn.execute(query.with_for_update()).mappings().first()
        return dict(row) if row is not None else None

    def _update(self, tx: LedgerTransaction, request_id: str, **values: object) -> None:
        r = channel_refunds.c
        tx.conn.execute(
            update(channel_refunds)
            .where(r.tenant == self.tenant, r.request_id == request_id)
            .values(updated_at=self.clock.now_ns(), **values)
        )
