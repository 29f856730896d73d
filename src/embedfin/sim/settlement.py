"""The nightly run: channels settle the day's gross into the client reserve, the T+1 cycle
makes released money available, lending services its loans, and payouts go out."""

from __future__ import annotations

from contextlib import suppress

from embedfin.core.errors import EmbedfinError
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.sim.credit import CreditDesk
from embedfin.sim.market import Market


def settle(market: Market, credit: CreditDesk | None, day: int) -> None:
    now = market.clock.now_ns()
    _settle_channels(market, day)
    cycle = market.scenario.payout_cycle_days
    if cycle and day % cycle == cycle - 1:
        market.settlement.run_t1(f"t1-{day}", now)
        for order_id in market.unsettled:
            market.orders[order_id].available_ns = now
        market.unsettled.clear()
    if credit is not None:
        credit.service_day()
    # a payout the reserve cannot make yet waits a day (and undoes only itself)
    with suppress(EmbedfinError), market.ledger.transaction() as tx, tx.savepoint():
        market.settlement.run_payouts(f"payout-{day}")


def _settle_channels(market: Market, day: int) -> None:
    """Each channel's gross today, less its fee, into the client reserve."""
    for name, gross in sorted(market.collected.items()):
        if gross:
            fee = market.router.channels[name].fees.fee_minor(gross)
            settle_channel(
                market.ledger,
                market.tenant,
                name,
                market.money(gross),
                market.money(min(fee, gross)),
                f"settle-{day}-{name}",
            )
    market.collected.clear()
