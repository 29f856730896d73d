"""Revolving lines and virtual cards: draws within the limit, freeze, expiry, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from embedfin.bootstrap import check_all
from embedfin.commerce.orders import OrderLine, OrderStatus
from embedfin.core.clock import ManualClock
from embedfin.core.errors import (
    EmbedfinError,
    InvalidStateTransition,
    LimitExceeded,
    NotFound,
)
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.lending.cards import CreditLines
from embedfin.lending.products import JURISDICTIONS, default_catalog
from embedfin.lending.servicing import Lending
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.wallets import Wallets
from tests.conftest import settled_events

TENANT = "shop-v"


@pytest.fixture
def lines(ledger: Ledger) -> CreditLines:
    shop = Checkout(ledger, TENANT)
    shop.register_merchant("m-1", category="books", country="DE", settlement_currency="EUR")
    lending = Lending(shop, default_catalog(JURISDICTIONS["CN"]))
    lending.fund("bank-1", Money(1_000_000, "EUR"), "f-1")
    return CreditLines(lending)


def order(lines: CreditLines, order_id: str, price: int, buyer: str = "b-1") -> str:
    lines.lending.checkout.place_order(
        order_id,
        buyer_id=buyer,
        merchant_id="m-1",
        currency_code="EUR",
        lines=[OrderLine("book", 1, price)],
    )
    return order_id


def test_a_card_pays_within_its_limit_and_repayment_frees_the_limit(lines: CreditLines) -> None:
    line = lines.open_line("l-1", "b-1", Money(50_000, "EUR"), "bank-1")
    assert line.card_token.startswith("vc_")
    assert len(line.card_last4) == 4
    loan = lines.pay_with_card(order(lines, "o-1", 30_000), line.card_token, "d-1")
    assert loan.line_id == "l-1"
    assert lines.lending.checkout.get_order("o-1").status is OrderStatus.PAID
    assert lines.available("l-1") == 20_000
    with pytest.raises(LimitExceeded):
        lines.pay_with_card(order(lines, "o-2", 20_001), line.card_token, "d-2")
    ledger = lines.ledger
    Wallets(ledger, TENANT).top_up("b-1", Money(30_000, "EUR"), "card", "t-1")
    settle_channel(ledger, TENANT, "card", Money(30_000, "EUR"), Money(0, "EUR"), "s-1")
    lines.lending.repay("d-1", Money(30_000, "EUR"), "r-1")
    assert lines.available("l-1") == 50_000
    with ledger.reader() as conn:
        assert check_all(conn).ok


def test_frozen_expired_and_foreign_cards_are_refused(lines: CreditLines) -> None:
    line = lines.open_line("l-1", "b-1", Money(50_000, "EUR"), "bank-1")
    lines.freeze("l-1")
    with pytest.raises(InvalidStateTransition):
        lines.pay_with_card(order(lines, "o-1", 1_000), line.card_token, "d-1")
    lines.freeze("l-1", frozen=False)
    with pytest.raises(NotFound):  # someone else's order: the card does not exist for them
        lines.pay_with_card(order(lines, "o-2", 1_000, buyer="b-2"), line.card_token, "d-2")
    with pytest.raises(NotFound):
        lines.pay_with_card("o-1", "vc_unknown", "d-3")
    clock: ManualClock = lines.lending.clock  # type: ignore[assignment]
    clock.advance(seconds=4 * 366 * 86_400)
    with pytest.raises(InvalidStateTransition, match="expired"):
        lines.pay_with_card("o-1", line.card_token, "d-4")
    assert lines.lending.checkout.get_order("o-1").status is OrderStatus.AWAITING_PAYMENT


def test_limit_changes_keep_their_reason(lines: CreditLines) -> None:
    lines.open_line("l-1", "b-1", Money(50_000, "EUR"), "bank-1")
    lowered = lines.set_limit("l-1", Money(10_000, "EUR"), "missed two installments")
    assert lowered.limit_minor == 10_000
    events = [e.event for e in settled_events(lines.ledger.engine)]
    change = next(e for e in events if e.type == "credit_limit_changed")
    assert change.payload["reason"] == "missed two installments"


def test_simultaneous_card_payments_cannot_overdraw_the_line(lines: CreditLines) -> None:
    line = lines.open_line("l-1", "b-1", Money(50_000, "EUR"), "bank-1")
    for n in range(8):
        order(lines, f"o-{n}", 10_000)

    def pay(n: int) -> bool:
        try:
            lines.pay_with_card(f"o-{n}", line.card_token, f"d-{n}")
            return True
        except EmbedfinError:
            return False

    with ThreadPoolExecutor(8) as pool:
        paid = sum(pool.map(pay, range(8)))
    assert paid == 5
    assert lines.available("l-1") == 0
