"""The simulation: consumers and merchants on a virtual clock, acting through the services.

Every simulated order is a real order with real ledger transfers, events and checks: consumers
place and pay orders (gateway: through the card acquirer behind a redirect, one by one;
fused: wallet top-ups routed to the cheapest healthy channel, then escrow checkout with the
bulk commands), merchants ship after their fulfilment time, buyers confirm receipt (or the
platform auto-confirms), channels settle into the client reserve daily, and merchants are paid
in real time (T+0) or on a weekly T+1 cycle. Agents are plain seeded objects rather than a Mesa
model: each day's decisions are batched into bulk service calls, which is where the time goes;
Mesa's per-agent scheduling would add cost and no capability here.

The metrics are measured from what the services did (payments approved, fees charged by the
channel actually used, when each order's money was released and became available).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from embedfin.bench.ledger import Progress, _no_progress
from embedfin.bootstrap import Services, build_consumers, check_all
from embedfin.commerce.orders import OrderLine
from embedfin.consumers.runner import Runner
from embedfin.core.clock import NS_PER_SECOND, ManualClock
from embedfin.core.errors import EmbedfinError, PaymentDeclined
from embedfin.core.money import Money
from embedfin.credit.decisions import Decision
from embedfin.credit.decisions import Outcome as CreditOutcome
from embedfin.credit.service import CreditService
from embedfin.ledger.service import Ledger
from embedfin.payments.channels import Outcome, default_channels
from embedfin.payments.escrow_bulk import OrderSpec, Shipment
from embedfin.payments.routing import Router
from embedfin.payments.settlement import settle_channel
from embedfin.payments.wallets import TopUpRequest
from embedfin.security.crypto import load_cipher
from embedfin.sim.scenario import Scenario

DAY_NS = 86_400 * NS_PER_SECOND
START = datetime(2026, 3, 2, 0, tzinfo=UTC)  # a Monday
CATEGORIES = ("apparel", "books", "electronics", "home", "toys")
TRANSIT_DAYS = 2
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


@dataclass
class Report:
    scenario: str
    mode: str
    days: int
    consumers: int
    merchants: int
    checkout_attempts: int
    orders_paid: int
    gmv_minor: int
    checkout_conversion: float
    payment_success_rate: float
    payment_cost_per_order_minor: float
    settlement_delay_days: float
    merchant_cash_cycle_days: float
    refund_rate: float  # orders refunded (faulty parcels) ÷ paid
    out_of_stock: int  # purchase attempts lost to an empty shelf
    credit_requests: int
    loans: int
    credit_access_thin_file: float  # thin-file requests granted ÷ made
    loans_in_arrears_rate: float  # loans with an installment past due at the end
    ledger_transfers_checked: int
    invariants_ok: bool
    daily_gmv_minor: list[int] = field(default_factory=list)
    daily_orders: list[int] = field(default_factory=list)


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
        self.rng = random.Random(scenario.seed)  # the world: the same in every mode
        self.redirect_rng = random.Random(scenario.seed + 1)  # the gateway's redirect losses
        if ledger is None:
            self.clock = ManualClock(int(START.timestamp()) * NS_PER_SECOND)
            self.ledger = Ledger.open(url, self.clock)
        else:
            if not isinstance(ledger.clock, ManualClock):
                raise TypeError("a simulation needs a ledger on a ManualClock")
            self.clock, self.ledger = ledger.clock, ledger
        self.tenant = tenant or f"sim-{scenario.name}"
        if router is None:
            channels = default_channels(scenario.seed)
            if scenario.mode == "gateway":
                channels = [c for c in channels if c.name == "card-acquirer"]
            for c in channels:
                c.latency_ms = 0
            router = Router(
                channels, exploration=0.05 if scenario.mode == "fused" else 0.0, seed=scenario.seed
            )
        self.router = router
        services = Services(self.ledger, router=router, cipher=load_cipher()).tenant(self.tenant)
        self.checkout = services.checkout
        self.payments = services.channel_payments
        self.wallets = services.wallets
        self.settlement = services.settlement
        self.give_back = services.refunds
        daily_demand = scenario.consumers * 0.07 / scenario.merchants  # mean rate × share
        self.merchants = [
            Merchant(
                f"m-{i}",
                self.rng.choice(CATEGORIES),
                self.rng.randint(1, 3),
                quality=self.rng.uniform(0.95, 0.998),
                capacity=max(1, math.ceil(daily_demand * self.rng.uniform(0.9, 2.0))),
            )
            for i in range(scenario.merchants)
        ]
        self.by_category: dict[str, list[Merchant]] = defaultdict(list)
        for m in self.merchants:
            self.by_category[m.category].append(m)
        self.consumers = [
            Consumer(
                f"c-{i}",
                rate=self.rng.uniform(0.02, 0.12),
                mean_price=int(self.rng.lognormvariate(math.log(4_000), 0.6)),
                sensitivity=self.rng.random(),
                prompt=self.rng.random() < 0.7,
                honest=self.rng.random() < scenario.honest_share,
                budget=0,
                preferred=self.rng.choice(CATEGORIES),
            )
            for i in range(scenario.consumers)
        ]
        for consumer in self.consumers:  # a month's budget: what the rate and prices spend
            spend = consumer.rate * 30 * consumer.mean_price
            consumer.budget = int(spend * self.rng.uniform(1.0, 2.0))
        self.orders: dict[str, OrderRecord] = {}
        self.to_ship: dict[int, list[str]] = defaultdict(list)  # day → orders to ship
        self.arrivals: dict[int, list[str]] = defaultdict(list)  # day → parcels arriving
        self.unsettled: list[str] = []  # released, waiting for the next T+1 run
        self.attempts = 0
        self.out_of_stock = 0
        self.refunds = 0
        self.payments_tried = 0
        self.payments_ok = 0
        self.fees = 0
        self.collected: dict[str, int] = defaultdict(int)  # channel → gross today
        self.daily_gmv: list[int] = []
        self.daily_orders: list[int] = []
        self.credit_wanted = self.credit_granted = 0
        self.thin_wanted = self.thin_granted = 0
        self.loans: list[str] = []
        #: due date → (loan, amount, buyer) of the installments still to repay
        self.installments_due: dict[date, list[tuple[str, int, Consumer]]] = defaultdict(list)
        self.credit: CreditService | None = None
        self.outbox_consumers = Runner(self.ledger, build_consumers(self.ledger))
        if scenario.embedded_credit:
            self.lending = services.lending
            self.credit = services.credit  # fits the bootstrap scorecard: setup, not trade

    # --- setup ---------------------------------------------------------------------------------
    def _open_shop(self) -> None:
        for m in self.merchants:
            self.checkout.register_merchant(
                m.id,
                category=m.category,
                country="DE",
                settlement_currency=self.s.currency,
                payout_preference="t0" if self.s.payout_cycle_days == 0 else "t1",
            )
            self.settlement.bind_bank_account(m.id, f"tok_sim{m.id.replace('-', '')}0000", "0000")
        if self.credit is not None:
            deposit = Money(self.s.funder_deposit, self.s.currency)
            self.lending.fund(self.credit.default_funder, deposit, f"{self.tenant}-funding")

    # --- one day -------------------------------------------------------------------------------
    def _charge(self, request_id: str, amount: int) -> str | None:
        """A top-up charge routed across the channels with failover; the channel or None."""
        money = Money(amount, self.s.currency)
        for channel in self.router.rank(money):
            self.payments_tried += 1
            response = channel.charge(f"{self.tenant}:{request_id}:{channel.name}", money, "")
            self.router.record(channel.name, response.outcome is Outcome.APPROVED)
            if response.outcome is Outcome.APPROVED:
                self.payments_ok += 1
                self.fees += channel.fees.fee_minor(amount)
                self.collected[channel.name] += amount
                return channel.name
            if not response.retriable:
                return None
        return None

    def _shop_day(self, day: int) -> None:
        """A day's shopping: decisions first, then the top-ups as one ledger batch and the
        checkouts as bulk commands."""
        now = self.clock.now_ns()
        specs: list[OrderSpec] = []
        top_ups: list[TopUpRequest] = []
        credit_requests: list[tuple[str, Consumer, Merchant, int]] = []
        repayments = self._repayments_due(top_ups) if self.credit is not None else []
        gmv = orders = 0
        for consumer in self.consumers:  # budgets refill evenly: a 30th of a month a day
            consumer.spent = max(0, consumer.spent - consumer.budget // 30)
        for merchant in self.merchants:  # the morning restock
            merchant.stock = merchant.capacity
        for n, consumer in enumerate(self.consumers):
            if self.rng.random() >= consumer.rate:
                continue
            # every draw of the world is made in every mode, so both see the same shoppers
            favourite = self.rng.random() < 0.7
            pool = self.by_category.get(consumer.preferred) if favourite else None
            merchant = self.rng.choice(pool or self.merchants)
            price = max(100, int(self.rng.gauss(consumer.mean_price, consumer.mean_price / 4)))
            wants_credit = self.rng.random() < self.s.installment_demand
            faulty = self.rng.random() >= merchant.quality
            if consumer.spent + price > consumer.budget:
                continue  # over this month's budget: no purchase
            self.attempts += 1
            if merchant.stock <= 0:
                self.out_of_stock += 1
                continue  # sold out today: a lost sale
            order_id = f"o-{day}-{n}"
            paid_by: str | None = None
            if wants_credit:
                self.credit_wanted += 1
                self.thin_wanted += consumer.paid_orders < THIN_FILE_ORDERS
            if self.s.mode == "gateway":
                lost = self.redirect_rng.random()
                if lost < self.s.redirect_abandon * (0.5 + consumer.sensitivity):
                    continue  # lost at the redirect
                self._place(order_id, consumer, merchant, price)
                self.payments_tried += 1
                try:
                    paid = self.payments.pay_order(order_id, f"pay-{order_id}")
                except PaymentDeclined:
                    continue
                self.payments_ok += 1
                channel = self.router.channels[paid.channel]
                self.fees += channel.fees.fee_minor(price)
                self.collected[paid.channel] += price
                paid_by = paid.channel
            else:
                if consumer.wallet < price:
                    top_up = max(price - consumer.wallet, 3 * consumer.mean_price)
                    used = self._charge(f"top-{order_id}", top_up)
                    if used is None:
                        continue
                    top_ups.append(
                        TopUpRequest(
                            consumer.id, Money(top_up, self.s.currency), used, f"top-{order_id}"
                        )
                    )
                    consumer.wallet += top_up
                if wants_credit and self.credit is not None:
                    credit_requests.append((order_id, consumer, merchant, price))
                else:
                    consumer.wallet -= price
                    specs.append(self._spec(order_id, consumer, merchant, price))
            consumer.paid_orders += 1
            consumer.spent += price
            merchant.stock -= 1
            self.orders[order_id] = OrderRecord(
                merchant.id, price, now, consumer.prompt, faulty, consumer, paid_by
            )
            self.to_ship[day + merchant.fulfilment_days].append(order_id)
            gmv += price
            orders += 1
        self.wallets.top_ups(top_ups)  # the day's top-ups: one ledger batch
        for loan_id, amount, request_id in repayments:
            self._repay(loan_id, amount, request_id)
        decisions = self._decide(credit_requests)
        for (order_id, consumer, merchant, price), decision in zip(
            credit_requests, decisions, strict=True
        ):
            if not self._finance(order_id, consumer, merchant, price, decision):
                consumer.wallet -= price  # declined: the buyer pays in full from the wallet
                specs.append(self._spec(order_id, consumer, merchant, price))
        if specs:
            for result in self.checkout.place_orders(specs):
                result.unwrap()
            for result in self.checkout.pay_with_wallets([s.order_id for s in specs]):
                result.unwrap()
        self.daily_gmv.append(gmv)
        self.daily_orders.append(orders)

    def _place(self, order_id: str, consumer: Consumer, merchant: Merchant, price: int) -> None:
        """One order placed on its own (to pay through a channel or with credit)."""
        self.checkout.place_order(
            order_id,
            buyer_id=consumer.id,
            merchant_id=merchant.id,
            currency_code=self.s.currency,
            lines=[OrderLine("item", 1, price)],
        )

    def _spec(self, order_id: str, consumer: Consumer, merchant: Merchant, price: int) -> OrderSpec:
        lines = [OrderLine("item", 1, price)]
        return OrderSpec(order_id, consumer.id, merchant.id, self.s.currency, lines)

    # --- credit inside checkout ----------------------------------------------------------------
    def _decide(self, requests: list[tuple[str, Consumer, Merchant, int]]) -> list[Decision]:
        """The day's credit requests, decided together (as a checkout batch would)."""
        if not requests:
            return []
        assert self.credit is not None
        return self.credit.decide_many(
            [
                (f"d-{order_id}", consumer.id, Money(price, self.s.currency), merchant.category)
                for order_id, consumer, merchant, price in requests
            ]
        )

    def _finance(
        self, order_id: str, consumer: Consumer, merchant: Merchant, price: int, decision: Decision
    ) -> bool:
        """On an offer that covers the price, place the order and pay it with the first plan
        offered. False (and nothing changed) when credit is not granted."""
        assert self.credit is not None
        decision_id = f"d-{order_id}"
        declined = decision.outcome is CreditOutcome.DECLINE or not decision.plans
        if declined or decision.amount_minor < price:
            return False
        plan = decision.plans[0]
        today = self.lending.today()
        try:
            with self.ledger.transaction() as tx, tx.savepoint():
                self._place(order_id, consumer, merchant, price)
                loan = self.credit.finance(order_id, decision_id, plan, f"l-{order_id}")
        except EmbedfinError:
            return False  # e.g. the funder's cash ran out: the buyer pays in full
        consumer.wallet -= loan.repaid_minor  # the installment due at checkout, if any
        schedule = self.lending.catalog.plans[plan].schedule(price, today)
        paid_at_checkout = loan.repaid_minor > 0
        for installment in schedule.installments[1 if paid_at_checkout else 0 :]:
            self.installments_due[installment.due].append(
                (loan.loan_id, installment.total_minor, consumer)
            )
        self.loans.append(loan.loan_id)
        self.orders[order_id].financed = True
        self.credit_granted += 1
        # paid_orders already counts this purchase: the file was thin if fewer came before
        self.thin_granted += consumer.paid_orders <= THIN_FILE_ORDERS
        return True

    def _repayments_due(self, top_ups: list[TopUpRequest]) -> list[tuple[str, int, str]]:
        """Today's installments: honest buyers top up if they must and repay; the others
        do not."""
        today = self.lending.today()
        due = self.installments_due.pop(today, [])
        repayments = []
        for loan_id, amount, consumer in due:
            if not consumer.honest:
                continue
            request_id = f"r-{loan_id}-{today.isoformat()}"
            if consumer.wallet < amount:
                top_up = max(amount - consumer.wallet, consumer.mean_price)
                used = self._charge(f"top-{request_id}", top_up)
                if used is None:
                    continue  # the card failed today: the installment is late
                top_ups.append(
                    TopUpRequest(
                        consumer.id, Money(top_up, self.s.currency), used, f"top-{request_id}"
                    )
                )
                consumer.wallet += top_up
            consumer.wallet -= amount
            repayments.append((loan_id, amount, request_id))
        return repayments

    def _repay(self, loan_id: str, amount: int, request_id: str) -> None:
        owed = self.lending.get(loan_id).owed_minor
        if owed > 0:
            self.lending.repay(loan_id, Money(min(amount, owed), self.s.currency), request_id)

    def _in_arrears(self) -> int:
        return sum(self.lending.delinquency(loan_id)[0] > 0 for loan_id in self.loans)

    def _fulfil_and_confirm(self, day: int) -> None:
        """Merchants ship what is due today. Parcels arrive two days later: a faulty one is
        refunded before the merchant is paid (the escrow's buyer protection), prompt buyers
        confirm the rest, and the platform auto-confirms what is left when the protection
        period ends."""
        now = self.clock.now_ns()
        to_ship = [Shipment(order_id, f"T-{order_id}") for order_id in self.to_ship.pop(day, [])]
        for result in self.checkout.ship_many(to_ship):
            if result.error is None:
                self.orders[result.order_id].shipped_ns = now
                self.arrivals[day + TRANSIT_DAYS].append(result.order_id)
        confirm = []
        for order_id in self.arrivals.pop(day, []):
            record = self.orders[order_id]
            if record.faulty:
                self._refund(order_id, record)
            elif record.prompt:
                confirm.append(order_id)
        released = [r.order_id for r in self.checkout.confirm_receipts(confirm) if r.error is None]
        released += self.checkout.auto_confirm_due(limit=1_000_000)
        for order_id in released:
            record = self.orders[order_id]
            record.released_ns = now
            if self.s.payout_cycle_days == 0:
                record.available_ns = now
            else:
                self.unsettled.append(order_id)

    def _refund(self, order_id: str, record: OrderRecord) -> None:
        """The whole order back to how it was paid: the loan first when it was financed."""
        money, request_id = Money(record.amount, self.s.currency), f"rf-{order_id}"
        self.give_back.refund(order_id, money, request_id)
        if not record.financed:
            if record.channel is None:  # paid from the wallet: back to the wallet
                record.buyer.wallet += record.amount
            else:  # the channel nets the refund from what it still owes today
                owed = self.collected[record.channel]
                self.collected[record.channel] = owed - min(owed, record.amount)
        self.refunds += 1

    def _settle(self, day: int) -> None:
        now = self.clock.now_ns()
        for name, gross in sorted(self.collected.items()):
            if gross:
                fee = self.router.channels[name].fees.fee_minor(gross)
                settle_channel(
                    self.ledger,
                    self.tenant,
                    name,
                    Money(gross, self.s.currency),
                    Money(min(fee, gross), self.s.currency),
                    f"settle-{day}-{name}",
                )
        self.collected.clear()
        cycle = self.s.payout_cycle_days
        if cycle and day % cycle == cycle - 1:
            self.settlement.run_t1(f"t1-{day}", now)
            for order_id in self.unsettled:
                self.orders[order_id].available_ns = now
            self.unsettled.clear()
        if self.credit is not None:  # servicing: punctuality for the features, late fees
            self.lending.report_due_installments()
            self.lending.assess_late_fees()
        # a payout the reserve cannot make yet waits a day (and undoes only itself)
        with suppress(EmbedfinError), self.ledger.transaction() as tx, tx.savepoint():
            self.settlement.run_payouts(f"payout-{day}")

    def _day(self) -> AbstractContextManager[object]:
        """In the fused marketplace a day's commands share one unit of work (one commit), as a
        production batch writer would group them; the gateway's channel payments must commit
        their attempts before each call to the acquirer, so each command commits alone."""
        return self.ledger.transaction() if self.s.mode == "fused" else nullcontext()

    # --- the run -------------------------------------------------------------------------------
    def run(self, progress: Progress = _no_progress) -> Report:
        self._open_shop()
        with progress(f"simulate {self.s.name}", self.s.days) as advance:
            for day in range(self.s.days):
                with self._day():
                    self.clock.advance(ns=9 * 3_600 * NS_PER_SECOND)  # 09:00: shops open
                    self._shop_day(day)
                    self._fulfil_and_confirm(day)
                    self.clock.advance(ns=14 * 3_600 * NS_PER_SECOND)  # 23:00: settlement
                    self._settle(day)
                    self.outbox_consumers.run_all()  # the platform worker's pass, in the day
                self.clock.advance(ns=1 * 3_600 * NS_PER_SECOND)
                advance(1)
        with self.ledger.reader() as conn:
            report = check_all(conn)
        paid = list(self.orders.values())
        available = [r for r in paid if r.available_ns]
        tried = max(self.payments_tried, 1)
        return Report(
            scenario=self.s.name,
            mode=self.s.mode,
            days=self.s.days,
            consumers=self.s.consumers,
            merchants=self.s.merchants,
            checkout_attempts=self.attempts,
            orders_paid=len(paid),
            gmv_minor=sum(r.amount for r in paid),
            checkout_conversion=round(len(paid) / max(self.attempts, 1), 4),
            payment_success_rate=round(self.payments_ok / tried, 4),
            payment_cost_per_order_minor=round(self.fees / max(len(paid), 1), 2),
            settlement_delay_days=round(
                sum(r.available_ns - r.paid_ns for r in available)
                / max(len(available), 1)
                / DAY_NS,
                3,
            ),
            merchant_cash_cycle_days=round(
                sum(r.available_ns - r.shipped_ns for r in available)
                / max(len(available), 1)
                / DAY_NS,
                3,
            ),
            refund_rate=round(self.refunds / max(len(paid), 1), 4),
            out_of_stock=self.out_of_stock,
            credit_requests=self.credit_wanted,
            loans=len(self.loans),
            credit_access_thin_file=round(self.thin_granted / max(self.thin_wanted, 1), 4),
            loans_in_arrears_rate=round(self._in_arrears() / max(len(self.loans), 1), 4),
            ledger_transfers_checked=report.transfers,
            invariants_ok=report.ok,
            daily_gmv_minor=self.daily_gmv,
            daily_orders=self.daily_orders,
        )
