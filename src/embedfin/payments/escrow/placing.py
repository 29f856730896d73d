"""Placing orders in bulk: many orders awaiting payment in one unit of work.

Placing moves no money, so unlike the rest of ``bulk`` it posts no ledger batch: it checks each
order (its merchant exists and is KYC-verified, its names are valid), inserts the new ones and
their ``order_placed`` events with one statement each, and answers a repeated identical order
with the stored one (a different one under the same id is an ``IdempotencyMismatch``).
"""

from __future__ import annotations

from collections.abc import Sequence

from embedfin.commerce import orders as rules
from embedfin.commerce.orders import GoodsKind, Order, OrderLine
from embedfin.commerce.store import (
    Merchant,
    insert_orders,
    load_lines,
    load_merchant,
    load_merchants,
    load_orders,
)
from embedfin.core.errors import (
    CurrencyMismatch,
    EmbedfinError,
    IdempotencyMismatch,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from embedfin.core.events import Event
from embedfin.core.money import currency
from embedfin.db.outbox import append_events
from embedfin.ledger.service import LedgerTransaction
from embedfin.payments.escrow.bulk import BulkResult, Checkout, OrderSpec, order_payload
from embedfin.payments.requests import check_name


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
    if merchant.kyc_status not in ("verified", "review"):  # under re-review: still sells
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
