"""The refund policy over the whole matrix — payment method × refund path × before/after release
× partial/full — on SQLite and PostgreSQL, and random sequences of commands per order.

Every case checks where the money went (the loan, the channel, the wallet of the currency the
order was paid in), who paid it back (escrow, or the merchant and the commission after release),
the order's state, and every invariant of ``embedfin check``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count, product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from embedfin.bootstrap import check_all
from embedfin.commerce.aftersales import AfterSales
from embedfin.commerce.orders import OrderLine, OrderStatus
from embedfin.core.clock import ManualClock
from embedfin.core.errors import EmbedfinError
from embedfin.core.money import Money
from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade
from embedfin.db.scratch import scratch_database
from embedfin.ledger.service import Ledger
from embedfin.lending.products import JURISDICTIONS, default_catalog
from embedfin.lending.servicing import Lending
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import (
    ChannelKind,
    FeeSchedule,
    Outcome,
    SimulatedProcessor,
)
from embedfin.payments.channels.routing import Router
from embedfin.payments.chart import AccountCode, AccountKey
from embedfin.payments.cross_border import CrossBorderCheckout
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.fx import Fx
from embedfin.payments.refunds.policy import commission_back
from embedfin.payments.refunds.service import Refunds
from embedfin.payments.wallets import Wallets
from tests.conftest import fresh_sqlite

TOTAL = 10_000  # one apparel order (5% commission: 500)
CARD_PART = 7_000  # a split tender's card share; the wallet pays the other 3,000
FIRST_INSTALLMENT = 2_500  # pay-in-4 takes a quarter from the wallet at checkout
METHODS = ("wallet", "card", "split", "financed", "cross_border")
PATHS = ("refund", "cancel", "dispute", "return", "chargeback")
_tenants = count()


def _valid(method: str, path: str, after: bool) -> bool:
    if path in ("cancel", "dispute") and after:
        return False  # both come before release (a cancel even before shipment)
    return not (path == "chargeback" and method not in ("card", "split"))


CASES = [
    pytest.param(
        m,
        p,
        after,
        full,
        id=f"{m}-{p}-{'after' if after else 'before'}-{'full' if full else 'partial'}",
    )
    for m, p, after, full in product(METHODS, PATHS, (False, True), (False, True))
    if _valid(m, p, after)
]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One database per store for the whole matrix; each case is a tenant of its own."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        engine = make_engine(fresh_sqlite(template, tmp_path_factory.mktemp("matrix")))
        yield engine
        engine.dispose()
        return
    with scratch_database(request.getfixturevalue("pg_server"), "matrix") as url:
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


@dataclass
class Shop:
    """One tenant's services around one order ``o-1`` of 10,000 USD cents."""

    ledger: Ledger
    tenant: str
    checkout: Checkout
    card: SimulatedProcessor
    lending: Lending
    refunds: Refunds
    after_sales: AfterSales

    def wallet(self, code: str = "USD") -> int:
        balance = Wallets(self.ledger, self.tenant).balance("buyer", "b-1", code)
        return balance.available.amount_minor

    def card_refunded(self) -> int:
        approved = [m for r, _, m in self.card.refunds.values() if r.outcome is Outcome.APPROVED]
        return sum(m.amount_minor for m in approved)

    def merchant(self) -> int:
        key = AccountKey(self.tenant, "merchant", "m-1", "USD", AccountCode.MERCHANT_AVAILABLE)
        found = self.ledger.lookup_accounts([key.account_id])
        return found[0].credits_posted - found[0].debits_posted if found else 0

    def loan_outstanding(self) -> int:
        return self.lending.get("loan-1").principal_outstanding

    def refunded(self) -> int:
        return self.checkout.get_order("o-1").refunded_minor


