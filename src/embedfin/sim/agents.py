"""The simulation's agents and their records: consumers, merchants and the orders they make.

Agents are plain seeded objects rather than a Mesa model: each day's decisions are batched into
bulk service calls, which is where the time goes; Mesa's per-agent scheduling would add cost and
no capability here. Every draw of the world comes from one ``random.Random`` in a fixed order, so
every mode of one seed sees the same people and shops.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass

from embedfin.sim.scenario import Scenario

CATEGORIES = ("apparel", "books", "electronics", "home", "toys")
THIN_FILE_ORDERS = 3  # a buyer with fewer paid orders before has a thin file


@dataclass
class Consumer:
    id: str
    rate: float  # purchases per day
    mean_price: int  # minor units
    sensitivity: float  # 0..1: abandons redirects more
    prompt: bool  # confirms receipt when the parcel arrives (else waits for auto-confirm)
    honest: bool  # repays installments (the others stop paying after the first)
    budget: int  # what the buyer spends at most in 30 days (minor units; refills daily)
    preferred: str  # the category most purchases go to
    wallet: int = 0
    paid_orders: int = 0
    spent: int = 0  # of the budget, not yet refilled


@dataclass
class Merchant:
    id: str
    category: str
    fulfilment_days: int
    quality: float  # share of parcels that arrive as described (the rest are refunded)
    capacity: int  # units in stock after each morning's restock
    stock: int = 0


@dataclass
class OrderRecord:
    merchant: str
    amount: int
    paid_ns: int
    prompt: bool  # the buyer confirms receipt on arrival
    faulty: bool  # arrives not as described: the buyer asks for a refund instead
    buyer: Consumer
    channel: str | None = None  # paid through a channel (the gateway), not the wallet
    financed: bool = False
    shipped_ns: int = 0
    released_ns: int = 0
    available_ns: int = 0


def open_merchants(scenario: Scenario, rng: random.Random) -> list[Merchant]:
    """The scenario's shops, each stocked for about its share of the daily demand."""
    daily_demand = scenario.consumers * 0.07 / scenario.merchants  # mean rate × share
    return [
        Merchant(
            f"m-{i}",
            rng.choice(CATEGORIES),
            rng.randint(1, 3),
            quality=rng.uniform(0.95, 0.998),
            capacity=max(1, math.ceil(daily_demand * rng.uniform(0.9, 2.0))),
        )
        for i in range(scenario.merchants)
    ]


def by_category(merchants: list[Merchant]) -> dict[str, list[Merchant]]:
    shelves: dict[str, list[Merchant]] = defaultdict(list)
    for merchant in merchants:
        shelves[merchant.category].append(merchant)
    return shelves


def recruit_consumers(scenario: Scenario, rng: random.Random) -> list[Consumer]:
    """The scenario's buyers, then their monthly budgets (drawn after all of them)."""
    consumers = [
        Consumer(
            f"c-{i}",
            rate=rng.uniform(0.02, 0.12),
            mean_price=int(rng.lognormvariate(math.log(4_000), 0.6)),
            sensitivity=rng.random(),
            prompt=rng.random() < 0.7,
            honest=rng.random() < scenario.honest_share,
            budget=0,
            preferred=rng.choice(CATEGORIES),
        )
        for i in range(scenario.consumers)
    ]
    for consumer in consumers:  # a month's budget: what the rate and prices spend
        spend = consumer.rate * 30 * consumer.mean_price
        consumer.budget = int(spend * rng.uniform(1.0, 2.0))
    return consumers
