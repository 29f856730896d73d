"""The state one run shares between its phases: the world's agents, the services they act
through, the order book and what the channels collected today.

``charge`` lives here because shopping and repayments both top wallets up through the routed
channels.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from embedfin.core.clock import ManualClock
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import Outcome
from embedfin.payments.channels.routing import Router
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.payouts.batches import MerchantSettlement
from embedfin.payments.refunds.service import Refunds
from embedfin.payments.wallets import TopUpRequest, Wallets
from embedfin.sim.agents import Consumer, Merchant, OrderRecord
from embedfin.sim.metrics import Tally
from embedfin.sim.scenario import Scenario


@dataclass
class Market:
    """Attributes:
    rng: the world's draws (the same in every mode); ``redirect_rng`` the gateway's redirect
        losses.
    orders: every paid order by id; ``to_ship`` and ``arrivals`` the orders due on a day.
    unsettled: released orders waiting for the next T+1 run.
    collected: gross per channel today, settled into the client reserve at night.
    """

    scenario: Scenario
    rng: random.Random
    redirect_rng: random.Random
    clock: ManualClock
    ledger: Ledger
    tenant: str
    router: Router
    checkout: Checkout
    payments: ChannelPayments
    wallets: Wallets
    settlement: MerchantSettlement
    give_back: Refunds
    merchants: list[Merchant]
    by_category: dict[str, list[Merchant]]
    consumers: list[Consumer]
    tally: Tally = field(default_factory=Tally)
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    to_ship: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    arrivals: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    unsettled: list[str] = field(default_factory=list)
    collected: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def money(self, amount_minor: int) -> Money:
        return Money(amount_minor, self.scenario.currency)

    def charge(self, request_id: str, amount: int) -> str | None:
        """A top-up charge routed across the channels with failover; the channel or None."""
        money = self.money(amount)
        for channel in self.router.rank(money):
            self.tally.payments_tried += 1
            response = channel.charge(f"{self.tenant}:{request_id}:{channel.name}", money, "")
            self.router.record(channel.name, response.outcome is Outcome.APPROVED)
            if response.outcome is Outcome.APPROVED:
                self.tally.payments_ok += 1
                self.tally.fees += channel.fees.fee_minor(amount)
                self.collected[channel.name] += amount
                return channel.name
            if not response.retriable:
                return None
        return None

    def top_up(
        self, consumer: Consumer, request_id: str, amount: int, into: list[TopUpRequest]
    ) -> bool:
        """Charge ``amount`` for the buyer's wallet and queue the top-up in ``into`` (the
        day's batch); False when every channel refused it."""
        used = self.charge(f"top-{request_id}", amount)
        if used is None:
            return False
        into.append(TopUpRequest(consumer.id, self.money(amount), used, f"top-{request_id}"))
        consumer.wallet += amount
        return True