def open_shop(engine: Engine, method: str) -> Shop:
    ledger = Ledger(engine, ManualClock())
    tenant = f"mx-{next(_tenants)}"
    checkout = Checkout(ledger, tenant)
    checkout.register_merchant(
        "m-1", category="apparel", country="CN", settlement_currency="USD", payout_preference="t0"
    )
    card = SimulatedProcessor(
        "card", ChannelKind.CARD, ["USD"], FeeSchedule(100), approval_rate=1.0, latency_ms=0
    )
    payments = ChannelPayments(checkout, Router([card], exploration=0.0))
    lending = Lending(checkout, default_catalog(JURISDICTIONS["CN"]))
    lending.fund("bank", Money(1_000_000, "USD"), "fund-1")
    refunds = Refunds(payments, financing=lending)
    shop = Shop(ledger, tenant, checkout, card, lending, refunds, AfterSales(refunds))
    wallets = Wallets(ledger, tenant)
    wallets.top_up(
        "b-1", Money(20_000, "EUR" if method == "cross_border" else "USD"), "card", "t-1"
    )
    checkout.place_order(
        "o-1",
        buyer_id="b-1",
        merchant_id="m-1",
        currency_code="USD",
        lines=[OrderLine("coat", 1, TOTAL)],
    )
    pay(shop, payments, method)
    return shop


def pay(shop: Shop, payments: ChannelPayments, method: str) -> None:
    if method == "wallet":
        shop.checkout.pay_with_wallet("o-1")
    elif method == "card":
        payments.pay_order("o-1", "pay-1")
    elif method == "split":
        payments.pay_order("o-1", "pay-1", wallet_part=Money(TOTAL - CARD_PART, "USD"))
    elif method == "financed":
        shop.lending.finance_order("o-1", "pay_in_4", "bank", "loan-1")
    else:
        cross_border = CrossBorderCheckout(
            shop.checkout, Fx(shop.ledger, shop.tenant, spread_bp=100)
        )
        cross_border.pay("o-1", cross_border.price("o-1", "EUR").quote_id)


@dataclass(frozen=True)
class Snapshot:
    wallet_usd: int
    wallet_eur: int
    card: int
    loan: int
    merchant: int
    refunded: int

    @staticmethod
    def of(shop: Shop, method: str) -> Snapshot:
        return Snapshot(
            shop.wallet("USD"),
            shop.wallet("EUR"),
            shop.card_refunded(),
            shop.loan_outstanding() if method == "financed" else 0,
            shop.merchant(),
            shop.refunded(),
        )


def expected_wallet_gain(method: str, before: Snapshot, refunded: int) -> int:
    """What the policy sends to the buyer's (USD) wallet of ``refunded`` more minor units."""
    if method in ("wallet", "cross_border"):
        return refunded
    if method == "card":
        return 0
    if method == "split":  # the card's 7,000 first, the wallet's 3,000 after
        after = before.refunded + refunded
        return max(after - CARD_PART, 0) - max(before.refunded - CARD_PART, 0)
    return refunded - min(refunded, before.loan)  # financed: the loan first


def run_path(shop: Shop, method: str, path: str, full: bool) -> None:
    def usd(minor: int) -> Money:
        return Money(minor, "USD")

    left = TOTAL - shop.refunded()
    if path == "refund":
        shop.refunds.refund("o-1", usd(left if full else 4_000), "r-1")
    elif path == "cancel":
        shop.refunds.cancel("o-1")
    elif path == "dispute":
        shop.checkout.open_dispute("o-1", "not as described")
        shop.refunds.resolve_dispute("o-1", "refund")
    elif path == "return":
        shop.after_sales.request_return("o-1", "wrong size")
        shop.after_sales.receive_return("o-1")
    else:
        channel_left = (TOTAL if method == "card" else CARD_PART) - shop.refunded()
        shop.refunds.chargeback("o-1", usd(channel_left if full else 2_000), "cb-1")


