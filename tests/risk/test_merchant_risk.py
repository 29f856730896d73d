"""Merchant risk: the score (pure, property-tested), the ranking, and the rolling reserve it asks
of T+1 settlements — held, drawn by refunds after release, released after its term — on both
databases, with the books balanced after every step."""

from __future__ import annotations

import threading
import time
from dataclasses import fields, replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.bootstrap import Services, TenantServices, check_all
from embedfin.commerce.orders import DAY_NS, OrderLine
from embedfin.core.clock import ManualClock
from embedfin.core.errors import InsufficientFunds, InvalidInput, NotFound
from embedfin.core.money import Money
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.payments.chart import AccountCode, AccountKey
from embedfin.payments.payouts import reserves
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.risk.config import RiskSettings
from embedfin.risk.counters import SqlCounters
from embedfin.risk.decision import RiskContext
from embedfin.risk.merchant import (
    MAX_RESERVE_BP,
    NO_RESERVE,
    RESERVES,
    MerchantSignals,
    Reserve,
    Tier,
    score_merchant,
    tier_of,
)

TENANT = "shop-r"
ADVERSE = ("refunds", "disputes", "flagged", "fraud_labels", "ring_checks", "self_checks",
           "top_buyer_orders", "orders_7d", "quick_confirms")  # fmt: skip


# --- the score, pure -----------------------------------------------------------------------
counts = st.integers(min_value=0, max_value=5_000)
signals_st = st.builds(MerchantSignals, **{f.name: counts for f in fields(MerchantSignals)})


def test_a_quiet_merchant_scores_zero_and_holds_nothing() -> None:
    score = score_merchant(MerchantSignals())
    assert (score.score, score.tier, score.reserve) == (0, Tier.LOW, NO_RESERVE)
    assert score.reasons() == []


@given(signals_st)
def test_a_score_is_0_to_100_and_its_tier_and_reserve_follow_it(signals: MerchantSignals) -> None:
    score = score_merchant(signals)
    assert 0 <= score.score <= 100
    assert score.tier is tier_of(score.score)
    assert score.reserve == RESERVES[score.tier]
    assert all(r["points"] > 0 for r in score.reasons())


@given(signals_st, st.sampled_from(ADVERSE), st.integers(min_value=1, max_value=1_000))
def test_more_of_an_adverse_signal_never_lowers_the_score(
    signals: MerchantSignals, name: str, more: int
) -> None:
    worse = replace(signals, **{name: getattr(signals, name) + more})
    assert score_merchant(worse).score >= score_merchant(signals).score


def test_each_pattern_raises_its_own_component() -> None:
    base = {"paid_orders": 400, "buyers": 200, "top_buyer_orders": 10, "checks": 400,
            "orders_7d": 90, "orders_prior_28d": 310}  # fmt: skip
    cases = {
        "disputes": {"disputes": 12},  # 3% of paid orders: over Visa's 1.8% x 2
        "refunds": {"refunds": 160},
        "fraud": {"labelled": 300, "fraud_labels": 30},
        "brushing": {"quick_confirms": 300},
        "flags": {"flagged": 80},
        "sales_spike": {"orders_7d": 400, "orders_prior_28d": 40},
        "concentration": {"top_buyer_orders": 300},
        "rings": {"ring_checks": 250},
        "self_purchases": {"self_checks": 60},
    }
    assert score_merchant(MerchantSignals(**base)).score == 0
    for code, bad in cases.items():
        reasons = score_merchant(MerchantSignals(**{**base, **bad})).reasons()
        assert [r["code"] for r in reasons][:1] == [code], reasons


def test_a_new_merchants_first_refund_is_not_a_100_percent_refund_rate() -> None:
    assert score_merchant(MerchantSignals(paid_orders=1, refunds=1)).score == 0


def test_a_ring_merchant_lands_in_the_high_tier_with_the_high_reserve() -> None:
    ring = MerchantSignals(paid_orders=60, buyers=4, top_buyer_orders=55, checks=70,
                           flagged=20, ring_checks=60, orders_7d=60)  # fmt: skip
    score = score_merchant(ring)
    assert score.tier is Tier.HIGH
    assert score.reserve == Reserve(1_000, 90)


@given(st.integers(min_value=0, max_value=2**63 - 1), st.integers(0, MAX_RESERVE_BP))
def test_a_reserve_never_holds_more_than_its_share(amount: int, bp: int) -> None:
    reserve = Reserve(bp, 30 if bp else 0)
    held = reserve.held_of(amount)
    assert 0 <= held <= amount
    assert held * 10_000 <= amount * bp < (held + 1) * 10_000


@pytest.mark.parametrize(
    ("bp", "days"), [(-1, 30), (MAX_RESERVE_BP + 1, 30), (500, 0), (0, 30), (500, 181), (500, -1)]
)
def test_a_reserve_out_of_bounds_is_refused(bp: int, days: int) -> None:
    with pytest.raises(InvalidInput):
        Reserve(bp, days)


