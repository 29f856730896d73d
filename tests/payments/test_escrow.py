"""Escrow checkout end to end on both stores: the lifecycle, refunds, disputes, bad input."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from embedfin.bootstrap import check_all
from embedfin.commerce.orders import DAY_NS, GoodsKind, OrderLine, OrderStatus
from embedfin.core.clock import ManualClock
from embedfin.core.errors import (
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import default_channels
from embedfin.payments.channels.routing import Router
from embedfin.payments.chart import AccountCode, AccountKey, platform_account
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.payouts.batches import MerchantSettlement
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.refunds.service import Refunds
from embedfin.payments.wallets import Wallets
from tests.conftest import settled_events
from tests.ledger.helpers import row_counts

TENANT = "shop-1"


def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture
def checkout(ledger: Ledger) -> Checkout:
    shop = Checkout(ledger, TENANT)
    shop.register_merchant(
        "m-1", category="apparel", country="CN", settlement_currency="USD", payout_preference="t0"
    )
    shop.register_merchant("m-2", category="electronics", country="US", settlement_currency="USD")
    Wallets(ledger, TENANT).top_up("b-1", usd(50_000), "card", "top-up-1")
    return shop


@pytest.fixture
def refunds(checkout: Checkout) -> Refunds:
    return Refunds(ChannelPayments(checkout, Router(default_channels())))


def place(
    checkout: Checkout,
    order_id: str = "o-1",
    merchant: str = "m-1",
    goods: GoodsKind = GoodsKind.PHYSICAL,
) -> None:
    checkout.place_order(
        order_id,
        buyer_id="b-1",
        merchant_id=merchant,
        currency_code="USD",
        lines=[OrderLine("sku-1", 2, 4_999), OrderLine("sku-2", 1, 1_002)],
        goods_kind=goods,
    )


def balance(ledger: Ledger, key: AccountKey) -> int:
    found = ledger.lookup_accounts([key.account_id])
    return found[0].credits_posted - found[0].debits_posted if found else 0


def merchant_available(ledger: Ledger, merchant: str = "m-1") -> int:
    return balance(
        ledger, AccountKey(TENANT, "merchant", merchant, "USD", AccountCode.MERCHANT_AVAILABLE)
    )


def escrow(ledger: Ledger) -> int:
    return balance(ledger, platform_account(TENANT, "USD", AccountCode.ESCROW))


def wallet(checkout: Checkout) -> int:
    return Wallets(checkout.ledger, TENANT).balance("buyer", "b-1", "USD").available.amount_minor


def assert_books_balance(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def test_full_lifecycle_releases_to_the_merchant_minus_commission(
    checkout: Checkout, ledger: Ledger
) -> None:
    place(checkout)
    paid = checkout.pay_with_wallet("o-1")
    assert (paid.status, paid.paid_minor, escrow(ledger)) == (OrderStatus.PAID, 11_000, 11_000)
    assert wallet(checkout) == 39_000
    checkout.ship("o-1", "SF123")
    done = checkout.confirm_receipt("o-1")
    # apparel: 5% commission = 550.00 of 11,000 cents
    assert (done.status, done.commission_minor, done.released_minor) == (
        OrderStatus.COMPLETED,
        550,
        10_450,
    )
    assert (escrow(ledger), merchant_available(ledger)) == (0, 10_450)
    assert (
        balance(ledger, platform_account(TENANT, "USD", AccountCode.COMMISSION_IN_RESERVE)) == 550
    )
    order_events = [
        e.event.type for e in settled_events(ledger.engine) if e.event.aggregate == "order"
    ]
    assert order_events == [
        "order_placed",
        "order_paid",
        "shipped",
        "receipt_confirmed",
        "escrow_released",
    ]
    assert_books_balance(ledger)


def test_retried_commands_never_move_money_twice(checkout: Checkout, ledger: Ledger) -> None:
    place(checkout)
    place(checkout)  # same order again: same result
    checkout.pay_with_wallet("o-1")
    checkout.pay_with_wallet("o-1")
    checkout.ship("o-1", "SF123")
    checkout.confirm_receipt("o-1")
    checkout.confirm_receipt("o-1")
    assert wallet(checkout) == 39_000
    assert merchant_available(ledger) == 10_450
    assert_books_balance(ledger)


def test_auto_confirm_after_ten_days_for_physical_goods(
    checkout: Checkout, ledger: Ledger, clock: ManualClock
) -> None:
    place(checkout, "o-1")
    place(checkout, "o-2", goods=GoodsKind.VIRTUAL)
    for order_id in ("o-1", "o-2"):
        checkout.pay_with_wallet(order_id)
        checkout.ship(order_id, "T-1")
    clock.advance(ns=3 * DAY_NS - 1)
    assert checkout.auto_confirm_due() == []
    clock.advance(ns=1)
    assert checkout.auto_confirm_due() == ["o-2"]
    clock.advance(ns=7 * DAY_NS)
    assert checkout.auto_confirm_due() == ["o-1"]
    assert checkout.get_order("o-1").status is OrderStatus.COMPLETED
    assert_books_balance(ledger)


def test_a_dispute_freezes_release_and_pauses_the_clock(
    checkout: Checkout, refunds: Refunds, ledger: Ledger, clock: ManualClock
) -> None:
    place(checkout)
    checkout.pay_with_wallet("o-1")
    checkout.ship("o-1", "T-1")
    clock.advance(ns=4 * DAY_NS)
    checkout.open_dispute("o-1", "item not as described")
    with pytest.raises(InvalidStateTransition):
        checkout.confirm_receipt("o-1")
    clock.advance(ns=30 * DAY_NS)
    assert checkout.auto_confirm_due() == []
    resumed = refunds.resolve_dispute("o-1", "refund")
    assert resumed.status is OrderStatus.CLOSED
    assert wallet(checkout) == 50_000
    assert escrow(ledger) == 0
    assert_books_balance(ledger)


def test_dispute_resolved_for_the_merchant_keeps_the_remaining_days(
    checkout: Checkout, refunds: Refunds, clock: ManualClock
) -> None:
    place(checkout)
    checkout.pay_with_wallet("o-1")
    checkout.ship("o-1", "T-1")
    clock.advance(ns=4 * DAY_NS)
    checkout.open_dispute("o-1", "late")
    clock.advance(ns=2 * DAY_NS)
    order = checkout.get_order("o-1")
    assert order.auto_confirm_left_ns == 6 * DAY_NS
    released = refunds.resolve_dispute("o-1", "release")
    assert released.status is OrderStatus.COMPLETED


def test_cancel_before_shipment_returns_the_money(
    checkout: Checkout, refunds: Refunds, ledger: Ledger
) -> None:
    place(checkout)
    checkout.pay_with_wallet("o-1")
    cancelled = refunds.cancel("o-1")
    assert (cancelled.status, cancelled.refunded_minor) == (OrderStatus.CLOSED, 11_000)
    assert wallet(checkout) == 50_000
    with pytest.raises(InvalidStateTransition):  # a cancelled order cannot ship
        checkout.ship("o-1", "T-1")
    assert_books_balance(ledger)


def test_partial_refunds_before_and_after_release(
    checkout: Checkout, refunds: Refunds, ledger: Ledger
) -> None:
    place(checkout)
    checkout.pay_with_wallet("o-1")
    refunds.refund("o-1", usd(1_000), "r-1")
    refunds.refund("o-1", usd(1_000), "r-1")  # retry: once only
    assert wallet(checkout) == 40_000
    with pytest.raises(IdempotencyMismatch):
        refunds.refund("o-1", usd(2_000), "r-1")
    checkout.ship("o-1", "T-1")
    done = checkout.confirm_receipt("o-1")
    assert (done.commission_minor, done.released_minor) == (500, 9_500)  # 5% of 10,000
    # after release the merchant pays back its share (2,375) and the platform the 5% commission
    # on the refunded part (125)
    refunds.refund("o-1", usd(2_500), "r-2")
    assert merchant_available(ledger) == 9_500 - 2_375
    with pytest.raises(InvalidAmount):
        refunds.refund("o-1", usd(7_501), "r-3")
    assert_books_balance(ledger)


def test_a_full_refund_after_release_takes_the_merchants_share_and_the_commission(
    checkout: Checkout, refunds: Refunds, ledger: Ledger
) -> None:
    place(checkout, merchant="m-2")  # t1: released funds sit in merchant pending
    checkout.pay_with_wallet("o-1")
    checkout.ship("o-1", "T-1")
    checkout.confirm_receipt("o-1")
    # electronics: 3% commission, so the merchant holds 10,670 of the 11,000 paid
    refunded = refunds.refund("o-1", usd(11_000), "r-1")
    assert refunded.refunded_minor == 11_000
    assert wallet(checkout) == 50_000
    pending = AccountKey(TENANT, "merchant", "m-2", "USD", AccountCode.MERCHANT_PENDING)
    assert balance(ledger, pending) == 0
    commission = platform_account(TENANT, "USD", AccountCode.COMMISSION_IN_RESERVE)
    assert balance(ledger, commission) == 0
    assert_books_balance(ledger)


def test_a_refund_after_the_commission_was_swept_brings_the_cash_back_into_the_reserve(
    checkout: Checkout, refunds: Refunds, ledger: Ledger
) -> None:
    place(checkout)
    checkout.pay_with_wallet("o-1")
    checkout.ship("o-1", "T-1")
    checkout.confirm_receipt("o-1")  # commission 500
    settle_channel(ledger, TENANT, "card", usd(50_000), usd(0), "stl-1")
    MerchantSettlement(ledger, TENANT).sweep_commission("USD", "sweep-1")
    refunds.refund("o-1", usd(11_000), "r-1")  # the whole commission comes back out of revenue
    assert wallet(checkout) == 50_000
    revenue = platform_account(TENANT, "USD", AccountCode.COMMISSION_REVENUE)
    assert balance(ledger, revenue) == 0
    assert_books_balance(ledger)  # safeguarding holds: operating cash went back into the reserve


def test_refund_after_release_fails_when_the_merchant_cannot_cover_its_share(
    checkout: Checkout, refunds: Refunds, ledger: Ledger
) -> None:
    place(checkout)  # t0: released funds are available at once
    checkout.pay_with_wallet("o-1")
    checkout.ship("o-1", "T-1")
    checkout.confirm_receipt("o-1")
    settle_channel(ledger, TENANT, "card", usd(50_000), usd(0), "stl-1")  # the top-up arrived
    settlement = MerchantSettlement(ledger, TENANT)
    settlement.bind_bank_account("m-1", "tok_merchant1", "4242")
    settlement.run_payouts("payout-1")  # the merchant was paid out: its balance is 0
    assert merchant_available(ledger) == 0
    before = row_counts(ledger.engine)
    with pytest.raises(InsufficientFunds):
        refunds.refund("o-1", usd(2_000), "r-1")
    assert row_counts(ledger.engine) == before
    assert checkout.get_order("o-1").refunded_minor == 0


def test_paying_more_than_the_wallet_holds_changes_nothing(
    checkout: Checkout, ledger: Ledger
) -> None:
    checkout.place_order(
        "big",
        buyer_id="b-1",
        merchant_id="m-1",
        currency_code="USD",
        lines=[OrderLine("tv", 1, 50_001)],
    )
    before = row_counts(ledger.engine)
    with pytest.raises(InsufficientFunds):
        checkout.pay_with_wallet("big")
    assert row_counts(ledger.engine) == before
    assert checkout.get_order("big").status is OrderStatus.AWAITING_PAYMENT


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"lines": []}, InvalidInput),
        ({"lines": [OrderLine("a", 1, 0)]}, InvalidAmount),
        ({"merchant_id": "nobody"}, NotFound),
        ({"currency_code": "ABC"}, Exception),
        ({"buyer_id": ""}, InvalidInput),
    ],
)
def test_bad_orders_are_refused(
    checkout: Checkout, kwargs: dict[str, object], error: type[Exception]
) -> None:
    args: dict[str, object] = {
        "buyer_id": "b-1",
        "merchant_id": "m-1",
        "currency_code": "USD",
        "lines": [OrderLine("a", 1, 100)],
    }
    with pytest.raises(error):
        checkout.place_order("o-x", **(args | kwargs))  # type: ignore[arg-type]


def test_order_line_refuses_nonsense() -> None:
    for bad in (("", 1, 1), ("a", 0, 1), ("a", 1, -1), ("a", 10_001, 1)):
        with pytest.raises((InvalidInput, InvalidAmount)):
            OrderLine(*bad)


def test_unverified_merchant_cannot_sell(checkout: Checkout) -> None:
    checkout.register_merchant(
        "m-3", category="apparel", country="CN", settlement_currency="USD", kyc_status="pending"
    )
    with pytest.raises(InvalidStateTransition):
        place(checkout, "o-9", merchant="m-3")


def test_another_tenant_cannot_see_or_touch_an_order(checkout: Checkout, ledger: Ledger) -> None:
    place(checkout)
    checkout.pay_with_wallet("o-1")
    other = Checkout(ledger, "shop-2")
    other_refunds = Refunds(ChannelPayments(other, Router(default_channels())))
    commands: list[Callable[[], object]] = [
        lambda: other.get_order("o-1"),
        lambda: other.pay_with_wallet("o-1"),
        lambda: other_refunds.cancel("o-1"),
        lambda: other_refunds.refund("o-1", usd(1), "r"),
        lambda: other.ship("o-1", "T"),
        lambda: other.open_dispute("o-1", "x"),
        lambda: other.confirm_receipt("o-1"),
    ]
    for command in commands:
        with pytest.raises(NotFound):
            command()
    assert checkout.get_order("o-1").status is OrderStatus.PAID
