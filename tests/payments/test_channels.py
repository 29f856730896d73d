"""Aggregated payment: routing by cost and live success, failover, and failures at every step."""

from __future__ import annotations

import pytest

from embedfin.bootstrap import check_all
from embedfin.commerce.orders import OrderLine, OrderStatus
from embedfin.core.clock import ManualClock
from embedfin.core.errors import (
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    InvalidStateTransition,
    PaymentDeclined,
)
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import (
    ChannelError,
    ChannelKind,
    ChannelResponse,
    FeeSchedule,
    Outcome,
    SimulatedProcessor,
)
from embedfin.payments.channels.routing import Router
from embedfin.payments.chart import AccountCode, channel_clearing, platform_account
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.wallets import Wallets

TENANT = "shop-1"


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def processor(name: str, bp: int, **kw: float) -> SimulatedProcessor:
    return SimulatedProcessor(name, ChannelKind.CARD, ["USD"], FeeSchedule(bp), latency_ms=0, **kw)  # type: ignore[arg-type]


class Declining(SimulatedProcessor):
    """A channel that declines everything with one code."""

    def __init__(self, name: str, code: str, *, retriable: bool) -> None:
        super().__init__(name, ChannelKind.CARD, ["USD"], FeeSchedule(50), latency_ms=0)
        self.code = code
        self.retriable = retriable

    def charge(self, idempotency_key: str, amount: Money, payer_ref: str) -> ChannelResponse:
        self.requests += 1
        return ChannelResponse(Outcome.DECLINED, decline_code=self.code, retriable=self.retriable)


class Unreachable(SimulatedProcessor):
    def charge(self, idempotency_key: str, amount: Money, payer_ref: str) -> ChannelResponse:
        raise ChannelError("connection reset")


@pytest.fixture
def checkout(ledger: Ledger) -> Checkout:
    shop = Checkout(ledger, TENANT)
    shop.register_merchant("m-1", category="apparel", country="CN", settlement_currency="USD")
    shop.place_order(
        "o-1",
        buyer_id="b-1",
        merchant_id="m-1",
        currency_code="USD",
        lines=[OrderLine("sku", 1, 10_000)],
    )
    return shop


def balances(checkout: Checkout, channel: str) -> tuple[int, int]:
    clearing = channel_clearing(TENANT, channel, "USD")
    escrow = platform_account(TENANT, "USD", AccountCode.ESCROW)
    found = {
        a.id: a for a in checkout.ledger.lookup_accounts([clearing.account_id, escrow.account_id])
    }
    c = found.get(clearing.account_id)
    e = found.get(escrow.account_id)
    return (
        c.debits_posted - c.credits_posted if c else 0,
        e.credits_posted - e.debits_posted if e else 0,
    )


def _crash(*args: object) -> None:
    raise SystemExit("killed after the channel approved, before the booking")


def _pay_and_crash(
    monkeypatch: pytest.MonkeyPatch,
    payments: ChannelPayments,
    order_id: str,
    request_id: str,
    wallet_part: Money | None = None,
) -> None:
    """Pay, but die after the channel approved and before the booking."""
    with monkeypatch.context() as patch:
        patch.setattr(payments, "_book", _crash)
        with pytest.raises(SystemExit):
            payments.pay_order(order_id, request_id, wallet_part=wallet_part)


def assert_books_balance(checkout: Checkout) -> None:
    with checkout.ledger.engine.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def test_router_prefers_the_cheapest_healthy_channel_and_learns_from_outages() -> None:
    cheap, dear = processor("cheap", 100), processor("dear", 300)
    router = Router([dear, cheap], exploration=0.0)
    assert [c.name for c in router.rank(usd(10_000))] == ["cheap", "dear"]
    for _ in range(50):
        router.record("cheap", False)
    assert [c.name for c in router.rank(usd(10_000))] == ["dear", "cheap"]
    for _ in range(200):
        router.record("cheap", True)  # recovered: the window forgets the outage
    assert router.rank(usd(10_000))[0].name == "cheap"


def test_router_explores_a_share_of_the_time() -> None:
    router = Router([processor("a", 100), processor("b", 300)], exploration=0.2, seed=3)
    firsts = [router.rank(usd(1_000))[0].name for _ in range(1_000)]
    assert 120 < firsts.count("b") < 280


