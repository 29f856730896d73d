"""A day's shopping: each buyer's decision first, then the top-ups as one ledger batch, the
installments due, the credit requests decided together and the checkouts as bulk commands.

Gateway: every order is paid through the card acquirer behind a redirect, one by one. Fused:
wallets are topped up through the cheapest healthy channel and orders pay from the wallet into
escrow (or with credit inside checkout).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from embedfin.core.errors import PaymentDeclined
from embedfin.payments.escrow.bulk import OrderSpec
from embedfin.payments.wallets import TopUpRequest
from embedfin.sim.agents import THIN_FILE_ORDERS, Consumer, Merchant, OrderRecord
from embedfin.sim.credit import CreditDesk, CreditRequest
from embedfin.sim.market import Market
from embedfin.sim.ordering import place, spec


@dataclass(frozen=True, slots=True)
class Purchase:
    """What one buyer set out to buy today (the shelf had it)."""

    order_id: str
    consumer: Consumer
    merchant: Merchant
    price: int
    wants_credit: bool
    faulty: bool


@dataclass
class DayBatch:
    """What the day's decisions leave for the bulk commands."""

    specs: list[OrderSpec] = field(default_factory=list)
    top_ups: list[TopUpRequest] = field(default_factory=list)
    credit_requests: list[CreditRequest] = field(default_factory=list)
    now_ns: int = 0  # when the day's orders are paid
    gmv: int = 0
    orders: int = 0


class Shopping:
    def __init__(self, market: Market, credit: CreditDesk | None) -> None:
        self.market, self.credit = market, credit

    def day(self, day: int) -> None:
        batch = DayBatch(now_ns=self.market.clock.now_ns())
        repayments = self.credit.repayments_due(batch.top_ups) if self.credit else []
        self._morning()
        for n, consumer in enumerate(self.market.consumers):
            purchase = self._decide(day, n, consumer)
            if purchase is not None:
                self._buy(day, purchase, batch)
        self.market.wallets.top_ups(batch.top_ups)  # the day's top-ups: one ledger batch
        if self.credit is not None:
            for repayment in repayments:
                self.credit.repay(repayment)
        self._finance(batch)
        self._check_out(batch.specs)
        self.market.tally.daily_gmv.append(batch.gmv)
        self.market.tally.daily_orders.append(batch.orders)

    def _morning(self) -> None:
        for consumer in self.market.consumers:  # budgets refill evenly: a 30th of a month a day
            consumer.spent = max(0, consumer.spent - consumer.budget // 30)
        for merchant in self.market.merchants:  # the morning restock
            merchant.stock = merchant.capacity

    def _decide(self, day: int, n: int, consumer: Consumer) -> Purchase | None:
        """The buyer's draws for today; None when they buy nothing (or the shelf is empty)."""
        market, rng, tally = self.market, self.market.rng, self.market.tally
        if rng.random() >= consumer.rate:
            return None
        # every draw of the world is made in every mode, so both see the same shoppers
        favourite = rng.random() < 0.7
        pool = market.by_category.get(consumer.preferred) if favourite else None
        merchant = rng.choice(pool or market.merchants)
        price = max(100, int(rng.gauss(consumer.mean_price, consumer.mean_price / 4)))
        wants_credit = rng.random() < market.scenario.installment_demand
        faulty = rng.random() >= merchant.quality
        if consumer.spent + price > consumer.budget:
            return None  # over this month's budget: no purchase
        tally.attempts += 1
        if merchant.stock <= 0:
            tally.out_of_stock += 1
            return None  # sold out today: a lost sale
        if wants_credit:
            tally.credit_wanted += 1
            tally.thin_wanted += consumer.paid_orders < THIN_FILE_ORDERS
        return Purchase(f"o-{day}-{n}", consumer, merchant, price, wants_credit, faulty)

    def _buy(self, day: int, purchase: Purchase, batch: DayBatch) -> None:
        """Pay (or queue) the purchase and book it; nothing when the payment is lost."""
        if self.market.scenario.mode == "gateway":
            channel = self._pay_at_gateway(purchase)
            if channel is None:
                return
            paid_by: str | None = channel
        else:
            if not self._pay_from_wallet(purchase, batch):
                return
            paid_by = None
        consumer, merchant, price = purchase.consumer, purchase.merchant, purchase.price
        consumer.paid_orders += 1
        consumer.spent += price
        merchant.stock -= 1
        self.market.orders[purchase.order_id] = OrderRecord(
            merchant.id, price, batch.now_ns, consumer.prompt, purchase.faulty, consumer, paid_by
        )
        self.market.to_ship[day + merchant.fulfilment_days].append(purchase.order_id)
        batch.gmv += price
        batch.orders += 1

    def _pay_at_gateway(self, purchase: Purchase) -> str | None:
        """Through the redirect to the acquirer: the channel that took the money, or None
        when the buyer was lost at the redirect or the card declined."""
        market, tally = self.market, self.market.tally
        lost = market.redirect_rng.random()
        if lost < market.scenario.redirect_abandon * (0.5 + purchase.consumer.sensitivity):
            return None  # lost at the redirect
        order_id, price = purchase.order_id, purchase.price
        place(market, order_id, purchase.consumer, purchase.merchant, price)
        tally.payments_tried += 1
        try:
            paid = market.payments.pay_order(order_id, f"pay-{order_id}")
        except PaymentDeclined:
            return None
        tally.payments_ok += 1
        tally.fees += market.router.channels[paid.channel].fees.fee_minor(price)
        market.collected[paid.channel] += price
        return paid.channel

    def _pay_from_wallet(self, purchase: Purchase, batch: DayBatch) -> bool:
        """Top the wallet up if it is short, then queue the order for credit or for the wallet
        checkout; False when no channel took the top-up."""
        consumer, price = purchase.consumer, purchase.price
        if consumer.wallet < price:
            top_up = max(price - consumer.wallet, 3 * consumer.mean_price)
            if not self.market.top_up(consumer, purchase.order_id, top_up, batch.top_ups):
                return False
        if purchase.wants_credit and self.credit is not None:
            request = CreditRequest(purchase.order_id, consumer, purchase.merchant, price)
            batch.credit_requests.append(request)
        else:
            consumer.wallet -= price
            batch.specs.append(
                spec(self.market, purchase.order_id, consumer, purchase.merchant, price)
            )
        return True

    def _finance(self, batch: DayBatch) -> None:
        """The credit requests, decided together; a declined buyer pays in full from the
        wallet."""
        if self.credit is None:
            return
        decisions = self.credit.decide(batch.credit_requests)
        for request, decision in zip(batch.credit_requests, decisions, strict=True):
            if not self.credit.finance(request, decision):
                request.consumer.wallet -= request.price
                batch.specs.append(
                    spec(
                        self.market,
                        request.order_id,
                        request.consumer,
                        request.merchant,
                        request.price,
                    )
                )

    def _check_out(self, specs: list[OrderSpec]) -> None:
        """The wallet-paid orders: placed and paid into escrow with the bulk commands."""
        if not specs:
            return
        for result in self.market.checkout.place_orders(specs):
            result.unwrap()
        for result in self.market.checkout.pay_with_wallets([s.order_id for s in specs]):
            result.unwrap()
