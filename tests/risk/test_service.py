"""The risk check inside money-moving operations: allow, block, challenge, review and its case.

Runs on both databases, with the counters in the database and (for the flows that count on
them) in Redis; every scenario is seeded and names the fraud pattern it catches.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from sqlalchemy import func, select, update

from embedfin.bootstrap import Services, TenantServices, check_all
from embedfin.commerce.orders import OrderLine, OrderStatus
from embedfin.consumers.runner import Runner
from embedfin.core.clock import ManualClock
from embedfin.core.errors import (
    ChallengeRequired,
    HeldForReview,
    IdempotencyMismatch,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
    PaymentDeclined,
    RiskRefused,
)
from embedfin.core.money import Money
from embedfin.db.tables import risk_cases, risk_decisions
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.processors import (
    ChannelKind,
    ChannelResponse,
    FeeSchedule,
    Outcome,
    SimulatedProcessor,
)
from embedfin.payments.channels.routing import Router
from embedfin.payments.chart import AccountCode, platform_account
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.wallets import WalletMovement
from embedfin.risk.challenges import Challenges
from embedfin.risk.config import SANDBOX_SECRET, RiskSettings
from embedfin.risk.counters import CounterStore, SqlCounters
from embedfin.risk.decision import Action, RiskContext
from embedfin.risk.labels import LabelConsumer
from embedfin.risk.redis_counters import RedisCounters
from embedfin.security.crypto import FieldCipher, new_key_spec


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def _card() -> SimulatedProcessor:
    return SimulatedProcessor(
        "card", ChannelKind.CARD, ["USD"], FeeSchedule(100), latency_ms=0, approval_rate=1.0
    )


class _Dead(SimulatedProcessor):
    """A card network that declines everything."""

    def __init__(self) -> None:
        super().__init__("card", ChannelKind.CARD, ["USD"], FeeSchedule(100), latency_ms=0)

    def charge(self, idempotency_key: str, amount: Money, payer_ref: str) -> ChannelResponse:
        return ChannelResponse(Outcome.DECLINED, decline_code="do_not_honor", retriable=False)


@pytest.fixture(params=["database", "redis"])
def counters(request: pytest.FixtureRequest) -> Iterator[CounterStore]:
    if request.param == "database":
        yield SqlCounters()
        return
    url = request.getfixturevalue("redis_server")
    store = RedisCounters(url)
    yield store
    _forget(store)


#: Every tenant of this module starts with it, so the clean-up deletes this run's Redis keys
#: and nobody else's (another test run may share the server).
RUN = f"risk-{uuid.uuid4().hex[:8]}"


def _tenant() -> str:
    return f"{RUN}-{uuid.uuid4().hex[:8]}"


def _forget(store: RedisCounters) -> None:
    for key in store.redis.scan_iter(match=f"rk:{RUN}-*"):
        store.redis.delete(key)


@pytest.fixture
def tenant_name() -> str:
    return _tenant()


def _services(ledger: Ledger, tenant: str, counters: CounterStore) -> TenantServices:
    services = Services(
        ledger,
        router=Router([_card()], exploration=0.0),
        risk=RiskSettings(True, counters, b"test-risk-secret-0123456789"),
    ).tenant(tenant)
    services.checkout.register_merchant(
        "m-1", category="apparel", country="CN", settlement_currency="USD"
    )
    return services


@pytest.fixture
def shop(ledger: Ledger, tenant_name: str, counters: CounterStore) -> TenantServices:
    return _services(ledger, tenant_name, counters)


def _order(shop: TenantServices, order_id: str, buyer: str = "b-1", price: int = 5_000) -> str:
    shop.checkout.place_order(
        order_id,
        buyer_id=buyer,
        merchant_id="m-1",
        currency_code="USD",
        lines=[OrderLine("sku", 1, price)],
    )
    return order_id


def _escrow(shop: TenantServices) -> int:
    key = platform_account(shop.tenant, "USD", AccountCode.ESCROW)
    found = shop.ledger.lookup_accounts([key.account_id])
    return found[0].credits_posted - found[0].debits_posted if found else 0


def test_a_good_customer_sees_nothing(shop: TenantServices) -> None:
    shop.wallets.top_up("b-1", usd(50_000), "card", "top-1", RiskContext(device_id="phone-1"))
    for n in range(3):
        _order(shop, f"o-{n}")
        paid = shop.checkout.pay_with_wallet(f"o-{n}", RiskContext(device_id="phone-1"))
        assert paid.status is OrderStatus.PAID
        assert not paid.risk_hold
    decisions = shop.risk.decisions()
    assert {d.action for d in decisions} == {Action.ALLOW}
    assert len(decisions) == 4  # the top-up and three checkouts, each decided once


def test_card_testing_from_one_device_is_blocked(shop: TenantServices) -> None:
    """Card testing: one device tries card after card; the fifth distinct card is refused."""
    device = RiskContext(device_id="tester", ip="203.0.113.9")
    for n in range(3):
        _order(shop, f"o-{n}", buyer="t-1", price=100)
        shop.channel_payments.pay_order(f"o-{n}", f"pay-{n}", payer_ref=f"card-{n}", context=device)
    _order(shop, "o-9", buyer="t-1", price=100)
    with pytest.raises(RiskRefused) as refused:
        shop.channel_payments.pay_order("o-9", "pay-9", payer_ref="card-9", context=device)
    assert "card_testing" in refused.value.reasons
    assert shop.checkout.get_order("o-9").status is OrderStatus.AWAITING_PAYMENT
    # the refusal is stored: the same request again answers the same, and nothing is charged
    stored = shop.risk.decision(refused.value.decision_id)
    assert stored.action is Action.BLOCK
    assert stored.features["device_tokens_24h"] == 4


def test_a_challenge_passed_lets_the_payment_through(shop: TenantServices) -> None:
    """A burst of orders by one buyer is challenged; the right code lets the order be paid."""
    shop.wallets.top_up("b-1", usd(900_000), "card", "top-1")
    for n in range(10):
        shop.checkout.pay_with_wallet(_order(shop, f"o-{n}"))
    _order(shop, "o-10")
    with pytest.raises(ChallengeRequired) as asked:
        shop.checkout.pay_with_wallet("o-10")
    challenge_id = asked.value.challenge_id
    assert shop.checkout.get_order("o-10").status is OrderStatus.AWAITING_PAYMENT
    code = shop.risk.sandbox_code(challenge_id)
    wrong = "000000" if code != "000000" else "111111"
    assert shop.risk.answer_challenge(challenge_id, wrong).status == "pending"
    assert shop.risk.answer_challenge(challenge_id, code).status == "passed"
    assert shop.checkout.pay_with_wallet("o-10").status is OrderStatus.PAID


def test_a_challenge_failed_three_times_blocks(shop: TenantServices) -> None:
    shop.wallets.top_up("b-1", usd(900_000), "card", "top-1")
    for n in range(10):
        shop.checkout.pay_with_wallet(_order(shop, f"o-{n}"))
    _order(shop, "o-10")
    with pytest.raises(ChallengeRequired) as asked:
        shop.checkout.pay_with_wallet("o-10")
    code = shop.risk.sandbox_code(asked.value.challenge_id)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        last = shop.risk.answer_challenge(asked.value.challenge_id, wrong)
    assert last.status == "failed"
    assert shop.risk.answer_challenge(asked.value.challenge_id, code).status == "failed"
    with pytest.raises(RiskRefused) as refused:
        shop.checkout.pay_with_wallet("o-10")
    assert not isinstance(refused.value, ChallengeRequired)
    with pytest.raises(InvalidInput):
        shop.risk.answer_challenge(asked.value.challenge_id, "12ab56")


def _multi_accounted(shop: TenantServices) -> str:
    """Multi-accounting: a fourth account on one device in a week is reviewed."""
    device = RiskContext(device_id="farm-phone")
    for n in range(4):
        shop.wallets.top_up(f"b-{n}", usd(10_000), "card", f"top-{n}")
    for n in range(3):
        shop.checkout.pay_with_wallet(_order(shop, f"o-{n}", buyer=f"b-{n}"), device)
    held = shop.checkout.pay_with_wallet(_order(shop, "o-3", buyer="b-3"), device)
    assert held.status is OrderStatus.PAID
    assert held.risk_hold
    return "o-3"


def test_a_reviewed_order_is_paid_into_escrow_and_held(shop: TenantServices) -> None:
    order_id = _multi_accounted(shop)
    assert _escrow(shop) == 4 * 5_000
    with pytest.raises(InvalidStateTransition, match="fraud review"):
        shop.checkout.ship(order_id, "TRACK-1")
    (case,) = shop.cases.queue()
    assert case.order_id == order_id
    assert case.kind == "fraud_review"
    assert case.status == "open"
    assert _escrow(shop) == 4 * 5_000  # the money waits in escrow for the case


def test_a_case_released_lets_the_order_ship(shop: TenantServices) -> None:
    order_id = _multi_accounted(shop)
    (case,) = shop.cases.queue()
    shop.cases.assign(case.case_id, "analyst-1", actor="lead")
    shop.cases.note(case.case_id, "four family members share a tablet", actor="analyst-1")
    decided = shop.cases.decide(case.case_id, "release", "family account", actor="analyst-1")
    assert decided.outcome == "release"
    assert decided.decided_by == "analyst-1"
    assert not shop.checkout.get_order(order_id).risk_hold
    assert shop.checkout.ship(order_id, "TRACK-1").status is OrderStatus.SHIPPED
    assert [e.kind for e in shop.cases.events(case.case_id)] == [
        "opened", "assigned", "note", "decided",
    ]  # fmt: skip
    assert shop.risk.decision(str(case.decision_id)).label == "good"
    with pytest.raises(InvalidStateTransition, match="decided already"):
        shop.cases.decide(case.case_id, "refund", "changed my mind", actor="analyst-2")


def test_a_case_refunded_returns_the_money_to_the_buyer(shop: TenantServices) -> None:
    order_id = _multi_accounted(shop)
    (case,) = shop.cases.queue()
    shop.cases.decide(case.case_id, "refund", "promo abuse ring", actor="analyst-1")
    order = shop.checkout.get_order(order_id)
    assert order.status is OrderStatus.CLOSED
    assert order.refunded_minor == 5_000
    assert _escrow(shop) == 3 * 5_000
    balance = shop.wallets.balance("buyer", "b-3", "USD").available.amount_minor
    assert balance == 10_000
    assert shop.risk.decision(str(case.decision_id)).label == "fraud"


def test_a_withdrawal_from_a_new_device_right_after_credit_purchases_is_held(
    shop: TenantServices,
) -> None:
    """Credit cash-out: buy on credit, then withdraw within a day: held, a case opens."""
    shop.lending.fund("platform", usd(1_000_000), "fund-1")
    shop.wallets.top_up("b-1", usd(20_000), "card", "top-1")
    _order(shop, "o-1", price=30_000)
    shop.lending.finance_order("o-1", "pay_in_4", "platform", "loan-1")
    with pytest.raises(HeldForReview) as held:
        shop.wallets.withdraw("buyer", "b-1", usd(10_000), "tok_bank0001", "1234", "wd-1")
    (case,) = shop.cases.queue()
    assert case.case_id == held.value.case_id
    assert case.order_id is None
    assert "credit_cash_out" in held.value.reasons
    assert shop.wallets.balance("buyer", "b-1", "USD").available.amount_minor > 10_000
    shop.cases.decide(case.case_id, "release", "salary withdrawal, known customer", actor="a-1")
    moved = shop.wallets.withdraw("buyer", "b-1", usd(10_000), "tok_bank0001", "1234", "wd-1")
    assert moved.amount == usd(10_000)


def test_cases_and_decisions_are_the_tenants_own(
    ledger: Ledger, shop: TenantServices, counters: CounterStore
) -> None:
    _multi_accounted(shop)
    (case,) = shop.cases.queue()
    other = _services(ledger, _tenant(), counters)
    assert other.cases.queue() == []
    with pytest.raises(NotFound):
        other.cases.get(case.case_id)
    with pytest.raises(NotFound):
        other.cases.decide(case.case_id, "release", "not mine", actor="intruder")
    with pytest.raises(NotFound):
        other.risk.decision(str(case.decision_id))
    # the other tenant's device counters start from nothing: its first order is allowed
    other.wallets.top_up("b-3", usd(10_000), "card", "top-1")
    other.checkout.place_order(
        "o-1", buyer_id="b-3", merchant_id="m-1", currency_code="USD",
        lines=[OrderLine("sku", 1, 5_000)],
    )  # fmt: skip
    assert not other.checkout.pay_with_wallet("o-1", RiskContext(device_id="farm-phone")).risk_hold


def test_redis_down_checkout_fails_open_withdrawal_fails_closed(
    ledger: Ledger, tenant_name: str
) -> None:
    """Counters unreachable: a good order is paid as before; money leaving waits for a case."""
    dead = RedisCounters("redis://127.0.0.1:1/0")  # nothing listens on port 1
    shop = _services(ledger, tenant_name, dead)
    shop.wallets.top_up("b-1", usd(20_000), "card", "top-1")
    paid = shop.checkout.pay_with_wallet(_order(shop, "o-1"), RiskContext(device_id="d"))
    assert paid.status is OrderStatus.PAID
    assert not paid.risk_hold
    with pytest.raises(HeldForReview) as held:
        shop.wallets.withdraw("buyer", "b-1", usd(1_000), "tok_bank0001", "1234", "wd-1")
    assert held.value.reasons[0] == "risk_unavailable"
    statuses = {d.status for d in shop.risk.decisions()}
    assert "degraded" in statuses


def test_risk_off_records_nothing(ledger: Ledger, tenant_name: str) -> None:
    services = Services(
        ledger, router=Router([_card()]), risk=RiskSettings(False, SqlCounters())
    ).tenant(tenant_name)
    services.checkout.register_merchant(
        "m-1", category="apparel", country="CN", settlement_currency="USD"
    )
    services.wallets.top_up("b-1", usd(20_000), "card", "top-1")
    services.checkout.pay_with_wallet(_order(services, "o-1"))
    with ledger.reader() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(risk_decisions)
            .where(risk_decisions.c.tenant == tenant_name)
        ).scalar()
    assert count == 0


def test_a_clock_moved_past_the_window_forgets_the_burst(
    ledger: Ledger, tenant_name: str, clock: ManualClock
) -> None:
    shop = _services(ledger, tenant_name, SqlCounters())
    shop.wallets.top_up("b-1", usd(900_000), "card", "top-1")
    for n in range(10):
        shop.checkout.pay_with_wallet(_order(shop, f"o-{n}"))
    clock.advance(seconds=3_601)
    assert shop.checkout.pay_with_wallet(_order(shop, "o-10")).status is OrderStatus.PAID


def test_an_unreachable_redis_url_is_refused_up_front() -> None:
    with pytest.raises(Exception, match="redis://"):
        RedisCounters("http://127.0.0.1:6379")
    assert issubclass(redis.RedisError, Exception)


def test_embedfin_check_finds_a_hold_nobody_will_look_at(shop: TenantServices) -> None:
    order_id = _multi_accounted(shop)
    with shop.ledger.reader() as conn:
        assert check_all(conn).violations == []
    (case,) = shop.cases.queue()
    with shop.ledger.transaction() as tx:  # a writer closes the case behind the services' back
        tx.conn.execute(
            update(risk_cases)
            .where(risk_cases.c.tenant == shop.tenant, risk_cases.c.case_id == case.case_id)
            .values(status="decided")
        )
    with shop.ledger.reader() as conn:
        found = [v.invariant for v in check_all(conn).violations]
    assert found.count("held_orders_have_open_cases") == 2  # held without a case; stale case
    assert order_id


def test_a_rule_is_backtested_over_stored_decisions(shop: TenantServices) -> None:
    _multi_accounted(shop)
    rule = {
        "id": "shared-device-early",
        "version": 1,
        "owner": "risk-operations",
        "reason_code": "shared_device_early",
        "description": "three accounts on a device",
        "action": "review",
        "expression": "device_accounts_7d >= 3",
        "mode": "shadow",
    }
    published = shop.risk.publish(rule, "officer-1", "USD")
    assert published.version == 2
    (latest, starter) = shop.risk.versions()
    assert starter["change"] == "starter rules"
    backtest = latest["backtest"]
    assert backtest["rows"] == 8  # four top-ups and four checkouts were decided
    (figures,) = [r for r in backtest["rules"] if r["rule_id"] == "shared-device-early"]
    assert figures["hits"] == 2  # the third and fourth account on the farm phone
    with pytest.raises(InvalidInput):
        shop.risk.publish(rule | {"id": "bad", "expression": "no_such_feature > 1"}, "o", "USD")
    assert shop.risk.rule_set().version == 2


def test_the_same_operation_checked_at_once_by_two_threads_is_decided_once(
    shop: TenantServices,
) -> None:
    """Two requests with one request id race: one decision, one movement, no error."""
    barrier = threading.Barrier(2)

    def top_up() -> WalletMovement:
        barrier.wait()
        return shop.wallets.top_up("b-1", usd(7_000), "card", "top-race", RiskContext(ip="::1"))

    with ThreadPoolExecutor(2) as pool:
        first, second = (f.result() for f in [pool.submit(top_up), pool.submit(top_up)])
    assert first.transfer_id == second.transfer_id
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert len(shop.risk.decisions()) == 1
    assert shop.wallets.balance("buyer", "b-1", "USD").available.amount_minor == 7_000


def test_bad_subjects_change_nothing(shop: TenantServices) -> None:
    with pytest.raises(InvalidInput):
        shop.wallets.top_up("b-1", usd(-5), "card", "top-neg")
    with pytest.raises(InvalidInput):
        RiskContext.from_mapping({"ip": "10.0.0.1%eth0"})
    with pytest.raises(InvalidInput):
        RiskContext.from_mapping({"device_id": "a\x00b"})
    with pytest.raises(NotFound):
        shop.risk.answer_challenge("ch_nope", "123456")
    with pytest.raises(NotFound):
        shop.cases.decide("case_nope", "release", "x", actor="a")
    with pytest.raises(InvalidInput):
        shop.cases.decide("case_nope", "approve", "x", actor="a")
    assert shop.risk.decisions() == []


def test_a_payout_into_another_merchants_bank_account_is_held(shop: TenantServices) -> None:
    """Merchant collusion: two shops paid into one bank account; the second payout waits."""
    shop.checkout.register_merchant(
        "m-2", category="apparel", country="CN", settlement_currency="USD", payout_preference="t0"
    )
    shop.checkout.register_merchant(
        "m-3", category="apparel", country="CN", settlement_currency="USD", payout_preference="t0"
    )
    shop.wallets.top_up("b-1", usd(50_000), "card", "top-1")
    settle_channel(shop.ledger, shop.tenant, "card", usd(50_000), usd(0), "settle-1")
    for merchant, order_id in (("m-2", "o-2"), ("m-3", "o-3")):
        shop.checkout.place_order(
            order_id, buyer_id="b-1", merchant_id=merchant, currency_code="USD",
            lines=[OrderLine("sku", 1, 10_000)],
        )  # fmt: skip
        shop.checkout.pay_with_wallet(order_id)
        shop.checkout.ship(order_id, "T")
        shop.checkout.confirm_receipt(order_id)
        shop.settlement.bind_bank_account(merchant, "tok_sharedbank01", "6789")
    lines = shop.settlement.run_payouts("p-1")
    assert [line.merchant_id for line in lines] == ["m-2"]
    (case,) = shop.cases.queue()
    assert case.merchant_id == "m-3"
    assert case.order_id is None
    shop.cases.decide(case.case_id, "release", "same owner, declared", actor="analyst-1")
    assert [line.merchant_id for line in shop.settlement.run_payouts("p-1")] == ["m-3"]


def test_outcomes_become_labels(ledger: Ledger, shop: TenantServices) -> None:
    """A confirmed receipt labels the checkout good; a chargeback afterwards, fraud."""
    shop.wallets.top_up("b-1", usd(20_000), "card", "top-1")
    shop.checkout.pay_with_wallet(_order(shop, "o-1"))
    shop.channel_payments.pay_order(_order(shop, "o-2"), "pay-2", payer_ref="card-1")
    for order_id in ("o-1", "o-2"):
        shop.checkout.ship(order_id, "T")
        shop.checkout.confirm_receipt(order_id)
    shop.refunds.chargeback("o-2", usd(5_000), "cb-1")
    Runner(ledger, [LabelConsumer()]).run_all()
    labels = {d.reference: d.label for d in shop.risk.decisions() if d.kind == "checkout"}
    assert labels == {"o-1": "good", "o-2": "fraud"}


def _challenged_order(shop: TenantServices) -> tuple[str, str]:
    """A burst of ten orders: the eleventh is challenged (its id and the challenge's)."""
    shop.wallets.top_up("b-1", usd(900_000), "card", "top-1")
    for n in range(10):
        shop.checkout.pay_with_wallet(_order(shop, f"o-{n}"))
    _order(shop, "o-10")
    with pytest.raises(ChallengeRequired) as asked:
        shop.checkout.pay_with_wallet("o-10")
    return "o-10", asked.value.challenge_id


def test_another_attempt_at_a_challenged_order_answers_the_same_challenge(
    shop: TenantServices,
) -> None:
    """Ignoring the code and paying the order another way asks for the same code again (no
    fresh guesses); once it is failed, every attempt at the order is refused."""
    order_id, challenge_id = _challenged_order(shop)
    with pytest.raises(ChallengeRequired) as again:
        shop.channel_payments.pay_order(order_id, "pay-card-1", payer_ref="card-9")
    assert again.value.challenge_id == challenge_id
    code = shop.risk.sandbox_code(challenge_id)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        shop.risk.answer_challenge(challenge_id, wrong)
    with pytest.raises(RiskRefused) as refused:
        shop.channel_payments.pay_order(order_id, "pay-card-2", payer_ref="card-10")
    assert not isinstance(refused.value, ChallengeRequired)
    assert refused.value.reasons[0] == "challenge_failed"
    assert shop.checkout.get_order(order_id).status is OrderStatus.AWAITING_PAYMENT


def test_a_code_passed_on_the_first_attempt_lets_the_next_attempt_through(
    shop: TenantServices,
) -> None:
    order_id, challenge_id = _challenged_order(shop)
    with pytest.raises(ChallengeRequired):
        shop.channel_payments.pay_order(order_id, "pay-card-1", payer_ref="card-9")
    passed = shop.risk.answer_challenge(challenge_id, shop.risk.sandbox_code(challenge_id))
    assert passed.status == "passed"
    paid = shop.channel_payments.pay_order(order_id, "pay-card-2", payer_ref="card-9")
    assert paid.order.status is OrderStatus.PAID
    with shop.ledger.reader() as conn:
        assert check_all(conn).violations == []


def test_the_same_withdrawal_id_for_another_amount_is_refused(shop: TenantServices) -> None:
    shop.lending.fund("platform", usd(1_000_000), "fund-1")
    shop.wallets.top_up("b-1", usd(20_000), "card", "top-1")
    _order(shop, "o-1", price=30_000)
    shop.lending.finance_order("o-1", "pay_in_4", "platform", "loan-1")
    with pytest.raises(HeldForReview) as held:
        shop.wallets.withdraw("buyer", "b-1", usd(100), "tok_bank0001", "1234", "wd-1")
    shop.cases.decide(held.value.case_id, "release", "known customer", actor="analyst-1")
    with pytest.raises(IdempotencyMismatch):
        shop.wallets.withdraw("buyer", "b-1", usd(9_000), "tok_bank0001", "1234", "wd-1")
    # the released withdrawal retried under a new request id (a new Idempotency-Key) goes out
    moved = shop.wallets.withdraw("buyer", "b-1", usd(100), "tok_bank0001", "1234", "wd-2")
    assert moved.amount == usd(100)


def test_a_case_whose_order_is_no_longer_held_cannot_act_on_it(shop: TenantServices) -> None:
    order_id = _multi_accounted(shop)
    (case,) = shop.cases.queue()
    shop.refunds.cancel(order_id)  # the buyer cancelled: refunded, the hold gone with it
    for outcome in ("release", "refund"):
        with pytest.raises(InvalidStateTransition, match="not held"):
            shop.cases.decide(case.case_id, outcome, "late", actor="analyst-1")
    assert shop.checkout.get_order(order_id).refunded_minor == 5_000


def test_a_reviewed_card_attempt_the_network_declines_closes_its_case(
    ledger: Ledger, tenant_name: str, counters: CounterStore
) -> None:
    services = Services(
        ledger,
        router=Router([_Dead()], exploration=0.0),
        risk=RiskSettings(True, counters, b"test-risk-secret-0123456789"),
    ).tenant(tenant_name)
    services.checkout.register_merchant(
        "m-1", category="apparel", country="CN", settlement_currency="USD"
    )
    for n in range(3):  # one card on three accounts: the third attempt is reviewed
        _order(services, f"o-{n}", buyer=f"b-{n}")
        with pytest.raises(PaymentDeclined):
            services.channel_payments.pay_order(f"o-{n}", f"pay-{n}", payer_ref="card-x")
    (case,) = services.cases.queue()
    assert case.status == "decided"
    assert case.outcome == "void"


def test_challenge_codes_are_keyed_by_the_data_key_ring_not_the_source(
    ledger: Ledger, tenant_name: str
) -> None:
    """Without EMBEDFIN_RISK_SECRET the codes come from the data key ring: the fixed sandbox
    key in the source does not compute them."""
    cipher = FieldCipher.parse(new_key_spec("k1"))
    services = Services(ledger, cipher=cipher, risk=RiskSettings(True, SqlCounters()))
    risk = services.tenant(tenant_name).risk
    sandbox = Challenges(tenant_name, SANDBOX_SECRET)
    assert risk.challenges.sandbox_code("ch_x") != sandbox.sandbox_code("ch_x")
    other = Services(ledger, cipher=FieldCipher.parse(new_key_spec("k2")))
    assert other.tenant(tenant_name).risk.challenges.sandbox_code("ch_x") != (
        risk.challenges.sandbox_code("ch_x")
    )
