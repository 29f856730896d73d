"""Deliveries, returns and reviews."""

from __future__ import annotations

import pytest

from embedfin.bootstrap import check_all
from embedfin.commerce.aftersales import AfterSales
from embedfin.commerce.orders import OrderLine, OrderStatus
from embedfin.core.clock import ManualClock
from embedfin.core.errors import IdempotencyMismatch, InvalidInput, InvalidStateTransition
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import default_channels
from embedfin.payments.channels.routing import Router
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.refunds.service import Refunds
from embedfin.payments.wallets import Wallets
from tests.conftest import settled_events

TENANT = "shop-a"
DAY = 86_400


@pytest.fixture
def after(ledger: Ledger) -> AfterSales:
    shop = Checkout(ledger, TENANT)
    shop.register_merchant("m-1", category="books", country="DE", settlement_currency="EUR")
    Wallets(ledger, TENANT).top_up("b-1", Money(50_000, "EUR"), "card", "t-1")
    for n in range(3):
        shop.place_order(
            f"o-{n}",
            buyer_id="b-1",
            merchant_id="m-1",
            currency_code="EUR",
            lines=[OrderLine("book", 1, 5_000)],
        )
        shop.pay_with_wallet(f"o-{n}")
        shop.ship(f"o-{n}", f"T-{n}")
    return AfterSales(Refunds(ChannelPayments(shop, Router(default_channels()))))


def wallet(after: AfterSales) -> int:
    return Wallets(after.ledger, TENANT).balance("buyer", "b-1", "EUR").available.amount_minor


def test_a_return_before_completion_freezes_then_refunds(after: AfterSales) -> None:
    after.mark_delivered("o-0")
    request = after.request_return("o-0", "wrong size")
    assert after.request_return("o-0", "wrong size") == request
    with pytest.raises(IdempotencyMismatch):
        after.request_return("o-0", "changed my mind")
    frozen = after.checkout.get_order("o-0")
    assert frozen.frozen
    clock: ManualClock = after.clock  # type: ignore[assignment]
    clock.advance(seconds=20 * DAY)
    assert (
        after.checkout.auto_confirm_due() == ["o-1", "o-2"]
        or "o-0" not in after.checkout.auto_confirm_due()
    )
    before = wallet(after)
    closed = after.receive_return("o-0")
    assert closed.status is OrderStatus.CLOSED
    assert wallet(after) == before + 5_000
    with pytest.raises(InvalidStateTransition):
        after.receive_return("o-0")
    with after.ledger.reader() as conn:
        assert check_all(conn).ok


def test_a_rejected_return_resumes_the_clock(after: AfterSales) -> None:
    after.request_return("o-1", "scratched")
    resumed = after.reject_return("o-1")
    assert not resumed.frozen
    assert resumed.auto_confirm_at > 0


def test_returns_after_completion_and_their_window(after: AfterSales) -> None:
    shop = after.checkout
    shop.confirm_receipt("o-1")
    shop.confirm_receipt("o-2")
    after.request_return("o-2", "defective")
    refunded = after.receive_return("o-2")
    assert refunded.refunded_minor == 5_000  # paid back by the merchant after release
    clock: ManualClock = after.clock  # type: ignore[assignment]
    clock.advance(seconds=8 * DAY)
    with pytest.raises(InvalidStateTransition, match="7 days"):
        after.request_return("o-1", "late")


def test_reviews_once_per_completed_order(after: AfterSales) -> None:
    with pytest.raises(InvalidStateTransition):
        after.post_review("o-0", 5)
    after.checkout.confirm_receipt("o-0")
    with pytest.raises(InvalidInput):
        after.post_review("o-0", 6)
    after.post_review("o-0", 4, "good")
    after.post_review("o-0", 4, "good")  # a retry
    with pytest.raises(IdempotencyMismatch):
        after.post_review("o-0", 2)
    events = [e.event for e in settled_events(after.ledger.engine)]
    posted = [e for e in events if e.type == "review_posted"]
    assert len(posted) == 1
    assert posted[0].payload == {"buyer_id": "b-1", "merchant_id": "m-1", "rating": 4}
