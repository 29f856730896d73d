"""Many orders per unit of work: one ledger batch and one statement per table.

The ledger's throughput comes from batches; so does checkout's. ``pay_with_wallets`` and
``confirm_receipts`` take many orders, decide each with the same pure rules as the one-order
commands, post every order's legs in one ledger batch (each order's legs linked, so an order
moves all its money or none), and write the orders and events with one statement each. Every
order gets its own result: a failure is that order's error, never the batch's (with
``atomic=True``, as the one-order commands use, any failure rolls everything back instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Protocol

from embedfin.commerce import orders as rules
from embedfin.commerce.orders import GoodsKind, Order, OrderLine, OrderStatus, replace
from embedfin.commerce.store import (
    Merchant,
    insert_orders,
    load_lines,
    load_merchant,
    load_merchants,
    load_orders,
    save_orders,
)
from embedfin.core.clock import Clock
from embedfin.core.errors import (
    CurrencyMismatch,
    EmbedfinError,
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidInput,
    InvalidStateTransition,
    LedgerRejected,
    NotFound,
)
from embedfin.core.events import Event
from embedfin.core.money import currency
from embedfin.db.outbox import append_events
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.ledger.types import BATCH_MAX, CreateTransferResult, Transfer, TransferFlags
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import (
    CODE_COMMISSION,
    CODE_ORDER_PAYMENT,
    CODE_RELEASE,
    AccountCode,
    AccountKey,
    platform_account,
)
from embedfin.payments.fees import CommissionSchedule
from embedfin.payments.moves import order_leg, release_account
from embedfin.payments.requests import check_name
from embedfin.payments.wallets import wallet_key


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


class _Bulk:
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
    checkout: Checkout, order_ids: Sequence[str], *, atomic: bool = False
) -> list[BulkResult]:
    """Move each order's total from its buyer's wallet into escrow."""
    now = checkout.clock.now_ns()
    with checkout.ledger.transaction() as tx:
        bulk = _Bulk(checkout, tx, order_ids)
        for order_id, order in bulk.orders.items():
            if order_id in bulk.results:
                continue
            if order.status is not OrderStatus.AWAITING_PAYMENT and order.paid_minor:
                bulk.done(order)  # a retry of a payment that went through
                continue
            try:
                paid = rules.pay(order, now)
            except EmbedfinError as error:
                bulk.fail(order_id, error)
                continue
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
            bulk.plan(
                paid,
                [leg],
                [wallet, escrow],
                [("order_paid", order_payload(paid, paid.paid_minor))],
            )
        bulk.commit(insufficient="the buyer's wallet holds less than the order total")
        return bulk.answer(order_ids, atomic)


def confirm_receipts(
    checkout: Checkout,
    order_ids: Sequence[str],
    *,
    automatic: bool = False,
    atomic: bool = False,
    due_by: int | None = None,
    tx: LedgerTransaction | None = None,
) -> list[BulkResult]:
    """Release each order's escrow to its merchant minus commission.

    With ``due_by`` (automatic confirmation), an order whose deadline is not yet reached, or
    whose clock is stopped, is left alone. Pass ``tx`` to run inside a caller's unit of work.

    Steps: decide each order with the confirmation rule (:func:`_confirmed`), plan its release
    to the merchant minus commission (:func:`_plan_release`), post every order's legs in one
    batch and write what succeeded.
    """
    now = checkout.clock.now_ns()
    with _unit_of_work(checkout, tx) as tx:
        bulk = _Bulk(checkout, tx, order_ids)
        merchants: dict[str, Merchant | None] = {}
        for order_id, order in bulk.orders.items():
            if order_id in bulk.results:
                continue
            completed = _confirmed(bulk, order, due_by, now)
            if completed is None:
                continue
            if order.merchant_id not in merchants:
                merchants[order.merchant_id] = load_merchant(
                    tx.conn, checkout.tenant, order.merchant_id
                )
            merchant = merchants[order.merchant_id]
            assert merchant is not None
            _plan_release(checkout, bulk, order, completed, merchant, automatic)
        bulk.commit(insufficient="escrow holds less than this order's funds")
        return bulk.answer(order_ids, atomic)


def _confirmed(bulk: _Bulk, order: Order, due_by: int | None, now: int) -> Order | None:
    """The order confirmed now, or None when it is answered already (completed or refused)."""
    if order.status is OrderStatus.COMPLETED:
        bulk.done(order)
        return None
    if due_by is not None and not 0 < order.auto_confirm_at <= due_by:
        bulk.fail(order.order_id, InvalidStateTransition("not due for auto-confirmation"))
        return None
    try:
        return rules.confirm(order, now)
    except EmbedfinError as error:
        bulk.fail(order.order_id, error)
        return None


def _plan_release(
    checkout: Checkout,
    bulk: _Bulk,
    order: Order,
    completed: Order,
    merchant: Merchant,
    automatic: bool,
) -> None:
    """Plan the escrow's release to the merchant and the commission to the platform."""
    order_id = order.order_id
    amount = order.held_minor
    commission = checkout.settings.commission.commission_minor(amount, order.category)
    to_merchant = release_account(merchant, order.currency)
    escrow = platform_account(checkout.tenant, order.currency, AccountCode.ESCROW)
    in_reserve = platform_account(
        checkout.tenant, order.currency, AccountCode.COMMISSION_IN_RESERVE
    )
    legs = [
        order_leg(
            checkout.tenant,
            order_id,
            "release",
            escrow,
            to_merchant,
            amount - commission,
            CODE_RELEASE,
        )
    ]
    if commission:
        legs.append(
            order_leg(
                checkout.tenant,
                order_id,
                "commission",
                escrow,
                in_reserve,
                commission,
                CODE_COMMISSION,
            )
        )
    completed = replace(completed, released_minor=amount - commission, commission_minor=commission)
    bulk.plan(
        completed,
        legs,
        [to_merchant, escrow, in_reserve],
        [
            ("receipt_confirmed", {"automatic": automatic}),
            (
                "escrow_released",
                order_payload(completed, amount)
                | {
                    "merchant_minor": amount - commission,
                    "commission_minor": commission,
                    "settlement": merchant.payout_preference,
                },
            ),
        ],
    )


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """An order to place (see ``Checkout.place_order`` for the fields)."""

    order_id: str
    buyer_id: str
    merchant_id: str
    currency_code: str
    lines: Sequence[OrderLine]
    goods_kind: GoodsKind = GoodsKind.PHYSICAL


