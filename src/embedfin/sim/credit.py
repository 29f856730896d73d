"""Credit inside checkout: the day's requests decided together, financed orders, and the
installments buyers repay (honest ones) or leave late (the others)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from embedfin.core.errors import EmbedfinError
from embedfin.credit.decisions import Decision
from embedfin.credit.decisions import Outcome as CreditOutcome
from embedfin.credit.service import CreditService
from embedfin.lending.servicing import Lending
from embedfin.payments.wallets import TopUpRequest
from embedfin.sim.agents import THIN_FILE_ORDERS, Consumer, Merchant
from embedfin.sim.market import Market
from embedfin.sim.ordering import place


@dataclass(frozen=True, slots=True)
class CreditRequest:
    """A purchase whose buyer asked to pay in installments."""

    order_id: str
    consumer: Consumer
    merchant: Merchant
    price: int


@dataclass(frozen=True, slots=True)
class Repayment:
    loan_id: str
    amount: int
    request_id: str


class CreditDesk:
    """Decides, finances and services the run's loans through ``lending`` and ``credit``."""

    def __init__(self, market: Market, lending: Lending, credit: CreditService) -> None:
        self.market, self.lending, self.credit = market, lending, credit
        self.loans: list[str] = []
        #: due date → (loan, amount, buyer) of the installments still to repay
        self.installments_due: dict[date, list[tuple[str, int, Consumer]]] = defaultdict(list)

    def fund(self) -> None:
        """The funder's opening deposit of lending cash."""
        scenario = self.market.scenario
        deposit = self.market.money(scenario.funder_deposit)
        self.lending.fund(self.credit.default_funder, deposit, f"{self.market.tenant}-funding")

    def decide(self, requests: list[CreditRequest]) -> list[Decision]:
        """The day's credit requests, decided together (as a checkout batch would)."""
        if not requests:
            return []
        money = self.market.money
        return self.credit.decide_many(
            [
                (f"d-{r.order_id}", r.consumer.id, money(r.price), r.merchant.category)
                for r in requests
            ]
        )

    def finance(self, request: CreditRequest, decision: Decision) -> bool:
        """On an offer that covers the price, place the order and pay it with the first plan
        offered. False (and nothing changed) when credit is not granted."""
        order_id, consumer, price = request.order_id, request.consumer, request.price
        declined = decision.outcome is CreditOutcome.DECLINE or not decision.plans
        if declined or decision.amount_minor < price:
            return False
        plan = decision.plans[0]
        today = self.lending.today()
        try:
            with self.market.ledger.transaction() as tx, tx.savepoint():
                place(self.market, order_id, consumer, request.merchant, price)
                loan = self.credit.finance(order_id, f"d-{order_id}", plan, f"l-{order_id}")
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
        self.market.orders[order_id].financed = True
        self.market.tally.credit_granted += 1
        # paid_orders already counts this purchase: the file was thin if fewer came before
        self.market.tally.thin_granted += consumer.paid_orders <= THIN_FILE_ORDERS
        return True

    def repayments_due(self, top_ups: list[TopUpRequest]) -> list[Repayment]:
        """Today's installments: honest buyers top up if they must and repay; the others
        do not."""
        today = self.lending.today()
        repayments = []
        for loan_id, amount, consumer in self.installments_due.pop(today, []):
            if not consumer.honest:
                continue
            request_id = f"r-{loan_id}-{today.isoformat()}"
            if consumer.wallet < amount:
                top_up = max(amount - consumer.wallet, consumer.mean_price)
                if not self.market.top_up(consumer, request_id, top_up, top_ups):
                    continue  # the card failed today: the installment is late
            consumer.wallet -= amount
            repayments.append(Repayment(loan_id, amount, request_id))
        return repayments

    def repay(self, repayment: Repayment) -> None:
        owed = self.lending.get(repayment.loan_id).owed_minor
        if owed > 0:
            amount = self.market.money(min(repayment.amount, owed))
            self.lending.repay(repayment.loan_id, amount, repayment.request_id)

    def service_day(self) -> None:
        """The nightly servicing: punctuality for the features, late fees."""
        self.lending.report_due_installments()
        self.lending.assess_late_fees()

    def in_arrears(self) -> int:
        return sum(self.lending.delinquency(loan_id)[0] > 0 for loan_id in self.loans)
