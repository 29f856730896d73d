"""Many orders per unit of work: one ledger batch and one statement per table.

The ledger's throughput comes from batches; so does checkout's. ``pay_with_wallets`` (here)
and ``release.confirm_receipts`` take many orders, decide each with the same pure rules as the
one-order commands, post every order's legs in one ledger batch (each order's legs linked, so
an order moves all its money or none), and write the orders and events with one statement
each. Every order gets its own result: a failure is that order's error, never the batch's
(with ``atomic=True``, as the one-order commands use, any failure rolls everything back
instead). Here too: the bulk inputs and results (``OrderSpec``, ``Shipment``, ``BulkResult``),
``Bulk`` (the batch the money-moving commands share) and ``ship_many``; placing orders, which
moves no money, is ``placing``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from embedfin.commerce import orders as rules
from embedfin.commerce.orders import GoodsKind, Order, OrderLine, OrderStatus
from embedfin.commerce.store import (
    load_orders,
    save_orders,
)
from embedfin.core.clock import Clock
from embedfin.core.errors import (
    EmbedfinError,
    InsufficientFunds,
    InvalidInput,
    LedgerRejected,
    NotFound,
    RiskRefused,
)
from embedfin.core.events import Event
from embedfin.core.money import Money
from embedfin.db.outbox import append_events
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.ledger.types import BATCH_MAX, CreateTransferResult, Transfer, TransferFlags
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import (
    CODE_ORDER_PAYMENT,
    AccountCode,
    AccountKey,
    platform_account,
)
from embedfin.payments.fees import CommissionSchedule
from embedfin.payments.limits import BalanceLimits, BalancePayment
from embedfin.payments.moves import order_leg
from embedfin.payments.wallets import wallet_key
from embedfin.risk.decision import RiskContext, RiskSubject, SubjectKind
from embedfin.risk.gate import RiskGate


@dataclass(frozen=True, slots=True)
class CheckoutSettings:
    commission: CommissionSchedule = CommissionSchedule()


class Checkout(Protocol):
    """What the bulk commands use of ``payments.escrow.Checkout`` (a protocol, so this module
    need not import the one that calls it)."""

    ledger: Ledger
    tenant: str
    clock: Clock
    settings: CheckoutSettings
    risk: RiskGate
    limits: BalanceLimits


R = CreateTransferResult


@dataclass(frozen=True, slots=True)
class Shipment:
    """One order of a bulk :func:`ship_many`.

    Attributes:
        order_id: the paid order that leaves the merchant.
        tracking: the carrier's tracking reference.
    """

    order_id: str
    tracking: str


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """An order to place (see ``Checkout.place_order`` for the fields)."""

    order_id: str
    buyer_id: str
    merchant_id: str
    currency_code: str
    lines: Sequence[OrderLine]
    goods_kind: GoodsKind = GoodsKind.PHYSICAL


@dataclass(frozen=True, slots=True)
class BulkResult:
    """One order's outcome: the order after the command, or the error that refused it."""

    order_id: str
    order: Order | None = None
    error: EmbedfinError | None = None

    def unwrap(self) -> Order:
        if self.error is not None:
            raise self.error
        assert self.order is not None
        return self.order


@dataclass(slots=True)
class _Planned:
    order: Order
    legs: list[Transfer]
    events: list[tuple[str, dict[str, object]]]


