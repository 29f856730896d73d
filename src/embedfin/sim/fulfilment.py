"""Fulfilment and confirmation: merchants ship what is due, parcels arrive, buyers confirm or
ask for their money back, and the escrow releases the merchants' money."""

from __future__ import annotations

from embedfin.payments.escrow.bulk import Shipment
from embedfin.sim.agents import OrderRecord
from embedfin.sim.market import Market

TRANSIT_DAYS = 2


def fulfil_and_confirm(market: Market, day: int) -> None:
    """Merchants ship what is due today. Parcels arrive two days later: a faulty one is
    refunded before the merchant is paid (the escrow's buyer protection), prompt buyers
    confirm the rest, and the platform auto-confirms what is left when the protection
    period ends."""
    now = market.clock.now_ns()
    _ship(market, day, now)
    confirm = []
    for order_id in market.arrivals.pop(day, []):
        record = market.orders[order_id]
        if record.faulty:
            refund(market, order_id, record)
        elif record.prompt:
            confirm.append(order_id)
    released = [r.order_id for r in market.checkout.confirm_receipts(confirm) if r.error is None]
    released += market.checkout.auto_confirm_due(limit=1_000_000)
    _released(market, released, now)


def _ship(market: Market, day: int, now: int) -> None:
    to_ship = [Shipment(order_id, f"T-{order_id}") for order_id in market.to_ship.pop(day, [])]
    for result in market.checkout.ship_many(to_ship):
        if result.error is None:
            market.orders[result.order_id].shipped_ns = now
            market.arrivals[day + TRANSIT_DAYS].append(result.order_id)


def _released(market: Market, order_ids: list[str], now: int) -> None:
    """Released from escrow: available at once (T+0) or at the next T+1 run."""
    for order_id in order_ids:
        record = market.orders[order_id]
        record.released_ns = now
        if market.scenario.payout_cycle_days == 0:
            record.available_ns = now
        else:
            market.unsettled.append(order_id)


def refund(market: Market, order_id: str, record: OrderRecord) -> None:
    """The whole order back to how it was paid: the loan first when it was financed."""
    market.give_back.refund(order_id, market.money(record.amount), f"rf-{order_id}")
    if not record.financed:
        if record.channel is None:  # paid from the wallet: back to the wallet
            record.buyer.wallet += record.amount
        else:  # the channel nets the refund from what it still owes today
            owed = market.collected[record.channel]
            market.collected[record.channel] = owed - min(owed, record.amount)
    market.tally.refunds += 1
