"""Loans on the ledger: financed checkout, waterfall, accrual, refunds, late fees, losses."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.bootstrap import check_all
from embedfin.commerce.orders import OrderLine, OrderStatus
from embedfin.core.clock import ManualClock
from embedfin.core.errors import (
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidStateTransition,
    LimitExceeded,
)
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.lending.products import JURISDICTIONS, default_catalog
from embedfin.lending.schedules import Installment
from embedfin.lending.servicing import (
    Lending,
    Loan,
    LoanStatus,
    accrue_interest,
    bucket,
    days_past_due,
    late_fee,
    waterfall,
)
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import default_channels
from embedfin.payments.channels.routing import Router
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.refunds.service import Refunds
from embedfin.payments.wallets import Wallets
from tests.conftest import settled_events

TENANT = "shop-l"
DAY = 86_400


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


@pytest.fixture
def lending(ledger: Ledger) -> Lending:
    shop = Checkout(ledger, TENANT)
    shop.register_merchant("m-1", category="books", country="DE", settlement_currency="EUR")
    lend = Lending(shop, default_catalog(JURISDICTIONS["CN"]))
    lend.fund("bank-1", eur(10_000_000), "fund-1")
    return lend


def order(lending: Lending, order_id: str, price: int, buyer: str = "b-1") -> str:
    lending.checkout.place_order(
        order_id,
        buyer_id=buyer,
        merchant_id="m-1",
        currency_code="EUR",
        lines=[OrderLine("book", 1, price)],
    )
    return order_id


def top_up(lending: Lending, minor: int, buyer: str = "b-1", ref: str = "t") -> None:
    ledger = lending.ledger
    Wallets(ledger, TENANT).top_up(buyer, eur(minor), "card", f"{ref}-{buyer}-{minor}")
    settle_channel(ledger, TENANT, "card", eur(minor), eur(0), f"s-{ref}-{buyer}-{minor}")


def books_ok(lending: Lending) -> None:
    with lending.ledger.reader() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def test_a_financed_checkout_pays_the_order_and_repays_to_zero(lending: Lending) -> None:
    order(lending, "o-1", 60_000)
    loan = lending.finance_order("o-1", "months_6", "bank-1", "loan-1")
    assert lending.checkout.get_order("o-1").status is OrderStatus.PAID
    assert (loan.principal_outstanding, loan.status) == (60_000, LoanStatus.ACTIVE)
    assert lending.finance_order("o-1", "months_6", "bank-1", "loan-1") == loan  # a retry
    with pytest.raises(IdempotencyMismatch):
        lending.finance_order("o-1", "months_12", "bank-1", "loan-1")
    books_ok(lending)
    top_up(lending, 100_000)
    clock: ManualClock = lending.clock  # type: ignore[assignment]
    clock.advance(seconds=30 * DAY)
    paid = lending.repay("loan-1", eur(10_000), "r-1")
    interest = paid.repaid_minor - (60_000 - paid.principal_outstanding)
    assert interest == round(60_000 * Decimal("0.1499") * 30 / 365)  # fees 0 → interest first
    assert lending.repay("loan-1", eur(10_000), "r-1") == paid  # replay
    with pytest.raises(LimitExceeded):
        lending.repay("loan-1", eur(paid.owed_minor + 1), "r-2")
    done = lending.repay("loan-1", eur(paid.owed_minor), "r-3")  # early payoff
    assert (done.status, done.owed_minor) == (LoanStatus.PAID_OFF, 0)
    with pytest.raises(InvalidStateTransition):
        lending.repay("loan-1", eur(1), "r-4")
    books_ok(lending)


def test_pay_in_4_collects_the_first_installment_at_checkout(lending: Lending) -> None:
    order(lending, "o-1", 10_001)
    top_up(lending, 2_501)
    loan = lending.finance_order("o-1", "pay_in_4", "bank-1", "loan-1")
    assert loan.repaid_minor == 2_501
    assert loan.principal_outstanding == 7_500
    order(lending, "o-2", 10_000, buyer="b-2")  # no money for the first installment
    with pytest.raises(InsufficientFunds):
        lending.finance_order("o-2", "pay_in_4", "bank-1", "loan-2")
    assert lending.checkout.get_order("o-2").status is OrderStatus.AWAITING_PAYMENT
    books_ok(lending)


def test_the_fee_plan_books_its_fee_and_the_waterfall_takes_it_first(lending: Lending) -> None:
    order(lending, "o-1", 30_000)
    loan = lending.finance_order("o-1", "months_3_fee", "bank-1", "loan-1")
    assert loan.fees_due == 900
    top_up(lending, 1_000)
    paid = lending.repay("loan-1", eur(1_000), "r-1")
    assert (paid.fees_due, paid.principal_outstanding) == (0, 29_900)
    books_ok(lending)


def refunds_of(lending: Lending) -> Refunds:
    payments = ChannelPayments(lending.checkout, Router(default_channels()))
    return Refunds(payments, financing=lending)


def test_a_refund_of_a_financed_purchase_pays_the_loan_down(lending: Lending) -> None:
    order(lending, "o-1", 60_000)
    lending.finance_order("o-1", "months_6", "bank-1", "loan-1")
    refunds = refunds_of(lending)
    refunds.refund("o-1", eur(20_000), "rf-1")
    assert lending.get("loan-1").principal_outstanding == 40_000
    assert lending.checkout.get_order("o-1").refunded_minor == 20_000
    assert Wallets(lending.ledger, TENANT).balance("buyer", "b-1", "EUR").available == eur(0)
    top_up(lending, 50_000)
    lending.repay("loan-1", eur(30_000), "r-1")
    refunds.refund("o-1", eur(40_000), "rf-2")  # more than is still owed
    rest = lending.get("loan-1")
    assert (rest.principal_outstanding, rest.status) == (0, LoanStatus.PAID_OFF)
    wallet = Wallets(lending.ledger, TENANT).balance("buyer", "b-1", "EUR").available
    assert wallet == eur(50_000 - 30_000 + 30_000)  # 10,000 paid the loan off, 30,000 came back
    books_ok(lending)


def test_late_fees_are_capped_and_losses_are_written_off(lending: Lending) -> None:
    order(lending, "o-1", 60_000)
    lending.finance_order("o-1", "months_6", "bank-1", "loan-1")
    start = lending.today()
    assert lending.delinquency("loan-1", start) == (0, "current")
    first_due = start + timedelta(days=31)
    late_day = first_due + timedelta(days=11)
    assert lending.assess_late_fees(late_day) == 1
    assert lending.assess_late_fees(late_day) == 0  # once per installment
    loan = lending.get("loan-1")
    installment = 60_000 // 6
    assert (
        loan.fees_due == late_fee(JURISDICTIONS["CN"], loan.principal_minor)
        or loan.fees_due <= 5_000
    )
    assert loan.fees_due <= JURISDICTIONS["CN"].late_fee_max_minor
    assert loan.fees_due <= installment * JURISDICTIONS["CN"].late_fee_max_bp // 10_000 + 100
    dpd, name = lending.delinquency("loan-1", late_day)
    assert (dpd, name) == (11, "1-30")
    assert lending.charge_off(first_due + timedelta(days=119)) == []
    written = lending.charge_off(first_due + timedelta(days=121))
    assert written == ["loan-1"]
    loan = lending.get("loan-1")
    assert (loan.status, loan.owed_minor) == (LoanStatus.CHARGED_OFF, 0)
    assert loan.written_off_minor > 60_000
    books_ok(lending)


def test_a_funder_without_cash_cannot_lend(lending: Lending) -> None:
    order(lending, "o-1", 60_000)
    with pytest.raises(InsufficientFunds):
        lending.finance_order("o-1", "months_6", "bank-2", "loan-1")
    assert lending.checkout.get_order("o-1").status is OrderStatus.AWAITING_PAYMENT
    books_ok(lending)


# --- pure rules ----------------------------------------------------------------------------------
def _loan(principal: int, interest: int, fees: int) -> Loan:
    start = date(2026, 1, 1)
    return Loan(
        "t",
        "l",
        "o",
        "b",
        "f",
        "p",
        "EUR",
        principal,
        Decimal(0),
        start,
        LoanStatus.ACTIVE,
        principal,
        interest,
        fees,
        0,
        start,
        Decimal(0),
        0,
    )


@given(st.integers(0, 10**9), st.integers(0, 10**7), st.integers(0, 10**6), st.integers(1, 10**9))
def test_the_waterfall_pays_fees_then_interest_then_principal(
    principal: int, interest: int, fees: int, amount: int
) -> None:
    loan = _loan(principal, interest, fees)
    if amount > loan.owed_minor:
        with pytest.raises(LimitExceeded):
            waterfall(loan, amount)
        return
    f, i, p = waterfall(loan, amount)
    assert f + i + p == amount
    assert 0 <= f <= fees
    assert 0 <= i <= interest
    assert 0 <= p <= principal
    assert i == 0 or f == fees
    assert p == 0 or i == interest


@given(st.integers(1, 10**10), st.integers(0, 3_600), st.lists(st.integers(1, 40), max_size=30))
def test_daily_accrual_loses_nothing_to_rounding(
    principal: int, rate_bp: int, days: list[int]
) -> None:
    rate = Decimal(rate_bp) / 10_000
    carry = Decimal(0)
    total = 0
    for d in days:
        whole, carry = accrue_interest(principal, rate, d, carry)
        total += whole
    exact = Decimal(principal) * rate * sum(days) / 365
    assert total == int(exact) or total + carry == exact


def test_days_past_due_and_buckets() -> None:
    due = [
        Installment(n + 1, date(2026, 2, 1) + timedelta(days=30 * n), 1_000, 0, 0) for n in range(3)
    ]
    assert days_past_due(due, [0, 0, 0], 0, date(2026, 1, 20)) == 0
    assert days_past_due(due, [0, 0, 0], 0, date(2026, 2, 11)) == 10
    assert days_past_due(due, [0, 0, 0], 1_000, date(2026, 3, 10)) == 7
    assert [bucket(d) for d in (0, 1, 30, 31, 61, 91, 121)] == [
        "current",
        "1-30",
        "1-30",
        "31-60",
        "61-90",
        "91-120",
        "120+",
    ]
    assert late_fee(JURISDICTIONS["CN"], 200_000) == 5_000  # the fixed cap binds
    assert late_fee(JURISDICTIONS["CN"], 10_000) == 500  # the percentage cap binds


def test_the_loss_allowance_follows_the_book(lending: Lending) -> None:
    order(lending, "o-1", 60_000)
    lending.finance_order("o-1", "months_6", "bank-1", "loan-1")
    start = lending.today()
    assert lending.provision(start) == {("bank-1", "EUR"): 600}  # 1% of a current loan
    assert lending.provision(start) == {("bank-1", "EUR"): 600}  # idempotent true-up
    late = start + timedelta(days=31 + 40)
    owed = lending.get("loan-1").owed_minor
    assert lending.provision(late)[("bank-1", "EUR")] == int(owed * Decimal("0.20"))
    lending.charge_off(start + timedelta(days=31 + 121))
    assert lending.provision(start + timedelta(days=200)) == {("bank-1", "EUR"): 0}
    books_ok(lending)


def test_due_installments_are_reported_for_the_credit_features(lending: Lending) -> None:
    order(lending, "o-1", 60_000)
    lending.finance_order("o-1", "months_6", "bank-1", "loan-1")
    first = lending.catalog.plans["months_6"].schedule(60_000, lending.today()).installments[0]
    top_up(lending, first.total_minor)
    lending.repay("loan-1", eur(first.total_minor), "r-1")
    after_two = first.due + timedelta(days=31 + 11)
    assert lending.report_due_installments(after_two) == 2
    assert lending.report_due_installments(after_two) == 0
    events = [
        e.event.payload
        for e in settled_events(lending.ledger.engine)
        if e.event.type == "installment_due"
    ]
    assert [(p["number"], p["on_time"]) for p in events] == [(1, True), (2, False)]


def test_the_platform_earns_its_fee_from_the_funder(lending: Lending) -> None:
    from embedfin.payments.chart import AccountCode, platform_account

    order(lending, "o-1", 60_000)
    lending.finance_order("o-1", "months_6", "bank-1", "loan-1")
    commission = platform_account(TENANT, "EUR", AccountCode.COMMISSION_IN_RESERVE)
    (account,) = lending.ledger.lookup_accounts([commission.account_id])
    assert account.credits_posted - account.debits_posted == 600  # 1% of 600.00
    books_ok(lending)  # custody still balances; the lender's books still mirror it
