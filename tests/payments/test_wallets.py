"""Wallets: top-up, settlement, withdrawal; every refusal typed and changing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from embedfin.bootstrap import check_all
from embedfin.core.clock import ManualClock
from embedfin.core.errors import (
    EmbedfinError,
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    LedgerRejected,
    LimitExceeded,
    UnknownCurrency,
)
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.wallets import TopUpRequest, WalletLimits, Wallets
from tests.conftest import settled_events

TOKEN = "tok_4eC39HqLyjWDarjtT1zdp7dc"


@pytest.fixture
def wallets(ledger: Ledger) -> Wallets:
    return Wallets(ledger, "shop-1", limits=WalletLimits({"USD": 50_000}, {"USD": 100_000}))


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def _state(engine: Engine) -> tuple[dict[str, int], int]:
    from tests.ledger.helpers import row_counts

    return row_counts(engine), len(settled_events(engine))


def _assert_invariants(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations
    assert "customer_money_safeguarded" in report.checked


def test_top_up_credits_the_wallet_and_keeps_customer_money_safeguarded(
    wallets: Wallets, ledger: Ledger
) -> None:
    movement = wallets.top_up("buyer-7", usd(2_500), "card", "req-1")
    assert not movement.replayed
    assert wallets.balance("buyer", "buyer-7", "USD").available == usd(2_500)
    (event,) = [e.event for e in settled_events(ledger.engine)]
    assert (event.type, event.payload["amount_minor"], event.tenant_id) == (
        "wallet_topped_up",
        2_500,
        "shop-1",
    )
    _assert_invariants(ledger)


def test_retry_replays_and_a_changed_retry_is_refused(wallets: Wallets, ledger: Ledger) -> None:
    first = wallets.top_up("buyer-7", usd(2_500), "card", "req-1")
    again = wallets.top_up("buyer-7", usd(2_500), "card", "req-1")
    assert again.replayed
    assert again.transfer_id == first.transfer_id
    before = _state(ledger.engine)
    with pytest.raises(IdempotencyMismatch):
        wallets.top_up("buyer-7", usd(9_999), "card", "req-1")
    assert _state(ledger.engine) == before
    assert wallets.balance("buyer", "buyer-7", "USD").available == usd(2_500)


def test_withdrawal_waits_for_the_channel_to_settle_into_the_reserve(
    wallets: Wallets, ledger: Ledger
) -> None:
    wallets.top_up("buyer-7", usd(20_000), "card", "req-1")
    with pytest.raises(LedgerRejected, match="retry after settlement"):
        wallets.withdraw("buyer", "buyer-7", usd(5_000), TOKEN, "4242", "w-1")
    settle_channel(ledger, "shop-1", "card", usd(20_000), usd(580), "settle-1")
    out = wallets.withdraw("buyer", "buyer-7", usd(5_000), TOKEN, "4242", "w-1")
    assert out.bank_last4 == "4242"
    assert wallets.balance("buyer", "buyer-7", "USD").available == usd(15_000)
    _assert_invariants(ledger)


def test_overdraft_is_refused_and_changes_nothing(wallets: Wallets, ledger: Ledger) -> None:
    wallets.top_up("buyer-7", usd(1_000), "card", "req-1")
    settle_channel(ledger, "shop-1", "card", usd(1_000), usd(0), "settle-1")
    before = _state(ledger.engine)
    with pytest.raises(InsufficientFunds):
        wallets.withdraw("buyer", "buyer-7", usd(1_001), TOKEN, "4242", "w-1")
    assert _state(ledger.engine) == before


def test_daily_withdrawal_limit_resets_the_next_day(
    wallets: Wallets, ledger: Ledger, clock: ManualClock
) -> None:
    wallets.top_up("buyer-7", usd(90_000), "card", "req-1")
    settle_channel(ledger, "shop-1", "card", usd(90_000), usd(0), "settle-1")
    wallets.withdraw("buyer", "buyer-7", usd(30_000), TOKEN, "4242", "w-1")
    with pytest.raises(LimitExceeded, match=r"200\.00 USD left"):
        wallets.withdraw("buyer", "buyer-7", usd(30_000), TOKEN, "4242", "w-2")
    clock.advance(seconds=86_400)
    wallets.withdraw("buyer", "buyer-7", usd(30_000), TOKEN, "4242", "w-2")
    assert wallets.balance("buyer", "buyer-7", "USD").available == usd(30_000)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda w: w.top_up("b", usd(0), "card", "r"), InvalidAmount),
        (lambda w: w.top_up("b", usd(-5), "card", "r"), InvalidAmount),
        (lambda w: w.top_up("b", usd(100_001), "card", "r"), LimitExceeded),
        (lambda w: w.top_up("b", Money(5, "XYZ"), "card", "r"), UnknownCurrency),
        (lambda w: w.top_up("", usd(5), "card", "r"), InvalidInput),
        (lambda w: w.top_up("b", usd(5), "card", ""), InvalidInput),
        (lambda w: w.top_up("b", usd(5), "card", "x" * 256), InvalidInput),
        (lambda w: w.withdraw("b", "x", usd(5), TOKEN, "4242", "r"), InvalidInput),
        (lambda w: w.withdraw("buyer", "x", usd(5), "4111111111111111", "1111", "r"), InvalidInput),
        (lambda w: w.withdraw("buyer", "x", usd(5), TOKEN, "42a2", "r"), InvalidInput),
        (lambda w: w.withdraw("buyer", "nobody", usd(5), TOKEN, "4242", "r"), InsufficientFunds),
    ],
)
def test_bad_input_is_a_typed_error_and_writes_nothing(
    wallets: Wallets, ledger: Ledger, call: object, error: type[EmbedfinError]
) -> None:
    before = _state(ledger.engine)
    with pytest.raises(error):
        call(wallets)  # type: ignore[operator]
    assert _state(ledger.engine) == before


def test_tenants_never_see_or_move_each_others_money(ledger: Ledger) -> None:
    shop_a = Wallets(ledger, "shop-a")
    shop_b = Wallets(ledger, "shop-b")
    shop_a.top_up("buyer-1", usd(5_000), "card", "req-1")
    settle_channel(ledger, "shop-a", "card", usd(5_000), usd(0), "s-1")
    assert shop_b.balance("buyer", "buyer-1", "USD").available == usd(0)
    with pytest.raises(InsufficientFunds):
        shop_b.withdraw("buyer", "buyer-1", usd(100), TOKEN, "4242", "w-1")
    b_top_up = shop_b.top_up("buyer-1", usd(10), "card", "req-1")  # same request id, other tenant
    assert not b_top_up.replayed
    assert shop_a.balance("buyer", "buyer-1", "USD").available == usd(5_000)
    _assert_invariants(ledger)


def test_settlement_cannot_exceed_what_the_channel_collected(
    wallets: Wallets, ledger: Ledger
) -> None:
    wallets.top_up("buyer-7", usd(1_000), "card", "req-1")
    with pytest.raises(LedgerRejected, match="more than it collected"):
        settle_channel(ledger, "shop-1", "card", usd(1_001), usd(0), "s-1")
    settle_channel(ledger, "shop-1", "card", usd(1_000), usd(30), "s-1")
    assert settle_channel(ledger, "shop-1", "card", usd(1_000), usd(30), "s-1").replayed
    with pytest.raises(IdempotencyMismatch):
        settle_channel(ledger, "shop-1", "card", usd(900), usd(30), "s-1")
    _assert_invariants(ledger)


def test_many_top_ups_in_one_batch_are_all_or_nothing(wallets: Wallets) -> None:
    from embedfin.core.errors import IdempotencyMismatch, LimitExceeded

    batch = [
        TopUpRequest("b-1", usd(1_000), "card", "bt-1"),
        TopUpRequest("b-2", usd(2_000), "card", "bt-2"),
        TopUpRequest("b-1", usd(500), "qr", "bt-3"),
        TopUpRequest("b-2", usd(2_000), "card", "bt-2"),  # the same request twice: once
    ]
    made = wallets.top_ups(batch)
    assert [m.request_id for m in made] == ["bt-1", "bt-2", "bt-3", "bt-2"]
    assert wallets.balance("buyer", "b-1", "USD").available == usd(1_500)
    assert wallets.balance("buyer", "b-2", "USD").available == usd(2_000)
    again = wallets.top_ups(batch[:1])
    assert again[0].replayed
    before = _state(wallets.ledger.engine)
    with pytest.raises(LimitExceeded):
        wallets.top_ups(
            [
                TopUpRequest("b-3", usd(1), "card", "bt-4"),
                TopUpRequest("b-3", usd(10**9), "card", "bt-5"),
            ]
        )
    with pytest.raises(IdempotencyMismatch):
        wallets.top_ups(
            [
                TopUpRequest("b-3", usd(1), "card", "bt-6"),
                TopUpRequest("b-3", usd(2), "card", "bt-6"),
            ]
        )
    assert _state(wallets.ledger.engine) == before
    assert wallets.balance("buyer", "b-1", "USD").available == usd(1_500)
    _assert_invariants(wallets.ledger)
