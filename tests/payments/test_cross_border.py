"""Buyer-currency pricing: a locked quote for the exact price, converted and paid at once."""

from __future__ import annotations

from decimal import ROUND_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedfin.bootstrap import check_all
from embedfin.commerce.orders import OrderLine, OrderStatus
from embedfin.core.clock import ManualClock
from embedfin.core.errors import InsufficientFunds, InvalidInput
from embedfin.core.money import Money
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.payments.cross_border import CrossBorderCheckout
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.fx import Fx, QuoteExpired, QuoteUsed
from embedfin.payments.wallets import Wallets
from tests.conftest import fresh_sqlite

TENANT = "shop-x"


@pytest.fixture
def shop(ledger: Ledger) -> CrossBorderCheckout:
    checkout = Checkout(ledger, TENANT)
    checkout.register_merchant("m-de", category="books", country="DE", settlement_currency="EUR")
    checkout.place_order(
        "o-1",
        buyer_id="b-us",
        merchant_id="m-de",
        currency_code="EUR",
        lines=[OrderLine("atlas", 1, 4_999)],
    )
    Wallets(ledger, TENANT).top_up("b-us", Money(10_000, "USD"), "card", "t-1")
    return CrossBorderCheckout(checkout, Fx(ledger, TENANT, spread_bp=100, lock_seconds=60))


def _wallet(ledger: Ledger, code: str) -> int:
    return Wallets(ledger, TENANT).balance("buyer", "b-us", code).available.amount_minor


def test_the_buyer_pays_in_dollars_and_escrow_holds_euros(shop: CrossBorderCheckout) -> None:
    ledger = shop.checkout.ledger
    quote = shop.price("o-1", "USD")
    assert quote.buy == Money(4_999, "EUR")
    assert quote.sell.currency == "USD"
    # the price in dollars is the euro price at the quoted rate, rounded up to the cent
    exact = Decimal("49.99") / quote.rate
    assert quote.sell.amount_minor == int((exact * 100).to_integral_value(ROUND_UP))
    paid = shop.pay("o-1", quote.quote_id)
    assert paid.status is OrderStatus.PAID
    assert paid.paid_minor == 4_999
    assert _wallet(ledger, "USD") == 10_000 - quote.sell.amount_minor
    assert _wallet(ledger, "EUR") == 0  # everything bought went into escrow
    with pytest.raises(QuoteUsed):
        shop.pay("o-1", quote.quote_id)
    with ledger.reader() as conn:
        assert check_all(conn).ok


def test_an_expired_quote_or_a_short_wallet_changes_nothing(
    shop: CrossBorderCheckout, clock: ManualClock
) -> None:
    ledger = shop.checkout.ledger
    quote = shop.price("o-1", "USD")
    clock.advance(seconds=61)
    with pytest.raises(QuoteExpired):
        shop.pay("o-1", quote.quote_id)
    assert _wallet(ledger, "USD") == 10_000
    poor = shop.checkout
    poor.place_order(
        "o-2",
        buyer_id="b-poor",
        merchant_id="m-de",
        currency_code="EUR",
        lines=[OrderLine("atlas", 1, 4_999)],
    )
    Wallets(ledger, TENANT).top_up("b-poor", Money(100, "USD"), "card", "t-2")
    quote = shop.price("o-2", "USD")
    with pytest.raises(InsufficientFunds):
        shop.pay("o-2", quote.quote_id)
    assert Wallets(ledger, TENANT).balance("buyer", "b-poor", "USD").available.amount_minor == 100
    assert shop.checkout.get_order("o-2").status is OrderStatus.AWAITING_PAYMENT
    with pytest.raises(InvalidInput):  # someone else's quote
        shop.pay("o-1", quote.quote_id)
    with ledger.reader() as conn:
        assert check_all(conn).ok


@pytest.fixture(scope="module")
def fx_only(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Fx:
    url = fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("fx"))
    return Fx(Ledger(make_engine(url), ManualClock()), TENANT, spread_bp=50)


@settings(max_examples=60)
@given(price=st.integers(1, 10**9), code=st.sampled_from(["USD", "JPY", "GBP", "CNY"]))
def test_a_buy_quote_always_buys_at_least_the_price(fx_only: Fx, price: int, code: str) -> None:
    fx = fx_only
    quote = fx.quote_to_buy("buyer", "b-1", Money(price, "EUR"), code)
    assert quote.buy == Money(price, "EUR")
    got = quote.sell.amount_minor
    exp = {"USD": 2, "JPY": 0, "GBP": 2, "CNY": 2}[code]
    worth = Decimal(got).scaleb(-exp) * quote.rate
    assert worth >= Decimal(price).scaleb(-2)  # never short
    assert (Decimal(got - 1).scaleb(-exp) * quote.rate) < Decimal(price).scaleb(-2)  # minimal