def test_router_refuses_a_currency_nobody_takes() -> None:
    with pytest.raises(InvalidInput):
        Router([processor("a", 100)]).rank(Money(100, "JPY"))


def test_approved_payment_moves_clearing_into_escrow_once(checkout: Checkout) -> None:
    channel = processor("card", 100, approval_rate=1.0)
    payments = ChannelPayments(checkout, Router([channel], exploration=0.0))
    paid = payments.pay_order("o-1", "pay-1")
    assert (paid.order.status, paid.channel, paid.tried) == (OrderStatus.PAID, "card", ["card"])
    assert balances(checkout, "card") == (10_000, 10_000)
    again = payments.pay_order("o-1", "pay-1")
    assert again.replayed
    assert channel.requests == 1
    assert balances(checkout, "card") == (10_000, 10_000)
    assert_books_balance(checkout)


def test_retriable_decline_fails_over_to_the_next_channel(checkout: Checkout) -> None:
    broken = Declining("broken", "processor_error", retriable=True)
    good = processor("good", 200, approval_rate=1.0)
    paid = ChannelPayments(checkout, Router([broken, good], exploration=0.0)).pay_order(
        "o-1", "pay-1"
    )
    assert paid.tried == ["broken", "good"]
    assert balances(checkout, "good") == (10_000, 10_000)
    assert balances(checkout, "broken")[0] == 0


def test_timeout_after_the_charge_is_resolved_by_lookup_not_by_charging_again(
    checkout: Checkout,
) -> None:
    flaky = processor("flaky", 50, timeout_rate=1.0, charged_on_timeout=1.0)
    other = processor("other", 200, approval_rate=1.0)
    paid = ChannelPayments(checkout, Router([flaky, other], exploration=0.0)).pay_order(
        "o-1", "pay-1"
    )
    assert (paid.channel, paid.tried) == ("flaky", ["flaky"])
    assert other.requests == 0
    assert balances(checkout, "flaky") == (10_000, 10_000)


def test_timeout_without_a_charge_fails_over(checkout: Checkout) -> None:
    flaky = processor("flaky", 50, timeout_rate=1.0, charged_on_timeout=0.0)
    other = processor("other", 200, approval_rate=1.0)
    paid = ChannelPayments(checkout, Router([flaky, other], exploration=0.0)).pay_order(
        "o-1", "pay-1"
    )
    assert paid.tried == ["flaky", "other"]
    assert flaky.lookup("shop-1:pay-1:flaky") is None


def test_network_error_is_treated_as_unknown_and_looked_up(checkout: Checkout) -> None:
    down = Unreachable("down", ChannelKind.CARD, ["USD"], FeeSchedule(50), latency_ms=0)
    other = processor("other", 200, approval_rate=1.0)
    paid = ChannelPayments(checkout, Router([down, other], exploration=0.0)).pay_order(
        "o-1", "pay-1"
    )
    assert paid.channel == "other"


def test_hard_decline_stops_and_moves_no_money(checkout: Checkout) -> None:
    refusing = Declining("refusing", "do_not_honor", retriable=False)
    other = processor("other", 200, approval_rate=1.0)
    payments = ChannelPayments(checkout, Router([refusing, other], exploration=0.0))
    with pytest.raises(PaymentDeclined, match="do_not_honor"):
        payments.pay_order("o-1", "pay-1")
    assert other.requests == 0
    assert checkout.get_order("o-1").status is OrderStatus.AWAITING_PAYMENT
    with pytest.raises(PaymentDeclined):  # the same request keeps its answer
        payments.pay_order("o-1", "pay-1")
    assert_books_balance(checkout)


