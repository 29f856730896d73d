"""After the sale: delivery confirmation, returns and reviews.

* ``mark_delivered`` — the carrier confirms delivery of a shipped order (``delivered``).
* **Returns** — the buyer asks to return a shipped order (escrow frozen: nothing is released, the
  auto-confirm clock stops) or a completed one within ``return_days`` of completion; the merchant
  either receives the goods back (what is still paid is refunded through the one refund path,
  ``payments/refunds/service.py``, to where it came from) or rejects the return (the clock resumes).
* **Reviews** — one per completed order, rating 1-5 (``review_posted``): the merchant ratings
  credit and risk read.

Every command validates first, runs in one unit of work with its events, and changes nothing on
failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from embedfin.commerce import orders as rules
from embedfin.commerce.orders import DAY_NS, Order, OrderStatus
from embedfin.commerce.store import save_order
from embedfin.core.errors import IdempotencyMismatch, InvalidInput, InvalidStateTransition
from embedfin.db.tables import order_deliveries, order_returns, reviews
from embedfin.payments.refunds.service import Refunds
from embedfin.payments.requests import check_name


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    order_id: str
    status: str  # requested, received, rejected
    reason: str


class AfterSales:
    def __init__(self, refunds: Refunds, return_days: int = 7) -> None:
        self.refunds = refunds
        self.checkout = refunds.checkout
        self.ledger = refunds.ledger
        self.tenant = refunds.tenant
        self.clock = refunds.clock
        self.return_days = return_days

    def mark_delivered(self, order_id: str) -> Order:
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            known = tx.conn.execute(
                select(order_deliveries.c.delivered_at).where(
                    order_deliveries.c.tenant == self.tenant,
                    order_deliveries.c.order_id == order_id,
                )
            ).first()
            if known is not None:
                return order
            if (
                order.status is not OrderStatus.SHIPPED
                and order.status is not OrderStatus.COMPLETED
            ):
                raise InvalidStateTransition(f"order {order_id} is {order.status}, not shipped")
            now = self.clock.now_ns()
            tx.conn.execute(
                insert(order_deliveries).values(
                    tenant=self.tenant, order_id=order_id, delivered_at=now
                )
            )
            self.checkout.emit(
                tx,
                "delivered",
                "order",
                order_id,
                {"buyer_id": order.buyer_id, "merchant_id": order.merchant_id},
            )
            return order

    def request_return(self, order_id: str, reason: str) -> ReturnRequest:
        check_name("reason", reason, 200)
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            existing = self._return(tx.conn, order_id)
            if existing is not None:
                if existing.reason != reason:
                    raise IdempotencyMismatch(f"order {order_id} has another return request")
                return existing
            now = self.clock.now_ns()
            if order.status is OrderStatus.SHIPPED:
                save_order(tx.conn, rules.freeze(order, now))
            elif order.status is OrderStatus.COMPLETED:
                if now - order.completed_at > self.return_days * DAY_NS:
                    raise InvalidStateTransition(
                        f"returns close {self.return_days} days after completion"
                    )
            else:
                raise InvalidStateTransition(f"order {order_id} is {order.status}")
            tx.conn.execute(
                insert(order_returns).values(
                    tenant=self.tenant,
                    order_id=order_id,
                    status="requested",
                    reason=reason,
                    requested_at=now,
                )
            )
            self.checkout.emit(
                tx,
                "return_requested",
                "order",
                order_id,
                {"buyer_id": order.buyer_id, "merchant_id": order.merchant_id, "reason": reason},
            )
            return ReturnRequest(order_id, "requested", reason)

    def receive_return(self, order_id: str) -> Order:
        """The merchant has the goods back: refund what is still paid, close the return."""
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            request = self._open_return(tx.conn, order_id)
            if order.frozen:
                order = rules.unfreeze(order, self.clock.now_ns())
                save_order(tx.conn, order)
            outstanding = order.paid_minor - order.refunded_minor
            if outstanding > 0:
                order = self.refunds.refund_return(order_id)
            self._resolve(tx.conn, order_id, "received")
            self.checkout.emit(
                tx,
                "return_received",
                "order",
                order_id,
                {
                    "buyer_id": order.buyer_id,
                    "merchant_id": order.merchant_id,
                    "refunded_minor": outstanding,
                    "reason": request.reason,
                },
            )
            return order

    def reject_return(self, order_id: str) -> Order:
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            self._open_return(tx.conn, order_id)
            if order.frozen:
                order = rules.unfreeze(order, self.clock.now_ns())
                save_order(tx.conn, order)
            self._resolve(tx.conn, order_id, "rejected")
            self.checkout.emit(
                tx,
                "return_rejected",
                "order",
                order_id,
                {"buyer_id": order.buyer_id, "merchant_id": order.merchant_id},
            )
            return order

    def post_review(self, order_id: str, rating: int, text: str = "") -> None:
        if not 1 <= rating <= 5:
            raise InvalidInput("a rating is 1 to 5")
        if len(text) > 2_000:
            raise InvalidInput("a review is at most 2,000 characters")
        with self.ledger.transaction() as tx:
            order = self.checkout.locked_order(tx, order_id)
            if order.status is not OrderStatus.COMPLETED:
                raise InvalidStateTransition("only a completed order can be reviewed")
            known = tx.conn.execute(
                select(reviews.c.rating).where(
                    reviews.c.tenant == self.tenant, reviews.c.order_id == order_id
                )
            ).first()
            if known is not None:
                if known.rating != rating:
                    raise IdempotencyMismatch(f"order {order_id} was already reviewed")
                return
            tx.conn.execute(
                insert(reviews).values(
                    tenant=self.tenant,
                    order_id=order_id,
                    buyer_id=order.buyer_id,
                    merchant_id=order.merchant_id,
                    rating=rating,
                    text=text,
                    posted_at=self.clock.now_ns(),
                )
            )
            self.checkout.emit(
                tx,
                "review_posted",
                "order",
                order_id,
                {"buyer_id": order.buyer_id, "merchant_id": order.merchant_id, "rating": rating},
            )

    # --- internals -----------------------------------------------------------------------------
    def _return(self, conn: Connection, order_id: str) -> ReturnRequest | None:
        row = conn.execute(
            select(order_returns).where(
                order_returns.c.tenant == self.tenant, order_returns.c.order_id == order_id
            )
        ).first()
        return ReturnRequest(order_id, row.status, row.reason) if row else None

    def _open_return(self, conn: Connection, order_id: str) -> ReturnRequest:
        request = self._return(conn, order_id)
        if request is None or request.status != "requested":
            raise InvalidStateTransition(f"order {order_id} has no open return request")
        return request

    def _resolve(self, conn: Connection, order_id: str, status: str) -> None:
        conn.execute(
            update(order_returns)
            .where(order_returns.c.tenant == self.tenant, order_returns.c.order_id == order_id)
            .values(status=status, resolved_at=self.clock.now_ns())
        )
