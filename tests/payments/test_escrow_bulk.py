"""Many orders per unit of work: per-order results, all-or-nothing per order, books balanced."""

from __future__ import annotations

import pytest

from embedfin.bootstrap import check_all
from embedfin.commerce.orders import OrderLine, OrderStatus
from embedfin.core.errors import (
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.escrow.bulk import OrderSpec, Shipment
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.wallets import Wallets

TENANT = "shop-1"


@pytest.fixture
def shop(ledger: Ledger) -> Checkout:
    shop = Checkout(ledger, TENANT)
    shop.register_merchant(
        "m-1", category="apparel", country="CN", settlement_currency="USD", payout_preference="t0"
    )
    Wallets(ledger, TENANT).top_up("rich", Money(100_000, "USD"), "card", "t-1")
    Wallets(ledger, TENANT).top_up("poor", Money(500, "USD"), "card", "t-2")
    return shop


def spec(order_id: str, buyer: str, price: int = 1_000) -> OrderSpec:
    return OrderSpec(order_id, buyer, "m-1", "USD", [OrderLine("sku", 1, price)])


def test_a_batch_answers_each_order_and_moves_money_only_for_the_good_ones(shop: Checkout) -> None:
    placed = shop.place_orders(
        [
            spec("o-1", "rich"),
            spec("o-2", "poor"),
            spec("o-3", "rich"),
            spec("o-3", "rich"),
            OrderSpec("o-4", "rich", "nobody", "USD", [OrderLine("sku", 1, 1)]),
        ]
    )
    assert [type(r.error) for r in placed] == [
        type(None),
        type(None),
        type(None),
        InvalidInput,
        NotFound,
    ]
    paid = shop.pay_with_wallets(["o-1", "o-2", "o-3", "o-9"])
    assert [r.order.status if r.order else type(r.error) for r in paid] == [
        OrderStatus.PAID,
        InsufficientFunds,
        OrderStatus.PAID,
        NotFound,
    ]
    shipped = shop.ship_many([Shipment("o-1", "T1"), Shipment("o-2", "T2"), Shipment("o-3", "T3")])
    assert isinstance(shipped[1].error, InvalidStateTransition)
    released = shop.confirm_receipts(["o-1", "o-3"])
    assert all(r.order and r.order.status is OrderStatus.COMPLETED for r in released)
    wallets = Wallets(shop.ledger, TENANT)
    assert wallets.balance("buyer", "rich", "USD").available == Money(98_000, "USD")
    assert wallets.balance("buyer", "poor", "USD").available == Money(500, "USD")
    assert shop.get_order("o-2").status is OrderStatus.AWAITING_PAYMENT
    with shop.ledger.engine.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def test_retrying_a_batch_changes_nothing(shop: Checkout) -> None:
    shop.place_orders([spec("o-1", "rich"), spec("o-2", "rich")])
    first = shop.pay_with_wallets(["o-1", "o-2"])
    again = shop.pay_with_wallets(["o-1", "o-2"])
    assert [r.order for r in again] == [r.order for r in first]
    assert Wallets(shop.ledger, TENANT).balance("buyer", "rich", "USD").available == Money(
        98_000, "USD"
    )
    changed = shop.place_orders([spec("o-1", "rich", price=999)])
    assert isinstance(changed[0].error, IdempotencyMismatch)


def test_a_large_batch_splits_across_ledger_batches_without_splitting_an_order(
    shop: Checkout,
) -> None:
    ids = [f"o-{n}" for n in range(4_200)]
    shop.place_orders([spec(i, "rich", price=20) for i in ids])  # 84,000 of the 100,000
    shop.pay_with_wallets(ids)
    shop.ship_many([Shipment(i, "T") for i in ids])
    released = shop.confirm_receipts(ids)  # 8,400 legs: two ledger batches
    assert all(r.error is None for r in released)
    with shop.ledger.engine.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations
