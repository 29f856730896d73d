"""Disputes and returns in the one case queue: opened from their events, decided in the queue
through the after-sales services, closed when settled on their own route; on both databases."""

from __future__ import annotations

import pytest

from embedfin.bootstrap import Services, TenantServices, build_consumers, check_all
from embedfin.commerce.orders import OrderLine
from embedfin.consumers.runner import Runner
from embedfin.core.errors import InvalidInput, InvalidStateTransition
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.risk.case_feed import CaseFeed
from embedfin.risk.cases import Cases
from embedfin.risk.config import RiskSettings
from embedfin.risk.counters import SqlCounters

TENANT = "shop-q"


def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture
def shop(ledger: Ledger) -> TenantServices:
    services = Services(ledger, risk=RiskSettings(True, SqlCounters())).tenant(TENANT)
    services.checkout.register_merchant(
        "m-1", category="books", country="US", settlement_currency="USD"
    )
    services.wallets.top_up("b-1", usd(100_000), "card", "top-up")
    settle_channel(ledger, TENANT, "card", usd(100_000), usd(0), "settle-1")
    return services


def shipped(shop: TenantServices, order_id: str, amount: int = 4_000) -> None:
    shop.checkout.place_order(
        order_id, buyer_id="b-1", merchant_id="m-1", currency_code="USD",
        lines=[OrderLine("book", 1, amount)],
    )  # fmt: skip
    shop.checkout.pay_with_wallet(order_id)
    shop.checkout.ship(order_id, "T-1")


def feed(shop: TenantServices) -> None:
    Runner(shop.ledger, [CaseFeed(lambda t: Cases(shop.ledger, t, None))]).run_all()


def test_a_dispute_opens_a_case_the_queue_decides_for_the_buyer(shop: TenantServices) -> None:
    shipped(shop, "o-1")
    shop.checkout.open_dispute("o-1", "never arrived")
    feed(shop)
    (case,) = shop.cases.queue(kind="dispute")
    assert (case.order_id, case.amount_minor, case.currency) == ("o-1", 4_000, "USD")
    assert (case.buyer_id, case.merchant_id, case.status) == ("b-1", "m-1", "open")
    with pytest.raises(InvalidInput):
        shop.cases.decide(case.case_id, "reject", "a dispute is not rejected", "officer")
    decided = shop.cases.decide(case.case_id, "refund", "no proof of delivery", "officer")
    assert decided.outcome == "refund"
    assert shop.checkout.get_order("o-1").refunded_minor == 4_000
    feed(shop)  # the dispute_resolved it caused leaves the decided case alone
    assert shop.cases.get(case.case_id).outcome == "refund"
    with shop.ledger.engine.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def test_a_dispute_settled_on_its_own_route_closes_its_case(shop: TenantServices) -> None:
    shipped(shop, "o-1")
    shop.checkout.open_dispute("o-1", "damaged")
    feed(shop)
    shop.refunds.resolve_dispute("o-1", "release")  # the merchant's proof, on the API route
    feed(shop)
    (case,) = shop.cases.queue(kind="dispute")
    assert (case.status, case.outcome, case.outcome_reason) == (
        "decided", "settled", "release"
    )  # fmt: skip
    with pytest.raises(InvalidStateTransition):
        shop.cases.decide(case.case_id, "refund", "too late", "officer")


def test_a_return_case_is_rejected_through_after_sales_and_opens_once(
    shop: TenantServices,
) -> None:
    shipped(shop, "o-1")
    shop.aftersales.mark_delivered("o-1")
    shop.aftersales.request_return("o-1", "wrong size")
    feed(shop)
    feed(shop)
    runner = Runner(shop.ledger, build_consumers(shop.ledger, RiskSettings()))
    runner.run_all()  # the composition's feed reads the same events again: still one case
    (case,) = shop.cases.queue(kind="return")
    assert case.summary.endswith("wrong size")
    with pytest.raises(InvalidInput):
        shop.cases.decide(case.case_id, "release", "a return is refunded or rejected", "o")
    shop.cases.decide(case.case_id, "reject", "worn, not returnable", "officer")
    assert not shop.checkout.get_order("o-1").frozen
    assert shop.cases.get(case.case_id).outcome == "reject"


def test_a_case_whose_settlement_fails_stays_open_for_another_try(shop: TenantServices) -> None:
    shop.checkout.place_order(
        "o-1", buyer_id="b-1", merchant_id="m-1", currency_code="USD",
        lines=[OrderLine("book", 1, 4_000)],
    )  # fmt: skip
    shop.checkout.pay_with_wallet("o-1")
    shop.checkout.open_dispute("o-1", "seller silent")  # paid, never shipped
    feed(shop)
    (case,) = shop.cases.queue(kind="dispute")
    with pytest.raises(InvalidStateTransition):  # only a shipped order can be released
        shop.cases.decide(case.case_id, "release", "merchant says shipped", "officer")
    assert shop.cases.get(case.case_id).status == "open"
    shop.cases.decide(case.case_id, "refund", "never shipped", "officer")
    assert shop.checkout.get_order("o-1").refunded_minor == 4_000
