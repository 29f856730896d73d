"""The sandbox acquirer: durable, shared by every worker, idempotent by key; its settlement
files reconcile against the books; a crash's unfinished channel work is recovered."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from embedfin.commerce.orders import OrderLine, OrderStatus
from embedfin.core.clock import ManualClock
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.checkout import ChannelPayments, unfinished_channel_work
from embedfin.payments.channels.processors import Outcome
from embedfin.payments.channels.routing import Router
from embedfin.payments.channels.sandbox import SandboxAcquirer, SandboxChannel
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.reconciliation.matching import BreakKind, Reconciliation
from embedfin.payments.reconciliation.statements import parse_statement
from embedfin.payments.refunds.service import Refunds
from tests.payments.test_channels import assert_books_balance

TENANT = "shop-1"
DAY = date(2026, 1, 1)  # ManualClock's start


class Crash(BaseException):
    """The process dies here (not an error any code catches)."""


@pytest.fixture
def acquirer_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'acquirer.db'}"


@pytest.fixture
def acquirer(acquirer_url: str, clock: ManualClock) -> Iterator[SandboxAcquirer]:
    store = SandboxAcquirer(acquirer_url, clock)
    yield store
    store.close()


def card_of(store: SandboxAcquirer) -> SandboxChannel:
    card = next(c for c in store.channels if c.name == "card-acquirer")
    card.approval_rate = 1.0
    return card


def shop(ledger: Ledger, store: SandboxAcquirer) -> ChannelPayments:
    checkout = Checkout(ledger, TENANT)
    checkout.register_merchant("m-1", category="apparel", country="CN", settlement_currency="USD")
    return ChannelPayments(checkout, Router([card_of(store)], exploration=0.0))


def order(payments: ChannelPayments, order_id: str, price: int = 10_000) -> None:
    payments.checkout.place_order(
        order_id,
        buyer_id="b-1",
        merchant_id="m-1",
        currency_code="USD",
        lines=[OrderLine("sku", 1, price)],
    )


def test_a_charge_made_before_a_restart_is_refunded_after_it(
    ledger: Ledger, acquirer_url: str, clock: ManualClock
) -> None:
    before = SandboxAcquirer(acquirer_url, clock)
    payments = shop(ledger, before)
    order(payments, "o-1")
    payments.pay_order("o-1", "pay-1")
    before.close()
    after = SandboxAcquirer(acquirer_url, clock)  # a new process: nothing in memory
    refunds = Refunds(shop(ledger, after))
    refunded = refunds.refund("o-1", Money(4_000, "USD"), "r-1")
    assert refunded.refunded_minor == 4_000
    assert after.movements("card-acquirer", TENANT, DAY)[-1][1] == Money(-4_000, "USD")
    after.close()
    assert_books_balance(payments.checkout)


def test_workers_share_one_acquirer_and_one_key_is_one_charge(
    acquirer_url: str, clock: ManualClock
) -> None:
    workers = [SandboxAcquirer(acquirer_url, clock) for _ in range(4)]
    cards = [card_of(w) for w in workers]
    usd = Money(2_500, "USD")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: cards[i % 4].charge(f"{TENANT}:k", usd, ""), range(8)))
    assert {a.channel_ref for a in answers} == {answers[0].channel_ref}
    assert all(a.outcome is Outcome.APPROVED for a in answers)
    assert len(workers[0].movements("card-acquirer", TENANT, DAY)) == 1
    charge_key = f"{TENANT}:k"
    with ThreadPoolExecutor(8) as pool:  # eight different refunds of 1,000 on a 2,500 charge
        refunds = list(
            pool.map(
                lambda i: cards[i % 4].refund(f"{TENANT}:r{i}", charge_key, Money(1_000, "USD")),
                range(8),
            )
        )
    assert sum(r.outcome is Outcome.APPROVED for r in refunds) == 2
    assert {r.decline_code for r in refunds if r.outcome is not Outcome.APPROVED} == {
        "exceeds_charge"
    }
    again = cards[3].refund(f"{TENANT}:r0", charge_key, Money(1_000, "USD"))
    assert again == refunds[0]  # idempotent by key, in whichever process it is asked
    for w in workers:
        w.close()


@pytest.mark.parametrize("fmt", ["csv", "camt053"])
def test_the_acquirers_settlement_file_reconciles_with_the_books(
    ledger: Ledger, acquirer: SandboxAcquirer, tmp_path: Path, fmt: str
) -> None:
    payments = shop(ledger, acquirer)
    for n, price in enumerate((10_000, 2_550, 999)):
        order(payments, f"o-{n}", price)
        payments.pay_order(f"o-{n}", f"pay-{n}")
    Refunds(payments).refund("o-0", Money(3_000, "USD"), "r-0")
    statement = tmp_path / f"settlement.{fmt}"
    statement.write_bytes(acquirer.settlement_file("card-acquirer", TENANT, DAY, fmt))
    lines = parse_statement(statement)
    assert sorted(line.amount.amount_minor for line in lines) == [-3_000, 999, 2_550, 10_000]
    recon = Reconciliation(ledger, TENANT)
    report = recon.run(statement, "card-acquirer")
    assert (report.matched, report.breaks) == (4, [])
    # a charge the acquirer made for this merchant that the books never saw is a break
    card_of(acquirer).charge(f"{TENANT}:stray:card-acquirer", Money(700, "USD"), "")
    statement.write_bytes(acquirer.settlement_file("card-acquirer", TENANT, DAY, fmt))
    report = recon.run(statement, "card-acquirer")
    assert [b.kind for b in report.breaks] == [BreakKind.MISSING_IN_BOOKS]
    other = acquirer.settlement_file("card-acquirer", "another-tenant", DAY, fmt)
    assert parse_statement(other) == []  # one merchant account's file holds only its own


def test_a_charge_whose_booking_crashed_is_booked_by_recovery(
    ledger: Ledger, acquirer: SandboxAcquirer, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    payments = shop(ledger, acquirer)
    order(payments, "o-1")
    real_book = ChannelPayments._book

    def crash(*_: object, **__: object) -> None:
        raise Crash

    monkeypatch.setattr(ChannelPayments, "_book", crash)
    with pytest.raises(Crash):
        payments.pay_order("o-1", "pay-1")
    monkeypatch.setattr(ChannelPayments, "_book", real_book)
    with ledger.reader() as conn:
        assert unfinished_channel_work(conn, clock.now_ns()) == [TENANT]
    restarted = shop(ledger, SandboxAcquirer(acquirer.engine.url.render_as_string(False), clock))
    assert restarted.recover(older_than_s=60) == {"booked": 0, "failed": 0}  # too recent
    clock.advance(seconds=61)
    assert restarted.recover(older_than_s=60) == {"booked": 1, "failed": 0}
    assert restarted.checkout.get_order("o-1").status is OrderStatus.PAID
    with ledger.reader() as conn:
        assert unfinished_channel_work(conn, clock.now_ns()) == []
    assert_books_balance(payments.checkout)


def test_a_refund_whose_booking_crashed_is_booked_by_recovery_once(
    ledger: Ledger, acquirer: SandboxAcquirer, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    payments = shop(ledger, acquirer)
    order(payments, "o-1")
    payments.pay_order("o-1", "pay-1")
    refunds = Refunds(payments)
    real_book = Refunds._book_locked

    def crash(*_: object, **__: object) -> None:
        raise Crash

    monkeypatch.setattr(Refunds, "_book_locked", crash)
    with pytest.raises(Crash):
        refunds.refund("o-1", Money(4_000, "USD"), "r-1")
    monkeypatch.setattr(Refunds, "_book_locked", real_book)
    clock.advance(seconds=61)
    assert refunds.recover(older_than_s=60)["refunds_booked"] == 1
    assert refunds.recover(older_than_s=60)["refunds_booked"] == 0
    assert payments.checkout.get_order("o-1").refunded_minor == 4_000
    given_back = [
        m for _, m in acquirer.movements("card-acquirer", TENANT, DAY) if m.amount_minor < 0
    ]
    assert given_back == [Money(-4_000, "USD")]
    assert_books_balance(payments.checkout)
