"""Refunds to the original payment method: through the channel, then the wallet."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from embedfin.commerce.orders import Order, OrderStatus
from embedfin.core.errors import IdempotencyMismatch, InvalidAmount, PaymentDeclined
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import (
    ChannelKind,
    ChannelResponse,
    FeeSchedule,
    Outcome,
    SimulatedProcessor,
)
from embedfin.payments.channels.routing import Router
from embedfin.payments.chart import AccountCode, channel_clearing, platform_account
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.refunds.service import ChannelUnavailable, Refunds
from embedfin.payments.wallets import Wallets
from tests.payments.test_channels import (
    TENANT,
    assert_books_balance,
    checkout,  # noqa: F401 - the fixture
    processor,
    usd,
)

CARD = "card"


@pytest.fixture
def card_paid(checkout: Checkout) -> tuple[Refunds, object]:  # noqa: F811
    card = processor(CARD, 100, approval_rate=1.0)
    payments = ChannelPayments(checkout, Router([card], exploration=0.0))
    assert payments.pay_order("o-1", "pay-1").channel == CARD
    return Refunds(payments), card


def _balance(ledger: Ledger, key: object) -> int:
    found = ledger.lookup_accounts([key.account_id])  # type: ignore[attr-defined]
    if not found:
        return 0
    a = found[0]
    return a.debits_posted - a.credits_posted


def _wallet(ledger: Ledger) -> int:
    return Wallets(ledger, TENANT).balance("buyer", "b-1", "USD").available.amount_minor


def test_a_card_payment_is_refunded_to_the_card(card_paid: tuple[Refunds, object]) -> None:
    refunds, card = card_paid
    order = refunds.refund("o-1", usd(4_000), "r-1")
    assert order.refunded_minor == 4_000
    assert [r.outcome for r, _, _ in card.refunds.values()] == ["approved"]  # type: ignore[attr-defined]
    clearing = channel_clearing(TENANT, CARD, "USD")
    assert _balance(refunds.ledger, clearing) == 6_000  # the channel now owes us 6,000
    assert _wallet(refunds.ledger) == 0
    again = refunds.refund("o-1", usd(4_000), "r-1")  # a retry: same answer, nothing moves
    assert again.refunded_minor == 4_000
    assert len(card.refunds) == 1  # type: ignore[attr-defined]
    with pytest.raises(IdempotencyMismatch):
        refunds.refund("o-1", usd(1_000), "r-1")
    with pytest.raises(InvalidAmount):
        refunds.refund("o-1", usd(6_001), "r-2")
    closed = refunds.refund("o-1", usd(6_000), "r-3")
    assert closed.status is OrderStatus.CLOSED
    assert_books_balance(refunds.checkout)


def test_after_the_channel_settled_the_refund_comes_out_of_the_reserve(
    card_paid: tuple[Refunds, object],
) -> None:
    refunds, _ = card_paid
    ledger = refunds.ledger
    settle_channel(ledger, TENANT, CARD, usd(10_000), usd(100), "stl-1")
    reserve = platform_account(TENANT, "USD", AccountCode.CLIENT_RESERVE)
    before = _balance(ledger, reserve)
    refunds.refund("o-1", usd(2_500), "r-1")
    assert _balance(ledger, reserve) == before - 2_500
    assert_books_balance(refunds.checkout)


def test_after_release_the_merchant_pays_the_card_refund(
    card_paid: tuple[Refunds, object],
) -> None:
    refunds, _ = card_paid
    shop = refunds.checkout
    shop.ship("o-1", "T-1")
    released = shop.confirm_receipt("o-1")
    order = refunds.refund("o-1", usd(1_000), "r-1")
    assert order.refunded_minor == 1_000
    assert order.status is OrderStatus.COMPLETED
    assert released.released_minor > 1_000
    assert_books_balance(shop)


def test_a_split_tender_refunds_the_channel_first_then_the_wallet(
    checkout: Checkout,  # noqa: F811
) -> None:
    ledger = checkout.ledger
    Wallets(ledger, TENANT).top_up("b-1", usd(3_000), CARD, "top-1")
    card = processor(CARD, 100, approval_rate=1.0)
    payments = ChannelPayments(checkout, Router([card], exploration=0.0))
    payments.pay_order("o-1", "pay-1", wallet_part=usd(3_000))
    assert _wallet(ledger) == 0
    refunds = Refunds(payments)
    refunds.refund("o-1", usd(6_000), "r-1")  # within the card's 7,000
    assert _wallet(ledger) == 0
    refunds.refund("o-1", usd(4_000), "r-2")  # 1,000 to the card, 3,000 to the wallet
    assert _wallet(ledger) == 3_000
    assert sum(m.amount_minor for _, _, m in card.refunds.values()) == 7_000
    assert_books_balance(checkout)


def test_an_unreachable_channel_moves_nothing_and_a_retry_completes_once(
    card_paid: tuple[Refunds, object],
) -> None:
    refunds, card = card_paid
    card.refunds_down = True  # type: ignore[attr-defined]
    with pytest.raises(ChannelUnavailable):
        refunds.refund("o-1", usd(5_000), "r-1")
    assert refunds.checkout.get_order("o-1").refunded_minor == 0
    with pytest.raises(InvalidAmount):  # the recorded refund counts: no over-refund meanwhile
        refunds.refund("o-1", usd(5_001), "r-2")
    card.refunds_down = False  # type: ignore[attr-defined]
    assert refunds.refund("o-1", usd(5_000), "r-1").refunded_minor == 5_000
    assert refunds.refund("o-1", usd(5_000), "r-1").refunded_minor == 5_000
    assert len(card.refunds) == 1  # type: ignore[attr-defined]
    assert_books_balance(refunds.checkout)


def test_a_crash_after_the_channel_refunded_is_completed_by_the_retry(
    card_paid: tuple[Refunds, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    refunds, card = card_paid

    def crash(*_: object) -> None:
        raise SystemExit("killed after the channel refunded, before the booking")

    with monkeypatch.context() as patch:
        patch.setattr(refunds, "_book_locked", crash)
        with pytest.raises(SystemExit):
            refunds.refund("o-1", usd(3_000), "r-1")
    assert refunds.checkout.get_order("o-1").refunded_minor == 0
    assert refunds.refund("o-1", usd(3_000), "r-1").refunded_minor == 3_000
    assert len(card.refunds) == 1  # type: ignore[attr-defined]
    assert_books_balance(refunds.checkout)


def test_a_declined_refund_moves_nothing(card_paid: tuple[Refunds, object]) -> None:
    refunds, card = card_paid
    card.charges.clear()  # type: ignore[attr-defined] # the processor lost the charge
    with pytest.raises(PaymentDeclined):
        refunds.refund("o-1", usd(1_000), "r-1")
    with pytest.raises(PaymentDeclined):
        refunds.refund("o-1", usd(1_000), "r-1")
    assert refunds.checkout.get_order("o-1").refunded_minor == 0
    assert_books_balance(refunds.checkout)


def test_a_wallet_paid_order_is_refunded_to_the_wallet(
    checkout: Checkout,  # noqa: F811
) -> None:
    ledger = checkout.ledger
    Wallets(ledger, TENANT).top_up("b-1", usd(10_000), CARD, "top-1")
    checkout.pay_with_wallet("o-1")
    payments = ChannelPayments(checkout, Router([processor(CARD, 100)], exploration=0.0))
    Refunds(payments).refund("o-1", usd(2_000), "r-1")
    assert _wallet(ledger) == 2_000
    assert_books_balance(checkout)


class SplitBrain(SimulatedProcessor):
    """Two runs of one refund reach the channel together; the first is approved, the second
    (as from a worker whose processor state lost the charge) is declined only after the first
    has been booked: the interleaving that answered a booked refund as declined."""

    def __init__(self) -> None:
        super().__init__(CARD, ChannelKind.CARD, ["USD"], FeeSchedule(100), latency_ms=0)
        self.both_inside = threading.Barrier(2, timeout=10)
        self.first_booked = threading.Event()
        self.calls = 0
        self._lock = threading.Lock()

    def refund(self, idempotency_key: str, charge_key: str, amount: Money) -> ChannelResponse:
        self.both_inside.wait()
        with self._lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            return super().refund(idempotency_key, charge_key, amount)
        assert self.first_booked.wait(timeout=10)
        return ChannelResponse(Outcome.DECLINED, "re_x", "no_such_charge")


def test_a_refund_booked_by_one_run_is_never_answered_declined_by_another(
    checkout: Checkout,  # noqa: F811
) -> None:
    card = SplitBrain()
    payments = ChannelPayments(checkout, Router([card], exploration=0.0))
    payments.pay_order("o-1", "pay-1")
    refunds = Refunds(payments)

    def run() -> Order:
        order = refunds.refund("o-1", usd(4_000), "r-race")
        card.first_booked.set()
        return order

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: run(), range(2)))
    assert [a.refunded_minor for a in answers] == [4_000, 4_000]
    assert refunds.refund("o-1", usd(4_000), "r-race").refunded_minor == 4_000
    assert_books_balance(refunds.checkout)