@pytest.mark.parametrize("value", [-1, 1.5, True, "3"])
def test_signals_are_counts(value: object) -> None:
    with pytest.raises(InvalidInput):
        MerchantSignals(refunds=value)  # type: ignore[arg-type]


# --- the reserve at settlement, on both stores ---------------------------------------------
def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture
def shop(ledger: Ledger) -> TenantServices:
    services = Services(ledger, risk=RiskSettings(True, SqlCounters())).tenant(TENANT)
    for merchant in ("m-1", "m-2"):
        services.checkout.register_merchant(
            merchant, category="electronics", country="US", settlement_currency="USD",
            payout_preference="t1",
        )  # fmt: skip
    services.wallets.top_up("b-1", usd(1_000_000), "card", "top-up")
    settle_channel(ledger, TENANT, "card", usd(1_000_000), usd(0), "settle-1")
    return services


def sell(shop: TenantServices, order_id: str, amount: int, merchant: str = "m-1") -> None:
    shop.checkout.place_order(
        order_id, buyer_id="b-1", merchant_id=merchant, currency_code="USD",
        lines=[OrderLine("sku", 1, amount)],
    )  # fmt: skip
    shop.checkout.pay_with_wallet(order_id)
    shop.checkout.ship(order_id, "T")
    shop.checkout.confirm_receipt(order_id)


def settle(shop: TenantServices, clock: ManualClock, batch_id: str) -> list[Any]:
    """A T+1 run with its cut-off a second after the sales before it."""
    clock.advance(ns=1_000_000_000)
    return shop.settlement.run_t1(batch_id, clock.now_ns())


def balance(shop: TenantServices, code: AccountCode, who: str = "m-1") -> int:
    key = AccountKey(TENANT, "merchant", who, "USD", code)
    found = shop.ledger.lookup_accounts([key.account_id])
    return (found[0].credits_posted - found[0].debits_posted) if found else 0


def books_balance(shop: TenantServices) -> None:
    with shop.ledger.engine.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def holds(shop: TenantServices) -> list[reserves.ReserveHold]:
    with shop.ledger.current() as conn:
        return reserves.list_holds(conn, TENANT)


def test_a_reserve_holds_its_share_of_a_settlement_and_releases_it_after_its_term(
    shop: TenantServices, clock: ManualClock
) -> None:
    shop.merchant_risk.set_policy("m-1", Reserve(1_000, 30), "new merchant, refunds", "officer")
    sell(shop, "o-1", 10_000)  # 3% commission: 9,700 to the merchant
    sell(shop, "o-2", 10_000, merchant="m-2")  # no reserve
    lines = settle(shop, clock, "day-1")
    assert sorted((line.merchant_id, line.amount) for line in lines) == [
        ("m-1", usd(9_700)), ("m-2", usd(9_700))
    ]  # fmt: skip
    assert balance(shop, AccountCode.MERCHANT_AVAILABLE) == 8_730
    assert balance(shop, AccountCode.MERCHANT_RESERVE) == 970
    assert balance(shop, AccountCode.MERCHANT_AVAILABLE, "m-2") == 9_700
    (hold,) = holds(shop)
    assert (hold.merchant_id, hold.amount_minor, hold.reserve_bp) == ("m-1", 970, 1_000)
    assert hold.release_at == hold.held_at + 30 * DAY_NS
    assert settle(shop, clock, "day-1") == []  # a re-run holds nothing twice
    books_balance(shop)

    clock.advance(ns=29 * DAY_NS)
    settle(shop, clock, "day-30")
    assert balance(shop, AccountCode.MERCHANT_RESERVE) == 970  # not yet
    clock.advance(ns=DAY_NS)
    settle(shop, clock, "day-31")
    assert balance(shop, AccountCode.MERCHANT_RESERVE) == 0
    assert balance(shop, AccountCode.MERCHANT_AVAILABLE) == 9_700
    assert holds(shop)[0].released_at is not None
    settle(shop, clock, "day-31")
    assert balance(shop, AccountCode.MERCHANT_AVAILABLE) == 9_700  # released once
    books_balance(shop)