def place_orders(
    checkout: Checkout, specs: Sequence[OrderSpec], *, atomic: bool = False
) -> list[BulkResult]:
    """Create many orders awaiting payment; repeating an identical order returns it."""
    now = checkout.clock.now_ns()
    tenant = checkout.tenant
    order_ids = [spec.order_id for spec in specs]
    with checkout.ledger.transaction() as tx:
        answers: list[BulkResult] = []
        existing = load_orders(tx.conn, tenant, order_ids)
        wanted = [spec.merchant_id for spec in specs]
        merchants: dict[str, Merchant | None] = {m: None for m in wanted}
        merchants.update(load_merchants(tx.conn, tenant, wanted))
        placed: list[tuple[Order, Sequence[OrderLine]]] = []
        seen: set[str] = set()
        for spec in specs:
            answers.append(_place_one(checkout, spec, now, merchants, existing, seen, placed, tx))
        insert_orders(tx.conn, placed)
        append_events(
            tx.conn,
            [
                Event(
                    "order_placed",
                    "order",
                    order.order_id,
                    order_payload(order, order.total_minor),
                    now,
                    tenant,
                )
                for order, _ in placed
            ],
        )
        if atomic:
            for answer in answers:
                answer.unwrap()
        return answers


def _place_one(
    checkout: Checkout,
    spec: OrderSpec,
    now: int,
    merchants: dict[str, Merchant | None],
    existing: dict[str, Order],
    seen: set[str],
    placed: list[tuple[Order, Sequence[OrderLine]]],
    tx: LedgerTransaction,
) -> BulkResult:
    if spec.order_id in seen:
        return BulkResult(spec.order_id, error=InvalidInput("order listed twice"))
    seen.add(spec.order_id)
    try:
        order = _new_order(checkout, spec, now, merchants, tx)
    except EmbedfinError as error:
        return BulkResult(spec.order_id, error=error)
    found = existing.get(spec.order_id)
    if found is None:
        placed.append((order, spec.lines))
        return BulkResult(spec.order_id, order)
    same = (
        found.buyer_id,
        found.merchant_id,
        found.currency,
        load_lines(tx.conn, checkout.tenant, spec.order_id),
    ) == (spec.buyer_id, spec.merchant_id, order.currency, list(spec.lines))
    if not same:
        message = f"order {spec.order_id} exists with other contents"
        return BulkResult(spec.order_id, error=IdempotencyMismatch(message))
    return BulkResult(spec.order_id, found)


def _new_order(
    checkout: Checkout,
    spec: OrderSpec,
    now: int,
    merchants: dict[str, Merchant | None],
    tx: LedgerTransaction,
) -> Order:
    total = rules.order_total(spec.lines)
    if spec.merchant_id not in merchants:
        merchants[spec.merchant_id] = load_merchant(tx.conn, checkout.tenant, spec.merchant_id)
    merchant = merchants[spec.merchant_id]
    if merchant is None:
        raise NotFound(f"no merchant {spec.merchant_id}")
    if merchant.kyc_status != "verified":
        raise InvalidStateTransition(f"merchant {spec.merchant_id} is not KYC-verified")
    if currency(spec.currency_code).code != merchant.settlement_currency:
        raise CurrencyMismatch(
            f"merchant {spec.merchant_id} sells in {merchant.settlement_currency}, not "
            f"{spec.currency_code}; a buyer paying in another currency uses an FX quote"
        )
    return Order(
        checkout.tenant,
        check_name("order_id", spec.order_id),
        check_name("buyer_id", spec.buyer_id),
        spec.merchant_id,
        currency(spec.currency_code).code,
        total,
        merchant.category,
        GoodsKind(spec.goods_kind),
        placed_at=now,
    )


def ship_many(
    checkout: Checkout, shipments: Sequence[Shipment], *, atomic: bool = False
) -> list[BulkResult]:
    """Mark many orders shipped; starts each auto-confirm clock."""
    now = checkout.clock.now_ns()
    order_ids = [shipment.order_id for shipment in shipments]
    with checkout.ledger.transaction() as tx:
        bulk = _Bulk(checkout, tx, order_ids)
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


def _unit_of_work(
    checkout: Checkout, tx: LedgerTransaction | None
) -> AbstractContextManager[LedgerTransaction]:
    return nullcontext(tx) if tx is not None else checkout.ledger.transaction()


def order_payload(order: Order, amount_minor: int) -> dict[str, object]:
    return {
        "buyer_id": order.buyer_id,
        "merchant_id": order.merchant_id,
        "amount_minor": amount_minor,
        "currency": order.currency,
        "category": order.category,
        "status": str(order.status),
    }
