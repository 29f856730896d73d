"""Paying in the buyer's currency for an order priced in the merchant's.

``price`` locks an FX quote that buys exactly the order total in the order's currency from the
buyer's wallet in their own currency (the sold amount rounded up: the merchant never receives
less than the price). ``pay`` runs the conversion — linked transfers through the FX position
accounts — and the escrow payment in one unit of work: an expired or used quote, a wallet that
cannot cover it, or an order that is no longer payable leaves both wallets as they were.
"""

from __future__ import annotations

from embedfin.commerce.orders import Order, OrderStatus
from embedfin.core.errors import InvalidInput, InvalidStateTransition
from embedfin.core.money import Money
from embedfin.payments.escrow.bulk import checkout_subject
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.fx import Fx, FxQuote
from embedfin.risk.decision import RiskContext


class CrossBorderCheckout:
    def __init__(self, checkout: Checkout, fx: Fx) -> None:
        if checkout.tenant != fx.tenant:
            raise InvalidInput("checkout and FX must serve the same tenant")
        self.checkout = checkout
        self.fx = fx

    def price(self, order_id: str, buyer_currency: str) -> FxQuote:
        """What the order costs in ``buyer_currency``, locked for the quote's lifetime."""
        order = self.checkout.get_order(order_id)
        if order.status is not OrderStatus.AWAITING_PAYMENT:
            raise InvalidStateTransition(f"order {order_id} is {order.status}")
        return self.fx.quote_to_buy(
            "buyer", order.buyer_id, Money(order.total_minor, order.currency), buyer_currency
        )

    def pay(self, order_id: str, quote_id: str, context: RiskContext | None = None) -> Order:
        """Convert with the quote and pay from the wallet, in one unit of work. The risk check
        comes first: a refusal commits its decision and converts nothing (the quote stays
        usable for the retry)."""
        refusal = None
        with self.checkout.ledger.transaction() as tx:
            order = self.checkout.get_order(order_id)
            quote = self.fx.get_quote(quote_id)
            if (quote.owner_kind, quote.owner_id) != ("buyer", order.buyer_id):
                raise InvalidInput(f"quote {quote_id} is not the buyer's")
            if quote.buy != Money(order.total_minor, order.currency):
                raise InvalidInput(f"quote {quote_id} does not buy this order's total")
            subject = checkout_subject(order, "wallet", context)
            refusal = self.checkout.risk.check(tx, subject, holdable=True).refusal
            if refusal is None:
                self.fx.convert(quote_id)
                return self.checkout.pay_with_wallet(order_id, context)
        raise refusal