def test_a_refund_after_payout_draws_on_the_reserve_oldest_hold_first(
    shop: TenantServices, clock: ManualClock
) -> None:
    shop.merchant_risk.set_policy("m-1", Reserve(5_000, 60), "chargeback spike", "officer")
    sell(shop, "o-1", 10_000)
    settle(shop, clock, "day-1")  # 4,850 available, 4,850 held
    clock.advance(ns=DAY_NS)
    sell(shop, "o-2", 10_000)
    settle(shop, clock, "day-2")  # 9,700 available, 9,700 held
    shop.settlement.bind_bank_account("m-1", "tok_9aBcDeFgHiJkLmNo", "6789")
    shop.settlement.run_payouts("payout-2")
    assert balance(shop, AccountCode.MERCHANT_AVAILABLE) == 0
    shop.refunds.refund("o-1", usd(6_000), "r-1")  # 5,820 of it the merchant's share
    first, second = sorted(holds(shop), key=lambda h: h.held_at)
    assert (first.drawn_minor, second.drawn_minor) == (4_850, 970)
    assert balance(shop, AccountCode.MERCHANT_RESERVE) == 9_700 - 5_820
    books_balance(shop)
    with pytest.raises(InsufficientFunds):  # 9,700 more than the reserve has left
        shop.refunds.refund("o-2", usd(10_000), "r-2")
    assert balance(shop, AccountCode.MERCHANT_RESERVE) == 9_700 - 5_820  # nothing moved
    clock.advance(ns=60 * DAY_NS)
    settle(shop, clock, "day-62")
    assert balance(shop, AccountCode.MERCHANT_AVAILABLE) == 9_700 - 5_820
    assert balance(shop, AccountCode.MERCHANT_RESERVE) == 0
    books_balance(shop)


