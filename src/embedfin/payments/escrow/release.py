"""Confirming receipt in bulk: each order's escrow released to its merchant minus commission.

The confirmation rule decides each order (a buyer's confirmation, or the automatic one once its
deadline passes); its release and commission legs go into the one linked ledger batch of
``bulk.Bulk``, with ``receipt_confirmed`` and ``escrow_released`` for the orders that moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

from embedfin.commerce import orders as rules
from embedfin.commerce.orders import Order, OrderStatus, replace
from embedfin.commerce.store import Merchant, load_merchant
from embedfin.core.errors import EmbedfinError, InvalidStateTransition
from embedfin.ledger.service import LedgerTransaction
from embedfin.payments.chart import CODE_COMMISSION, CODE_RELEASE, AccountCode, platform_account
from embedfin.payments.escrow.bulk import Bulk, BulkResult, Checkout, order_payload
from embedfin.payments.moves import order_leg, release_account


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
        bulk = Bulk(checkout, tx, order_ids)
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


def _confirmed(bulk: Bulk, order: Order, due_by: int | None, now: int) -> Order | None:
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
    bulk: Bulk,
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


def _unit_of_work(
    checkout: Checkout, tx: LedgerTransaction | None
) -> AbstractContextManager[LedgerTransaction]:
    return nullcontext(tx) if tx is not None else checkout.ledger.transaction()