class Bulk:
    """Collects per-order plans, posts their legs in one batch, writes what succeeded."""

    def __init__(self, checkout: Checkout, tx: LedgerTransaction, order_ids: Sequence[str]):
        self.checkout = checkout
        self.tx = tx
        self.results: dict[str, BulkResult] = {}
        self.plans: dict[str, _Planned] = {}
        self.keys: dict[int, AccountKey] = {}
        seen: set[str] = set()
        for order_id in order_ids:
            if order_id in seen:
                self.results.setdefault(
                    order_id, BulkResult(order_id, error=InvalidInput("order listed twice"))
                )
            seen.add(order_id)
        self.orders = load_orders(tx.conn, checkout.tenant, list(seen), for_update=True)
        for order_id in seen:
            if order_id not in self.orders:
                self.results[order_id] = BulkResult(
                    order_id, error=NotFound(f"no order {order_id}")
                )

    def done(self, order: Order) -> None:
        self.results[order.order_id] = BulkResult(order.order_id, order)

    def fail(self, order_id: str, error: EmbedfinError) -> None:
        self.results[order_id] = BulkResult(order_id, error=error)

    def plan(
        self,
        updated: Order,
        legs: list[Transfer],
        keys: list[AccountKey],
        events: list[tuple[str, dict[str, object]]],
    ) -> None:
        chain = [t._replace(flags=int(t.flags) | TransferFlags.LINKED) for t in legs[:-1]]
        self.plans[updated.order_id] = _Planned(updated, chain + legs[-1:], events)
        for key in keys:
            self.keys[key.account_id] = key

    def commit(self, insufficient: str) -> None:
        open_accounts(self.tx, list(self.keys.values()))
        order_ids = list(self.plans)
        outcome: dict[str, list[CreateTransferResult]] = {o: [] for o in order_ids}
        chunk: list[Transfer] = []
        owners: list[str] = []
        for order_id in [*order_ids, None]:
            legs = self.plans[order_id].legs if order_id is not None else []
            if chunk and (order_id is None or len(chunk) + len(legs) > BATCH_MAX):
                for owner, result in zip(owners, self.tx.create_transfers(chunk), strict=True):
                    outcome[owner].append(result)
                chunk, owners = [], []
            if order_id is not None:  # an order's linked legs never straddle two batches
                chunk += legs
                owners += [order_id] * len(legs)
        saved: list[Order] = []
        events: list[Event] = []
        now = self.checkout.clock.now_ns()
        for order_id in order_ids:
            results = outcome[order_id]
            if results and all(r is R.OK for r in results):
                plan = self.plans[order_id]
                saved.append(plan.order)
                self.done(plan.order)
                events += [
                    Event(kind, "order", order_id, payload, now, self.checkout.tenant)
                    for kind, payload in plan.events
                ]
                continue
            failing = next((r for r in results if r not in (R.OK, R.LINKED_EVENT_FAILED)), None)
            if failing is R.EXCEEDS_CREDITS:
                self.fail(order_id, InsufficientFunds(insufficient))
            else:
                self.fail(order_id, LedgerRejected(f"ledger refused the movement: {failing}"))
        save_orders(self.tx.conn, saved)
        append_events(self.tx.conn, events)

    def answer(self, order_ids: Sequence[str], atomic: bool) -> list[BulkResult]:
        """The results in request order; ``atomic`` raises the first error, rolling back all."""
        answers = [self.results[order_id] for order_id in order_ids]
        if atomic:
            for answer in answers:
                answer.unwrap()
        return answers