@pytest.mark.parametrize(("method", "path", "after", "full"), CASES)
def test_refund_goes_back_where_the_money_came_from(
    store: Engine, method: str, path: str, after: bool, full: bool
) -> None:
    shop = open_shop(store, method)
    if path != "cancel":
        shop.checkout.ship("o-1", "T-1")
    if after:
        shop.checkout.confirm_receipt("o-1")
    if not full and path in ("cancel", "dispute", "return"):  # a partial refund first
        shop.refunds.refund("o-1", Money(2_500, "USD"), "r-part")
    before = Snapshot.of(shop, method)
    run_path(shop, method, path, full)
    now = Snapshot.of(shop, method)
    refunded = now.refunded - before.refunded
    assert refunded > 0
    if (
        path == "chargeback"
    ):  # the channel took it itself: nothing asked of it, nothing to the wallet
        assert (now.card, now.wallet_usd) == (before.card, before.wallet_usd)
    else:
        gain = expected_wallet_gain(method, before, refunded)
        assert now.wallet_usd - before.wallet_usd == gain
        if method in ("card", "split"):
            assert now.card - before.card == refunded - gain
        else:
            assert now.card == 0  # nothing went back through a channel that took nothing
    if method == "financed":
        assert before.loan - now.loan == min(refunded, before.loan)
    assert (
        now.wallet_eur == before.wallet_eur
    )  # a cross-border refund stays in the order's currency
    order = shop.checkout.get_order("o-1")
    if after:
        assert order.status is OrderStatus.COMPLETED
        commission = commission_back(500, TOTAL, before.refunded, refunded)
        assert before.merchant - now.merchant == refunded - commission
    elif now.refunded == TOTAL:
        assert order.status is OrderStatus.CLOSED
    with store.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


@pytest.fixture(scope="module")
def sqlite_store(
    sqlite_template: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    engine = make_engine(fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("sequences")))  # type: ignore[arg-type]
    yield engine
    engine.dispose()


COMMAND = st.one_of(
    st.tuples(st.just("refund"), st.integers(-100, TOTAL + 100)),
    st.tuples(st.just("chargeback"), st.integers(1, TOTAL)),
    st.tuples(
        st.sampled_from(["ship", "confirm", "cancel", "dispute", "resolve", "request", "receive"]),
        st.just(0),
    ),
)
#: per method: the USD wallet right after paying, and the most refunds may bring back to it
WALLET_BOUNDS = {
    "wallet": (20_000 - TOTAL, TOTAL),
    "card": (20_000, 0),
    "split": (20_000 - (TOTAL - CARD_PART), TOTAL - CARD_PART),
    "financed": (20_000 - FIRST_INSTALLMENT, FIRST_INSTALLMENT),
    "cross_border": (0, TOTAL),
}


@settings(max_examples=30, deadline=None)
@given(method=st.sampled_from(METHODS), commands=st.lists(COMMAND, min_size=1, max_size=8))
def test_random_sequences_never_refund_beyond_a_source(
    sqlite_store: Engine, method: str, commands: list[tuple[str, int]]
) -> None:
    shop = open_shop(sqlite_store, method)
    start, most = WALLET_BOUNDS[method]
    for n, (command, amount) in enumerate(commands):
        before = Snapshot.of(shop, method)
        try:
            apply(shop, command, amount, f"req-{n}")
        except EmbedfinError:
            assert Snapshot.of(shop, method) == before  # a refused command changes nothing
        now = Snapshot.of(shop, method)
        assert 0 <= now.refunded <= TOTAL
        assert 0 <= now.wallet_usd - start <= most
        assert now.card <= {"card": TOTAL, "split": CARD_PART}.get(method, 0)
        assert now.loan >= 0
    with sqlite_store.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def apply(shop: Shop, command: str, amount: int, request_id: str) -> None:
    if command == "refund":
        shop.refunds.refund("o-1", Money(amount, "USD"), request_id)
    elif command == "chargeback":
        shop.refunds.chargeback("o-1", Money(amount, "USD"), request_id)
    elif command == "ship":
        shop.checkout.ship("o-1", "T-1")
    elif command == "confirm":
        shop.checkout.confirm_receipt("o-1")
    elif command == "cancel":
        shop.refunds.cancel("o-1")
    elif command == "dispute":
        shop.checkout.open_dispute("o-1", "late")
    elif command == "resolve":
        shop.refunds.resolve_dispute("o-1", "refund")
    elif command == "request":
        shop.after_sales.request_return("o-1", "faulty")
    else:
        shop.after_sales.receive_return("o-1")
