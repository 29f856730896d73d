"""The simulation: consumers and merchants on a virtual clock, acting through the services.

Every simulated order is a real order with real ledger transfers, events and checks: consumers
place and pay orders (gateway: through the card acquirer behind a redirect, one by one;
fused: wallet top-ups routed to the cheapest healthy channel, then escrow checkout with the
bulk commands), merchants ship after their fulfilment time, buyers confirm receipt (or the
platform auto-confirms), channels settle into the client reserve daily, and merchants are paid
in real time (T+0) or on a weekly T+1 cycle.

``Simulation`` only wires a run and orders its day; the concepts live beside it: the agents
(``agents``), the state the phases share (``market``), shopping and checkout (``shopping``),
credit and repayments (``credit``), fulfilment, confirmation and refunds (``fulfilment``),
settlement and payouts (``settlement``) and the report (``metrics``).
"""

from __future__ import annotations

import random
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime

from embedfin.bootstrap import Services, TenantServices, build_consumers, check_all
from embedfin.consumers.runner import Runner
from embedfin.core.clock import NS_PER_SECOND, ManualClock
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.processors import default_channels
from embedfin.payments.channels.routing import Router
from embedfin.progress import Progress, no_progress
from embedfin.security.crypto import load_cipher
from embedfin.sim import agents
from embedfin.sim.credit import CreditDesk
from embedfin.sim.fulfilment import fulfil_and_confirm
from embedfin.sim.market import Market
from embedfin.sim.metrics import DAY_NS, Report, assemble_report
from embedfin.sim.scenario import Scenario
from embedfin.sim.settlement import settle
from embedfin.sim.shopping import Shopping

__all__ = ["DAY_NS", "START", "Report", "Simulation"]

START = datetime(2026, 3, 2, 0, tzinfo=UTC)  # a Monday
HOUR_NS = 3_600 * NS_PER_SECOND


def _own_ledger(url: str | None) -> Ledger:
    """A fresh ledger on a virtual clock at the scenario's start."""
    return Ledger.open(url, ManualClock(int(START.timestamp()) * NS_PER_SECOND))


def _scenario_router(scenario: Scenario) -> Router:
    """The default channels without latency (the gateway has only the card acquirer); the
    fused marketplace explores a little."""
    channels = default_channels(scenario.seed)
    if scenario.mode == "gateway":
        channels = [c for c in channels if c.name == "card-acquirer"]
    for c in channels:
        c.latency_ms = 0
    exploration = 0.05 if scenario.mode == "fused" else 0.0
    return Router(channels, exploration=exploration, seed=scenario.seed)


class Simulation:
    """A scenario on a fresh database (``url``), or on a running platform's ledger: then pass
    the ``ledger`` (its clock must be a ``ManualClock``: the simulation moves it a day at a
    time), the ``tenant`` to act for and, to share live channel statistics, its ``router``."""

    def __init__(
        self,
        scenario: Scenario,
        url: str | None = None,
        *,
        ledger: Ledger | None = None,
        tenant: str | None = None,
        router: Router | None = None,
    ) -> None:
        self.s = scenario
        self.ledger = _own_ledger(url) if ledger is None else ledger
        if not isinstance(self.ledger.clock, ManualClock):
            raise TypeError("a simulation needs a ledger on a ManualClock")
        self.clock: ManualClock = self.ledger.clock
        self.tenant = tenant or f"sim-{scenario.name}"
        self.router = _scenario_router(scenario) if router is None else router
        services = Services(self.ledger, router=self.router, cipher=load_cipher())
        tenant_services = services.tenant(self.tenant)
        self.market = self._market(tenant_services)
        self.outbox_consumers = Runner(
            self.ledger, build_consumers(self.ledger, services.wiring.risk)
        )
        self.credit: CreditDesk | None = None
        if scenario.embedded_credit:
            # credit fits the bootstrap scorecard: setup, not trade
            self.credit = CreditDesk(self.market, tenant_services.lending, tenant_services.credit)
        self.shopping = Shopping(self.market, self.credit)

    def _market(self, services: TenantServices) -> Market:
        """The world drawn from the seed (the same in every mode) and the services it uses."""
        rng = random.Random(self.s.seed)
        redirect_rng = random.Random(self.s.seed + 1)  # the gateway's redirect losses
        merchants = agents.open_merchants(self.s, rng)
        return Market(
            scenario=self.s,
            rng=rng,
            redirect_rng=redirect_rng,
            clock=self.clock,
            ledger=self.ledger,
            tenant=self.tenant,
            router=self.router,
            checkout=services.checkout,
            payments=services.channel_payments,
            wallets=services.wallets,
            settlement=services.settlement,
            give_back=services.refunds,
            merchants=merchants,
            by_category=agents.by_category(merchants),
            consumers=agents.recruit_consumers(self.s, rng),
        )

    def _open_shop(self) -> None:
        payout_preference = "t0" if self.s.payout_cycle_days == 0 else "t1"
        for m in self.market.merchants:
            self.market.checkout.register_merchant(
                m.id,
                category=m.category,
                country="DE",
                settlement_currency=self.s.currency,
                payout_preference=payout_preference,
            )
            token = f"tok_sim{m.id.replace('-', '')}0000"
            self.market.settlement.bind_bank_account(m.id, token, "0000")
        if self.credit is not None:
            self.credit.fund()

    def _day(self) -> AbstractContextManager[object]:
        """In the fused marketplace a day's commands share one unit of work (one commit), as a
        production batch writer would group them; the gateway's channel payments must commit
        their attempts before each call to the acquirer, so each command commits alone."""
        return self.ledger.transaction() if self.s.mode == "fused" else nullcontext()

    def _run_day(self, day: int) -> None:
        with self._day():
            self.clock.advance(ns=9 * HOUR_NS)  # 09:00: shops open
            self.shopping.day(day)
            fulfil_and_confirm(self.market, day)
            self.clock.advance(ns=14 * HOUR_NS)  # 23:00: settlement
            settle(self.market, self.credit, day)
            self.outbox_consumers.run_all()  # the platform worker's pass, in the day
        self.clock.advance(ns=1 * HOUR_NS)

    def run(self, progress: Progress = no_progress) -> Report:
        self._open_shop()
        with progress(f"simulate {self.s.name}", self.s.days) as advance:
            for day in range(self.s.days):
                self._run_day(day)
                advance(1)
        with self.ledger.reader() as conn:
            check = check_all(conn)
        credit = self.credit
        return assemble_report(
            self.s,
            self.market.tally,
            list(self.market.orders.values()),
            loans=len(credit.loans) if credit else 0,
            in_arrears=credit.in_arrears() if credit else 0,
            check=check,
        )