def test_crash_between_approval_and_booking_is_recovered_exactly_once(
    checkout: Checkout, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = processor("card", 100, approval_rate=1.0)
    payments = ChannelPayments(checkout, Router([channel], exploration=0.0))

    _pay_and_crash(monkeypatch, payments, "o-1", "pay-1")
    assert checkout.get_order("o-1").status is OrderStatus.AWAITING_PAYMENT
    assert balances(checkout, "card") == (0, 0)
    clock.advance(seconds=61)
    assert payments.recover() == {"booked": 1, "failed": 0}
    assert payments.recover() == {"booked": 0, "failed": 0}
    assert checkout.get_order("o-1").status is OrderStatus.PAID
    assert balances(checkout, "card") == (10_000, 10_000)
    assert channel.requests == 1
    assert_books_balance(checkout)


def test_order_paid_meanwhile_gets_the_channel_money_into_the_wallet(
    checkout: Checkout, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = processor("card", 100, approval_rate=1.0)
    payments = ChannelPayments(checkout, Router([channel], exploration=0.0))
    _pay_and_crash(monkeypatch, payments, "o-1", "pay-1")
    Wallets(checkout.ledger, TENANT).top_up("b-1", usd(10_000), "card", "t-1")
    checkout.pay_with_wallet("o-1")
    clock.advance(seconds=61)
    assert payments.recover() == {"booked": 1, "failed": 0}
    wallet = Wallets(checkout.ledger, TENANT).balance("buyer", "b-1", "USD")
    assert wallet.available == usd(10_000)  # the channel's money, not lost
    assert_books_balance(checkout)


def test_paying_a_paid_order_with_a_new_request_is_refused(checkout: Checkout) -> None:
    payments = ChannelPayments(
        checkout, Router([processor("card", 100, approval_rate=1.0)], exploration=0.0)
    )
    payments.pay_order("o-1", "pay-1")
    with pytest.raises(InvalidStateTransition):
        payments.pay_order("o-1", "pay-2")


def test_split_tender_takes_part_from_the_wallet_and_the_rest_from_a_channel(
    checkout: Checkout,
) -> None:
    Wallets(checkout.ledger, TENANT).top_up("b-1", usd(3_000), "card", "t-1")
    card = processor("card-2", 100, approval_rate=1.0)
    paid = ChannelPayments(checkout, Router([card], exploration=0.0)).pay_order(
        "o-1", "pay-1", wallet_part=usd(3_000)
    )
    assert paid.order.status is OrderStatus.PAID
    assert card.charges["shop-1:pay-1:card-2"][1] == usd(7_000)
    assert balances(checkout, "card-2") == (7_000, 10_000)  # escrow holds both parts
    wallet = Wallets(checkout.ledger, TENANT).balance("buyer", "b-1", "USD")
    assert (wallet.available, wallet.held) == (usd(0), usd(0))
    assert_books_balance(checkout)


def test_split_tender_releases_the_wallet_hold_when_the_channel_declines(
    checkout: Checkout,
) -> None:
    Wallets(checkout.ledger, TENANT).top_up("b-1", usd(3_000), "card", "t-1")
    payments = ChannelPayments(
        checkout, Router([Declining("no", "do_not_honor", retriable=False)], exploration=0.0)
    )
    with pytest.raises(PaymentDeclined):
        payments.pay_order("o-1", "pay-1", wallet_part=usd(3_000))
    wallet = Wallets(checkout.ledger, TENANT).balance("buyer", "b-1", "USD")
    assert (wallet.available, wallet.held) == (usd(3_000), usd(0))
    assert checkout.get_order("o-1").status is OrderStatus.AWAITING_PAYMENT
    assert_books_balance(checkout)


def test_split_tender_needs_the_wallet_part_up_front(checkout: Checkout) -> None:
    payments = ChannelPayments(
        checkout, Router([processor("card", 100, approval_rate=1.0)], exploration=0.0)
    )
    with pytest.raises(InsufficientFunds):
        payments.pay_order("o-1", "pay-1", wallet_part=usd(1))
    with pytest.raises(InvalidAmount):
        payments.pay_order("o-1", "pay-2", wallet_part=usd(10_000))


def test_split_tender_crash_after_approval_is_recovered_with_the_hold_posted(
    checkout: Checkout, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    Wallets(checkout.ledger, TENANT).top_up("b-1", usd(3_000), "card", "t-1")
    payments = ChannelPayments(
        checkout, Router([processor("card-2", 100, approval_rate=1.0)], exploration=0.0)
    )
    _pay_and_crash(monkeypatch, payments, "o-1", "pay-1", wallet_part=usd(3_000))
    held = Wallets(checkout.ledger, TENANT).balance("buyer", "b-1", "USD").held
    assert held == usd(3_000)
    clock.advance(seconds=61)
    assert payments.recover() == {"booked": 1, "failed": 0}
    assert checkout.get_order("o-1").status is OrderStatus.PAID
    assert balances(checkout, "card-2") == (7_000, 10_000)
    assert_books_balance(checkout)
