"""E-invoices: one EN 16931 (CII / Factur-X) invoice per released order, from the outbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from drafthorse.models.document import Document

from embedfin.commerce.orders import OrderLine
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.invoices.issuer import InvoiceIssuer
from embedfin.payments.wallets import Wallets


@pytest.fixture
def shop(ledger: Ledger) -> Checkout:
    shop = Checkout(ledger, "t")
    shop.register_merchant("m-1", category="apparel", country="DE", settlement_currency="EUR")
    Wallets(ledger, "t").top_up("b-1", Money(50_000, "EUR"), "card", "r-1")
    return shop


def sell(shop: Checkout, order_id: str, confirm: bool = True) -> None:
    shop.place_order(
        order_id,
        buyer_id="b-1",
        merchant_id="m-1",
        currency_code="EUR",
        lines=[OrderLine("shirt", 2, 1_999), OrderLine("cap", 1, 999)],
    )
    shop.pay_with_wallet(order_id)
    shop.ship(order_id, "T")
    if confirm:
        shop.confirm_receipt(order_id)


def test_each_released_order_gets_one_valid_invoice(shop: Checkout) -> None:
    sell(shop, "o-1")
    sell(shop, "o-2", confirm=False)  # not released: no invoice yet
    issuer = InvoiceIssuer(shop.ledger)
    assert issuer.run() == 1
    assert issuer.run() == 0  # the cursor moved; nothing is issued twice
    invoice = issuer.get("t", "o-1")
    assert invoice is not None
    assert issuer.get("t", "o-2") is None
    parsed = Document.parse(invoice.xml)
    assert parsed.header.id._text == "INV-o-1"
    assert parsed.trade.settlement.currency_code._text == "EUR"
    assert parsed.trade.settlement.payment_reference._text == "o-1"
    summation = parsed.trade.settlement.monetary_summation
    assert summation.grand_total._amount == Decimal("49.97")
    assert invoice.total == Money(4_997, "EUR")
    shop.confirm_receipt("o-2")
    assert issuer.run() == 1
