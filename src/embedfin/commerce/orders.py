"""Orders as a state machine (pure): allowed transitions, totals, auto-confirm deadlines.

    awaiting_payment ──pay──▶ paid ──ship──▶ shipped ──confirm / auto-confirm──▶ completed
          │                    │                │
          └──cancel──▶ closed ◀┴──cancel/refund─┘ (full refund before release)

A dispute or an open refund request freezes an order: no release, and the auto-confirm clock
stops; the time left is kept and resumes when the freeze ends (Taobao/Alipay escrow rules).
A fraud review puts a risk hold on a paid order: it cannot be shipped, confirmed or released
until the case is decided (the hold lifted, or the order refunded); it can still be refunded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import StrEnum

from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import InvalidAmount, InvalidInput, InvalidStateTransition
from embedfin.core.money import MAX_AMOUNT_MINOR

DAY_NS = 86_400 * NS_PER_SECOND


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CLOSED = "closed"


class GoodsKind(StrEnum):
    """Decides the auto-confirm period after shipment."""

    PHYSICAL = "physical"
    VIRTUAL = "virtual"
    AUTO_DELIVERED = "auto_delivered"


#: Auto-confirm after shipment (Taobao rules): 10 days express, 3 days virtual, 24 h automatic.
AUTO_CONFIRM_NS = {
    GoodsKind.PHYSICAL: 10 * DAY_NS,
    GoodsKind.VIRTUAL: 3 * DAY_NS,
    GoodsKind.AUTO_DELIVERED: 1 * DAY_NS,
}

_ALLOWED = {
    ("pay", OrderStatus.AWAITING_PAYMENT): OrderStatus.PAID,
    ("ship", OrderStatus.PAID): OrderStatus.SHIPPED,
    ("confirm", OrderStatus.SHIPPED): OrderStatus.COMPLETED,
    ("cancel", OrderStatus.AWAITING_PAYMENT): OrderStatus.CLOSED,
    ("cancel", OrderStatus.PAID): OrderStatus.CLOSED,
}


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price_minor: int

    def __post_init__(self) -> None:
        if not self.sku or len(self.sku) > 64:
            raise InvalidInput("sku must be 1-64 characters")
        if not 0 < self.quantity <= 10_000:
            raise InvalidInput("quantity must be between 1 and 10,000")
        if not 0 <= self.unit_price_minor <= MAX_AMOUNT_MINOR:
            raise InvalidAmount("unit price must be non-negative and storable")


@dataclass(frozen=True, slots=True)
class Order:
    """An order and where its money stands.

    Attributes:
        tenant, order_id, buyer_id, merchant_id: who.
        currency: ISO 4217 code of every amount here.
        total_minor: what the buyer pays.
        category: merchant category (decides the commission rate).
        goods_kind: decides the auto-confirm period.
        status: see ``OrderStatus``.
        paid_minor, refunded_minor, released_minor, commission_minor: money so far.
        frozen: a dispute or a refund request is open.
        risk_hold: a fraud review holds the paid order: not shippable, not releasable, until a
            person decides its case (released, or refunded to where it was paid from).
        auto_confirm_at: when a shipped, unfrozen order is confirmed automatically (ns).
        auto_confirm_left_ns: time left on the clock while frozen.
        placed_at ... closed_at: nanosecond timestamps (0 = not yet).
    """

    tenant: str
    order_id: str
    buyer_id: str
    merchant_id: str
    currency: str
    total_minor: int
    category: str
    goods_kind: GoodsKind
    status: OrderStatus = OrderStatus.AWAITING_PAYMENT
    paid_minor: int = 0
    refunded_minor: int = 0
    released_minor: int = 0
    commission_minor: int = 0
    frozen: bool = False
    risk_hold: bool = False
    auto_confirm_at: int = 0
    auto_confirm_left_ns: int = 0
    tracking: str = ""
    placed_at: int = 0
    paid_at: int = 0
    shipped_at: int = 0
    completed_at: int = 0
    closed_at: int = 0

    @property
    def held_minor(self) -> int:
        """Money in escrow for this order now."""
        if self.status is OrderStatus.COMPLETED:
            return 0
        return self.paid_minor - self.refunded_minor


_FIELDS = tuple(f.name for f in fields(Order))


def replace(order: Order, **changes: object) -> Order:
    """``dataclasses.replace`` for orders, without its per-call field introspection (it runs
    several times per order and command in the bulk paths)."""
    values = {name: getattr(order, name) for name in _FIELDS}
    values.update(changes)
    return Order(**values)


def order_total(lines: Sequence[OrderLine]) -> int:
    if not lines:
        raise InvalidInput("an order needs at least one line")
    total = sum(line.quantity * line.unit_price_minor for line in lines)
    if not 0 < total <= MAX_AMOUNT_MINOR:
        raise InvalidAmount("order total must be positive and storable")
    return total


def _move(order: Order, action: str) -> OrderStatus:
    target = _ALLOWED.get((action, order.status))
    if target is None:
        raise InvalidStateTransition(f"cannot {action} an order that is {order.status}")
    return target


def pay(order: Order, now: int) -> Order:
    return replace(order, status=_move(order, "pay"), paid_minor=order.total_minor, paid_at=now)


def _not_held(order: Order, action: str) -> None:
    if order.risk_hold:
        raise InvalidStateTransition(
            f"cannot {action} order {order.order_id}: it is held for a fraud review"
        )


def ship(order: Order, tracking: str, now: int) -> Order:
    if not tracking or len(tracking) > 64:
        raise InvalidInput("tracking must be 1-64 characters")
    _not_held(order, "ship")
    status = _move(order, "ship")
    period = AUTO_CONFIRM_NS[order.goods_kind]
    if order.frozen:
        return replace(
            order, status=status, tracking=tracking, shipped_at=now, auto_confirm_left_ns=period
        )
    return replace(
        order, status=status, tracking=tracking, shipped_at=now, auto_confirm_at=now + period
    )


def confirm(order: Order, now: int) -> Order:
    _not_held(order, "confirm")
    if order.frozen:
        raise InvalidStateTransition("a dispute or refund request is open on this order")
    return replace(order, status=_move(order, "confirm"), completed_at=now, auto_confirm_at=0)


def cancel(order: Order, now: int) -> Order:
    if order.frozen:
        raise InvalidStateTransition("a dispute or refund request is open on this order")
    return replace(order, status=_move(order, "cancel"), closed_at=now, risk_hold=False)


def freeze(order: Order, now: int) -> Order:
    """A dispute or refund request opens: stop the auto-confirm clock, keep the time left."""
    if order.status not in (OrderStatus.PAID, OrderStatus.SHIPPED):
        raise InvalidStateTransition(f"cannot dispute an order that is {order.status}")
    if order.frozen:
        return order
    left = max(order.auto_confirm_at - now, 0) if order.auto_confirm_at else 0
    return replace(order, frozen=True, auto_confirm_at=0, auto_confirm_left_ns=left)


def unfreeze(order: Order, now: int) -> Order:
    if not order.frozen:
        raise InvalidStateTransition("nothing is open on this order")
    resume = now + order.auto_confirm_left_ns if order.status is OrderStatus.SHIPPED else 0
    return replace(order, frozen=False, auto_confirm_at=resume, auto_confirm_left_ns=0)


def hold_for_review(order: Order) -> Order:
    """A fraud review holds a paid order (see the module docstring)."""
    if order.status is not OrderStatus.PAID:
        raise InvalidStateTransition(
            f"only a paid order can be held, not one that is {order.status}"
        )
    return order if order.risk_hold else replace(order, risk_hold=True)


def lift_hold(order: Order) -> Order:
    """The review cleared the order: it can be shipped and released again."""
    if not order.risk_hold:
        raise InvalidStateTransition(f"order {order.order_id} is not held")
    return replace(order, risk_hold=False)


def extend_auto_confirm(order: Order, extra_ns: int) -> Order:
    """The seller may give the buyer more time before auto-confirmation."""
    if order.status is not OrderStatus.SHIPPED or extra_ns <= 0:
        raise InvalidStateTransition("only a shipped order's deadline can be extended")
    _not_held(order, "extend")
    if order.frozen:
        return replace(order, auto_confirm_left_ns=order.auto_confirm_left_ns + extra_ns)
    return replace(order, auto_confirm_at=order.auto_confirm_at + extra_ns)


def refund(order: Order, amount_minor: int, now: int) -> Order:
    """Record a refund of ``amount_minor``; a full refund before release closes the order."""
    if amount_minor <= 0:
        raise InvalidAmount("refund amount must be positive")
    if order.status not in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        raise InvalidStateTransition(f"cannot refund an order that is {order.status}")
    refundable = order.paid_minor - order.refunded_minor
    if amount_minor > refundable:
        raise InvalidAmount(f"at most {refundable} minor units can still be refunded")
    refunded = order.refunded_minor + amount_minor
    if refunded == order.paid_minor and order.status is not OrderStatus.COMPLETED:
        return replace(
            order,
            refunded_minor=refunded,
            status=OrderStatus.CLOSED,
            closed_at=now,
            frozen=False,
            risk_hold=False,
            auto_confirm_at=0,
        )
    return replace(order, refunded_minor=refunded)