def pay_with_wallets(
    checkout: Checkout,
    order_ids: Sequence[str],
    *,
    atomic: bool = False,
    contexts: Mapping[str, RiskContext] | None = None,
) -> list[BulkResult]:
    """Move each order's total from its buyer's wallet into escrow, each after its risk check.

    A risk refusal is that order's error and is committed with the decision it rests on (with
    ``atomic``, nothing else moves and it is raised once the unit of work has committed)."""
    now = checkout.clock.now_ns()
    refused: list[RiskRefused] = []
    with checkout.ledger.transaction() as tx:
        bulk = Bulk(checkout, tx, order_ids)
        payable: dict[str, Order] = {}
        for order_id, order in bulk.orders.items():
            if order_id in bulk.results:
                continue
            if order.status is not OrderStatus.AWAITING_PAYMENT and order.paid_minor:
                bulk.done(order)  # a retry of a payment that went through
                continue
            try:
                payable[order_id] = rules.pay(order, now)
            except EmbedfinError as error:
                bulk.fail(order_id, error)
        subjects = [
            checkout_subject(bulk.orders[order_id], "wallet", (contexts or {}).get(order_id))
            for order_id in payable
        ]
        answers = checkout.risk.check_many(tx, subjects, holdable=True)
        allowed = []
        for (order_id, paid), answer in zip(payable.items(), answers, strict=True):
            if isinstance(answer, EmbedfinError):  # this order's, never its batch's
                bulk.fail(order_id, answer)
                continue
            if answer.refusal is not None:
                bulk.fail(order_id, answer.refusal)
                refused.append(answer.refusal)
                continue
            allowed.append((order_id, paid, answer))
        spends = {
            order_id: BalancePayment(
                paid.buyer_id, Money(paid.total_minor, paid.currency), "purchase", now
            )
            for order_id, paid, _ in allowed
        }
        limits = checkout.limits.check_many(tx, list(spends.values()))
        for (order_id, paid, answer), limit in zip(allowed, limits, strict=True):
            order = bulk.orders[order_id]
            if limit is not None:  # the buyer's verification level does not reach this far
                bulk.fail(order_id, limit)
                continue
            events = [("order_paid", order_payload(paid, paid.paid_minor))]
            if answer.hold:
                paid = rules.hold_for_review(paid)
                events = [
                    ("order_paid", order_payload(paid, paid.paid_minor)),
                    ("risk_hold_placed", {"merchant_id": paid.merchant_id}),
                ]
            wallet = wallet_key(checkout.tenant, "buyer", order.buyer_id, order.currency)
            escrow = platform_account(checkout.tenant, order.currency, AccountCode.ESCROW)
            leg = order_leg(
                checkout.tenant,
                order_id,
                "pay",
                wallet,
                escrow,
                order.total_minor,
                CODE_ORDER_PAYMENT,
            )
            bulk.plan(paid, [leg], [wallet, escrow], events)
        if atomic and refused:
            bulk.plans.clear()  # all or none: the refusals commit, no money moves
        bulk.commit(insufficient="the buyer's wallet holds less than the order total")
        checkout.risk.settle_many(
            tx,
            SubjectKind.CHECKOUT,
            [(order_id, bulk.results[order_id].error is None) for order_id in bulk.plans],
        )
        checkout.limits.count_many(
            tx,
            [spends[order_id] for order_id in bulk.plans if bulk.results[order_id].error is None],
        )
        if not (atomic and refused):
            return bulk.answer(order_ids, atomic)
    raise refused[0]


def checkout_subject(order: Order, method: str, context: RiskContext | None) -> RiskSubject:
    """The risk subject of paying ``order`` by ``method``."""
    return RiskSubject(
        SubjectKind.CHECKOUT,
        order.tenant,
        order.total_minor,
        order.currency,
        method,
        buyer_id=order.buyer_id,
        merchant_id=order.merchant_id,
        reference=order.order_id,
        context=context,
    )


def ship_many(
    checkout: Checkout, shipments: Sequence[Shipment], *, atomic: bool = False
) -> list[BulkResult]:
    """Mark many orders shipped; starts each auto-confirm clock."""
    now = checkout.clock.now_ns()
    order_ids = [shipment.order_id for shipment in shipments]
    with checkout.ledger.transaction() as tx:
        bulk = Bulk(checkout, tx, order_ids)
        saved: list[Order] = []
        events: list[Event] = []
        for shipment in shipments:
            order_id, tracking = shipment.order_id, shipment.tracking
            if order_id in bulk.results:
                continue
            order = bulk.orders[order_id]
            if order.status is OrderStatus.SHIPPED and order.tracking == tracking:
                bulk.done(order)
                continue
            try:
                shipped = rules.ship(order, tracking, now)
            except EmbedfinError as error:
                bulk.fail(order_id, error)
                continue
            saved.append(shipped)
            bulk.done(shipped)
            events.append(
                Event(
                    "shipped",
                    "order",
                    order_id,
                    {
                        "tracking": tracking,
                        "auto_confirm_at": shipped.auto_confirm_at,
                        "merchant_id": shipped.merchant_id,
                        "fulfilment_s": max(now - order.paid_at, 0) // 1_000_000_000,
                    },
                    now,
                    checkout.tenant,
                )
            )
        save_orders(tx.conn, saved)
        append_events(tx.conn, events)
        return bulk.answer(order_ids, atomic)


def order_payload(order: Order, amount_minor: int) -> dict[str, object]:
    return {
        "buyer_id": order.buyer_id,
        "merchant_id": order.merchant_id,
        "amount_minor": amount_minor,
        "currency": order.currency,
        "category": order.category,
        "status": str(order.status),
        **({"risk_hold": True} if order.risk_hold else {}),
    }
