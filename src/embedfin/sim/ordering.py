"""Orders as the checkout takes them: one placed on its own, or a spec for the bulk commands."""

from __future__ import annotations

from embedfin.commerce.orders import OrderLine
from embedfin.payments.escrow.bulk import OrderSpec
from embedfin.sim.agents import Consumer, Merchant
from embedfin.sim.market import Market


def place(
    market: Market, order_id: str, consumer: Consumer, merchant: Merchant, price: int
) -> None:
    """One order placed on its own (to pay through a channel or with credit)."""
    market.checkout.place_order(
        order_id,
        buyer_id=consumer.id,
        merchant_id=merchant.id,
        currency_code=market.scenario.currency,
        lines=[OrderLine("item", 1, price)],
    )


def spec(
    market: Market, order_id: str, consumer: Consumer, merchant: Merchant, price: int
) -> OrderSpec:
    lines = [OrderLine("item", 1, price)]
    return OrderSpec(order_id, consumer.id, merchant.id, market.scenario.currency, lines)