def test_the_tier_sets_the_reserve_and_a_policy_overrides_it(
    shop: TenantServices, clock: ManualClock
) -> None:
    risk = shop.merchant_risk
    with shop.ledger.transaction() as tx:
        assert risk.reserve_of(tx, "m-1") == NO_RESERVE  # never scored
    for n in range(12):  # one buyer places every order: concentration
        clock.advance(ns=DAY_NS // 24 // 6)  # 6 an hour: no velocity rule trips
        sell(shop, f"o-{n}", 1_000)
    ranked = risk.score_all()
    assert [m.merchant_id for m in ranked] == ["m-1", "m-2"]
    top = ranked[0]
    assert top.signals["paid_orders"] == 12
    assert top.signals["top_buyer_orders"] == 12
    assert {r["code"] for r in top.reasons} == {"concentration", "brushing"}  # sold, received
    assert top.tier == "medium"
    assert shop.cases.queue(kind="merchant_review") == []  # only the high tier opens one
    with shop.ledger.transaction() as tx:
        assert risk.reserve_of(tx, "m-1") == RESERVES[Tier(top.tier)]
        risk.set_policy("m-1", Reserve(2_000, 45), "manual review", "officer")
    with shop.ledger.transaction() as tx:
        assert risk.reserve_of(tx, "m-1") == Reserve(2_000, 45)
    risk.set_policy("m-1", None, "back to the tier", "officer")
    with shop.ledger.transaction() as tx:
        assert risk.reserve_of(tx, "m-1") == RESERVES[Tier(top.tier)]
    assert [m.merchant_id for m in risk.ranking()] == ["m-1", "m-2"]
    assert len(risk.history("m-1")) == 1


def test_a_merchant_entering_the_high_tier_gets_one_review_in_the_queue(
    shop: TenantServices, clock: ManualClock
) -> None:
    shop.wallets.top_up("b-2", usd(100_000), "card", "top-up-2")
    back_office = RiskContext(device_id="m-1-back-office", ip="198.51.100.9")
    for n in range(12):  # two accounts on the merchant's own device, confirmed at once
        clock.advance(ns=DAY_NS // 24 // 6)
        shop.checkout.place_order(
            f"o-{n}", buyer_id=f"b-{1 + n % 2}", merchant_id="m-1", currency_code="USD",
            lines=[OrderLine("sku", 1, 1_000)],
        )  # fmt: skip
        shop.checkout.pay_with_wallet(f"o-{n}", back_office)
        shop.checkout.ship(f"o-{n}", "T")
        shop.checkout.confirm_receipt(f"o-{n}")
    (top, *_) = shop.merchant_risk.score_all()
    assert (top.merchant_id, top.tier) == ("m-1", "high")
    assert {"rings", "brushing", "concentration"} <= {r["code"] for r in top.reasons}
    (review,) = shop.cases.queue(kind="merchant_review")
    assert review.merchant_id == "m-1"
    shop.merchant_risk.score_all()  # still high: no second review
    assert len(shop.cases.queue(kind="merchant_review")) == 1
    decided = shop.cases.decide(review.case_id, "reject", "brushing confirmed", "officer")
    assert decided.outcome == "reject"
    with shop.ledger.transaction() as tx:
        assert shop.merchant_risk.reserve_of(tx, "m-1") == RESERVES[Tier.HIGH]


def test_signals_count_refunds_disputes_and_checks(shop: TenantServices) -> None:
    for n in range(4):
        sell(shop, f"o-{n}", 1_000)
    shop.refunds.refund("o-0", usd(500), "r-0")
    shop.checkout.place_order(
        "o-d", buyer_id="b-2", merchant_id="m-1", currency_code="USD",
        lines=[OrderLine("sku", 1, 1_000)],
    )  # fmt: skip
    shop.wallets.top_up("b-2", usd(1_000), "card", "top-up-2")
    shop.checkout.pay_with_wallet("o-d")
    shop.checkout.ship("o-d", "T")
    shop.checkout.open_dispute("o-d", "never arrived")
    (m1,) = [m for m in shop.merchant_risk.score_all() if m.merchant_id == "m-1"]
    assert {k: m1.signals[k] for k in ("paid_orders", "buyers", "refunds", "disputes")} == {
        "paid_orders": 5, "buyers": 2, "refunds": 1, "disputes": 1
    }  # fmt: skip
    assert m1.signals["checks"] == 5  # every wallet checkout was checked


def test_a_policy_for_an_unknown_or_another_tenants_merchant_is_refused(
    shop: TenantServices, ledger: Ledger
) -> None:
    with pytest.raises(NotFound):
        shop.merchant_risk.set_policy("nobody", Reserve(500, 30), "x", "officer")
    other = Services(ledger, risk=RiskSettings(True, SqlCounters())).tenant("shop-other")
    with pytest.raises(NotFound):
        other.merchant_risk.set_policy("m-1", Reserve(500, 30), "x", "officer")
    with pytest.raises(NotFound):
        other.merchant_risk.history("m-1")
    with pytest.raises(InvalidInput):
        shop.merchant_risk.set_policy("m-1", Reserve(500, 30), "", "officer")
    assert other.merchant_risk.ranking() == []


def test_with_risk_control_off_nothing_is_held(ledger: Ledger, clock: ManualClock) -> None:
    services = Services(ledger, risk=RiskSettings(False, SqlCounters())).tenant(TENANT)
    services.checkout.register_merchant(
        "m-1", category="electronics", country="US", settlement_currency="USD",
        payout_preference="t1",
    )  # fmt: skip
    services.merchant_risk.set_policy("m-1", Reserve(1_000, 30), "ignored when off", "officer")
    services.wallets.top_up("b-1", usd(10_000), "card", "top-up")
    settle_channel(ledger, TENANT, "card", usd(10_000), usd(0), "settle-1")
    sell(services, "o-1", 10_000)
    settle(services, clock, "day-1")
    assert balance(services, AccountCode.MERCHANT_AVAILABLE) == 9_700
    assert balance(services, AccountCode.MERCHANT_RESERVE) == 0


def test_a_refund_racing_the_release_of_its_reserve_is_paid_from_what_was_released(
    shop: TenantServices, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The release holds its holds' locks while it moves the money; a refund asking at that
    moment waits and then pays from available — not from the reserve it read a moment
    before the release emptied it (a false insufficient_funds)."""
    shop.merchant_risk.set_policy("m-1", Reserve(5_000, 30), "watch", "officer")
    sell(shop, "o-1", 10_000)
    settle(shop, clock, "day-1")  # 4,850 available, 4,850 held
    shop.settlement.bind_bank_account("m-1", "tok_9aBcDeFgHiJkLmNo", "6789")
    shop.settlement.run_payouts("payout-1")
    assert balance(shop, AccountCode.MERCHANT_AVAILABLE) == 0
    clock.advance(ns=31 * DAY_NS)  # the hold is due
    locked, go = threading.Event(), threading.Event()
    real_mark = reserves.mark_released

    def slow_mark(*args: Any, **kwargs: Any) -> None:
        real_mark(*args, **kwargs)
        locked.set()  # the release holds the hold's lock, its money not yet moved
        go.wait(10)

    monkeypatch.setattr(reserves, "mark_released", slow_mark)
    url = shop.ledger.engine.url.render_as_string(hide_password=False)
    other = Services(
        Ledger(make_engine(url), shop.ledger.clock), risk=RiskSettings(True, SqlCounters())
    ).tenant(TENANT)  # a second process: its own engine and writer lock
    errors: list[BaseException] = []

    def release() -> None:
        try:
            shop.settlement.release_reserves("release-1", clock.now_ns())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            locked.set()

    releasing = threading.Thread(target=release)
    releasing.start()
    assert locked.wait(10)

    def refund() -> None:
        try:
            other.refunds.refund("o-1", usd(3_000), "r-race")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    refunding = threading.Thread(target=refund)
    refunding.start()
    time.sleep(0.3)  # the refund is now waiting (PostgreSQL) or not yet started (SQLite)
    go.set()
    releasing.join(10)
    refunding.join(10)
    assert not errors
    assert shop.checkout.get_order("o-1").refunded_minor == 3_000
    assert balance(shop, AccountCode.MERCHANT_RESERVE) == 0
    assert balance(shop, AccountCode.MERCHANT_AVAILABLE) == 4_850 - 2_910
    books_balance(shop)
