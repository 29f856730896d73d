"""``embedfin bench simulate``: simulated orders per second end to end on embedded SQLite.

The ``fused`` scenario at the given scale on a fresh scratch database: every order placed, paid
(wallet top-ups through the routed channels), shipped, confirmed and settled through the service
layer, then ``embedfin check``. The baseline in the same run is the same number of orders
through the bulk checkout commands alone (place and pay, no agents, no channels, no
settlement): ``ratio`` is what the agents and the rest of the lifecycle cost on top.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from embedfin.bench.memory import peak_rss_mb
from embedfin.bootstrap import Services
from embedfin.commerce.orders import OrderLine
from embedfin.core.money import Money
from embedfin.db.scratch import scratch_database
from embedfin.ledger.service import Ledger
from embedfin.payments.escrow.bulk import OrderSpec
from embedfin.progress import Progress, no_progress
from embedfin.sim.engine import Simulation
from embedfin.sim.scenario import load


@dataclass(frozen=True, slots=True)
class SimulateBenchResult:
    consumers: int
    days: int
    orders: int
    seconds: float
    orders_per_s: float
    baseline_orders_per_s: float
    ratio: float
    invariants_ok: bool
    peak_rss_mb: float


def _baseline(orders: int) -> float:
    with scratch_database(None, "simbase") as url:
        ledger = Ledger.open(url)
        services = Services(ledger).tenant("base")
        shop = services.checkout
        shop.register_merchant("m", category="books", country="DE", settlement_currency="EUR")
        wallets = services.wallets
        buyers = 200
        for b in range(buyers):
            wallets.top_up(f"b{b}", Money(1_000_000, "EUR"), "card", f"t{b}")  # the cap
        started = time.perf_counter()
        for first in range(0, orders, 500):
            specs = [
                OrderSpec(f"o{n}", f"b{n % buyers}", "m", "EUR", [OrderLine("x", 1, 1_000)])
                for n in range(first, min(first + 500, orders))
            ]
            shop.place_orders(specs)
            shop.pay_with_wallets([s.order_id for s in specs])
        return orders / (time.perf_counter() - started)


def run(consumers: int, days: int, progress: Progress = no_progress) -> SimulateBenchResult:
    scenario = load("fused").scaled(consumers=consumers, days=days)
    with scratch_database(None, "simbench") as url:
        simulation = Simulation(scenario, url)  # setup (the bootstrap credit model) untimed
        started = time.perf_counter()
        report = simulation.run(progress)
        seconds = time.perf_counter() - started
    per_s = report.orders_paid / seconds
    baseline = _baseline(max(report.orders_paid, 500))
    return SimulateBenchResult(
        consumers=consumers,
        days=days,
        orders=report.orders_paid,
        seconds=round(seconds, 2),
        orders_per_s=round(per_s, 1),
        baseline_orders_per_s=round(baseline, 1),
        ratio=round(per_s / baseline, 3),
        invariants_ok=report.invariants_ok,
        peak_rss_mb=round(peak_rss_mb(), 1),
    )
