"""The one way money goes back to a buyer: refunds, cancels, disputes resolved for the buyer,
returns received and chargebacks all run through ``Refunds``, which routes each refund by how
the order was paid (``refunds/policy.py`` has the rules).

    1. validate, split over the order's sources, record the refund (``refunds``, one row per
       request); a refund with no channel share is booked in this same unit of work
    2. a channel share: commit, then ask the channel to refund (idempotency key from the request)
    3. on approval, in one unit of work: the ledger, the loan, the order, the record, the event

Each destination gets its share: the loan's funder (through ``Financing``, which lending
implements), the channel (its clearing account while it still owes us that much, the client
reserve beyond: it has paid the charge over and now takes it back), the buyer's wallet. Before
release the money comes out of escrow; after it, out of the merchant's balances and the
commission the platform took on the refunded share.

A channel that cannot be reached leaves the record "started": nothing has moved, and the same
request retried completes it exactly once. A declined refund moves nothing. A chargeback is a
channel share the channel has already taken back: it is booked at once, without asking.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from embedfin.commerce import orders as rules
from embedfin.commerce.orders import Order, OrderStatus
from embedfin.commerce.store import save_order
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import (
    CurrencyMismatch,
    EmbedfinError,
    IdempotencyMismatch,
    InvalidAmount,
    InvalidInput,
    InvalidStateTransition,
    PaymentDeclined,
)
from embedfin.core.money import Money
from embedfin.db.tables import payment_attempts, refunds
from embedfin.ledger.service import LedgerTransaction
from embedfin.payments.accounts import open_accounts
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import ChannelError, Outcome
from embedfin.payments.chart import AccountCode, platform_account
from embedfin.payments.escrow.bulk import order_payload
from embedfin.payments.moves import move, order_leg
from embedfin.payments.refunds import routing
from embedfin.payments.refunds.financing import FinancedLoan, Financing
from embedfin.payments.refunds.policy import pair, split_refund
from embedfin.payments.requests import check_request_id

REASONS = ("refund", "cancel", "dispute", "return", "chargeback")


class ChannelUnavailable(EmbedfinError):
    """The channel could not be reached; nothing moved. Retry the same request later."""

    code = "channel_unavailable"


class Refunds:
    """Every refund of one tenant's orders, to where the money came from."""

    def __init__(self, payments: ChannelPayments, financing: Financing | None = None) -> None:
        self.payments = payments
        self.checkout = payments.checkout
        self.ledger = payments.ledger
        self.tenant = payments.tenant
        self.clock = payments.clock
        self.financing = financing

    # --- commands ------------------------------------------------------------------------------
    def refund(self, order_id: str, amount: Money, request_id: str) -> Order:
        """Refund part or all of an order (before or after release)."""
        return self._give_back(order_id, request_id, "refund", amount)

    def cancel(self, order_id: str) -> Order:
        """Cancel before shipment; a paid order's money goes back to where it came from."""
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            if order.status is OrderStatus.CLOSED:
                return order
            now = self.clock.now_ns()
            cancelled = rules.cancel(order, now)  # refuses a shipped, completed or frozen order
            if not order.held_minor:
                save_order(tx.conn, cancelled)
                self._emit(tx, "order_cancelled", order, order_payload(cancelled, 0))
                return cancelled
        return self._give_back(order_id, f"cancel:{order_id}", "cancel", None)

    def resolve_dispute(self, order_id: str, outcome: str) -> Order:
        """``release`` pays the merchant now; ``refund`` returns what escrow holds."""
        if outcome not in ("release", "refund"):
            raise InvalidInput("outcome must be release or refund")
        if outcome == "release":
            return self.checkout.release_disputed(order_id)
        return self._give_back(order_id, f"dispute:{order_id}", "dispute", None)

    def refund_return(self, order_id: str) -> Order:
        """Returned goods received: refund all that is still paid (after-sales calls this)."""
        return self._give_back(order_id, f"return:{order_id}", "return", None)

    def chargeback(self, order_id: str, amount: Money, request_id: str) -> Order:
        """The channel has taken ``amount`` of a card payment back (the buyer disputed it with
        the issuer): book it against the order, as a refund through that channel."""
        return self._give_back(order_id, request_id, "chargeback", amount)

    def recover(self, older_than_s: float = 60.0) -> dict[str, int]:
        """Finish channel refunds a crash left "started": ask the channel again under the same
        key (it answers what it did, or does it now: the refund was validated and recorded) and
        book the answer."""
        r = refunds.c
        cutoff = self.clock.now_ns() - int(older_than_s * NS_PER_SECOND)
        with self.ledger.current() as conn:
            stuck = conn.execute(
                select(r.order_id, r.request_id, r.reason, r.amount_minor, r.currency).where(
                    r.tenant == self.tenant,
                    r.status == "started",
                    r.channel_minor > 0,
                    r.updated_at <= cutoff,
                )
            ).all()
        counts = {"refunds_booked": 0, "refunds_failed": 0, "refunds_pending": 0}
        for order_id, request_id, reason, minor, code in stuck:
            amount = Money(minor, code) if reason in ("refund", "chargeback") else None
            try:
                self._give_back(order_id, request_id, reason, amount)
                counts["refunds_booked"] += 1
            except ChannelUnavailable:
                counts["refunds_pending"] += 1
            except PaymentDeclined:
                counts["refunds_failed"] += 1
        return counts

    # --- the flow ------------------------------------------------------------------------------
    def _give_back(
        self, order_id: str, request_id: str, reason: str, amount: Money | None
    ) -> Order:
        check_request_id(request_id)
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            record = self._record(tx, request_id)
            if record is None:
                record = self._start(tx, order, request_id, reason, amount)
                if not record["channel_minor"] or reason == "chargeback":
                    return self._book_locked(tx, order, record, None)
            else:
                _same_request(record, order_id, reason, amount)
                if record["status"] == "succeeded":
                    return order
                if record["status"] == "failed":
                    raise PaymentDeclined(f"the refund was declined: {record['decline_code']}")
        channel_ref = self._ask_channel(record, request_id)
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            record = self._record(tx, request_id)
            assert record is not None
            if record["status"] == "succeeded":
                return order
            return self._book_locked(tx, order, record, channel_ref)

    def _start(
        self,
        tx: LedgerTransaction,
        order: Order,
        request_id: str,
        reason: str,
        amount: Money | None,
    ) -> dict[str, Any]:
        """Validate and split a new refund; record it as started."""
        if amount is not None and amount.currency != order.currency:
            raise CurrencyMismatch(f"the order is in {order.currency}, not {amount}")
        _check_reason(order, reason)
        so_far = routing.refunded(tx, self.tenant, order.order_id)
        amount_minor = (
            amount.amount_minor if amount is not None else order.paid_minor - so_far.total_minor
        )
        # the order's own rules (state, what is left), counting refunds still under way
        rules.refund(order, amount_minor + so_far.total_minor - order.refunded_minor, 0)
        loan = self.financing.loan_of_order(tx, order.order_id) if self.financing else None
        funding = routing.funding(tx, self.tenant, order, loan is not None)
        split = split_refund(
            amount_minor,
            funding,
            so_far,
            loan.principal_outstanding_minor if loan is not None else 0,
        )
        if reason == "chargeback" and split.channel_minor != amount_minor:
            raise InvalidAmount("a chargeback takes back at most what the channel charged")
        now = self.clock.now_ns()
        values: dict[str, Any] = {
            "tenant": self.tenant,
            "request_id": request_id,
            "order_id": order.order_id,
            "reason": reason,
            "currency": order.currency,
            "amount_minor": split.total_minor,
            "loan_minor": split.loan_minor,
            "channel_minor": split.channel_minor,
            "wallet_minor": split.wallet_minor,
            "channel": funding.channel if split.channel_minor else None,
            "loan_id": loan.loan_id if loan is not None else None,
            "status": "started",
            "after_release": 0,
            "channel_ref": None,
            "decline_code": None,
            "created_at": now,
            "updated_at": now,
        }
        tx.conn.execute(insert(refunds).values(**values))
        return values

    def _book_locked(
        self, tx: LedgerTransaction, order: Order, record: dict[str, Any], channel_ref: str | None
    ) -> Order:
        """Move the money of a recorded refund, update the order, the loan and the record.

        Steps: move the money from escrow (before release) or the merchant's balances and the
        commission (after it) to the destinations, pay down the loan, then update the order and
        the record and emit the event (:meth:`_complete`).
        """
        loan = None
        if record["loan_minor"]:
            assert self.financing is not None
            loan = self.financing.loan_of_order(tx, order.order_id)
            assert loan is not None
        after_release = self._move_money(tx, order, record, loan)
        if loan is not None:
            assert self.financing is not None
            self.financing.apply_refund(tx, loan, record["loan_minor"], record["request_id"])
        return self._complete(tx, order, record, channel_ref, after_release)

    def _move_money(
        self,
        tx: LedgerTransaction,
        order: Order,
        record: dict[str, Any],
        loan: FinancedLoan | None,
    ) -> bool:
        """Book the refund's legs, paired source by destination; True when after release."""
        request_id, amount = record["request_id"], record["amount_minor"]
        loan_account = loan.funds_held if loan is not None else None
        destinations = routing.destinations(tx, self.tenant, order, record, loan_account)
        after_release = order.status is OrderStatus.COMPLETED
        if after_release:
            sources, extra = routing.after_release_sources(tx, self.tenant, order, amount)
        else:
            sources, extra = (
                [(platform_account(self.tenant, order.currency, AccountCode.ESCROW), amount)],
                [],
            )
        legs = [
            order_leg(
                self.tenant,
                order.order_id,
                f"refund:{request_id}" + (f":{n}" if n else ""),
                source,
                destination,
                minor,
                routing.source_code(source),
            )
            for n, (source, destination, minor) in enumerate(pair(sources, destinations))
        ]
        open_accounts(tx, [key for key, _ in sources] + [key for key, _ in destinations])
        move(tx, legs + extra, insufficient="escrow holds less than the refund")
        return after_release

    def _complete(
        self,
        tx: LedgerTransaction,
        order: Order,
        record: dict[str, Any],
        channel_ref: str | None,
        after_release: bool,
    ) -> Order:
        """Resolve a dispute, mark the order refunded and the record succeeded, emit the event."""
        request_id, amount = record["request_id"], record["amount_minor"]
        now = self.clock.now_ns()
        if record["reason"] == "dispute":
            order = rules.unfreeze(order, now)
            self._emit(tx, "dispute_resolved", order, {"outcome": "refund"})
        refunded = rules.refund(order, amount, now)
        save_order(tx.conn, refunded)
        self._update(
            tx,
            request_id,
            status="succeeded",
            after_release=int(after_release),
            channel_ref=channel_ref,
        )
        payload = order_payload(refunded, amount) | {
            "after_release": after_release,
            "request_id": request_id,
            "reason": record["reason"],
            "loan_minor": record["loan_minor"],
            "channel": record["channel"],
            "channel_minor": record["channel_minor"],
            "wallet_minor": record["wallet_minor"],
        }
        if record["loan_id"]:
            payload["loan_id"] = record["loan_id"]
        kind = "order_cancelled" if record["reason"] == "cancel" else "refunded"
        self._emit(tx, kind, refunded, payload)
        return refunded

    # --- the channel ---------------------------------------------------------------------------
    def _ask_channel(self, record: dict[str, Any], request_id: str) -> str | None:
        channel = self.payments.router.channels[record["channel"]]
        charge_key = self.payments.channel_key(self._charge_request(record), channel.name)
        amount = Money(record["channel_minor"], record["currency"])
        try:
            response = channel.refund(f"{self.tenant}:refund:{request_id}", charge_key, amount)
        except ChannelError as error:
            raise ChannelUnavailable(f"{channel.name} is unreachable; retry later") from error
        if response.outcome is Outcome.TIMEOUT:
            raise ChannelUnavailable(f"{channel.name} timed out; retry later")
        if response.outcome is not Outcome.APPROVED:
            with self.ledger.transaction() as tx:
                now = self._record(tx, request_id)
                if now is not None and now["status"] == "succeeded":
                    # booked meanwhile on the channel's approval: that refund stands, and a
                    # request whose money went back is never answered as declined
                    return str(now["channel_ref"] or "")
                self._update(tx, request_id, status="failed", decline_code=response.decline_code)
            raise PaymentDeclined(f"{channel.name} declined the refund: {response.decline_code}")
        return response.channel_ref

    def _charge_request(self, record: dict[str, Any]) -> str:
        a = payment_attempts.c
        with self.ledger.current() as conn:
            found = conn.execute(
                select(a.request_id).where(
                    a.tenant == self.tenant,
                    a.order_id == record["order_id"],
                    a.status == "succeeded",
                )
            ).scalar_one()
        return str(found)

    # --- storage -------------------------------------------------------------------------------
    def _record(self, tx: LedgerTransaction, request_id: str) -> dict[str, Any] | None:
        r = refunds.c
        query = select(refunds).where(r.tenant == self.tenant, r.request_id == request_id)
        row = tx.conn.execute(query.with_for_update()).mappings().first()
        return dict(row) if row is not None else None

    def _update(self, tx: LedgerTransaction, request_id: str, **values: object) -> None:
        r = refunds.c
        tx.conn.execute(
            update(refunds)
            .where(r.tenant == self.tenant, r.request_id == request_id)
            .values(updated_at=self.clock.now_ns(), **values)
        )

    def _emit(
        self, tx: LedgerTransaction, kind: str, order: Order, payload: dict[str, object]
    ) -> None:
        tx.emit(self.tenant, kind, "order", order.order_id, payload)


def _check_reason(order: Order, reason: str) -> None:
    if reason not in REASONS:
        raise InvalidInput(f"a refund's reason is one of {', '.join(REASONS)}")
    if reason == "cancel":
        rules.cancel(order, 0)  # validates only: not shipped, not frozen
    if reason == "dispute" and not order.frozen:
        raise InvalidStateTransition("no dispute is open on this order")


def _same_request(record: dict[str, Any], order_id: str, reason: str, amount: Money | None) -> None:
    same = record["order_id"] == order_id and record["reason"] == reason
    if amount is not None:
        same = same and record["amount_minor"] == amount.amount_minor
    if not same:
        raise IdempotencyMismatch(f"request_id {record['request_id']!r} was another refund")
