"""Credit inside checkout, end to end: commerce events feed features; a recorded decision with
reasons; the order financed with a plan the decision offered; the books hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from embedfin.bootstrap import check_all
from embedfin.commerce.orders import OrderLine, OrderStatus
from embedfin.core.clock import ManualClock
from embedfin.core.errors import InvalidInput, InvalidStateTransition
from embedfin.core.money import Money
from embedfin.credit import registry
from embedfin.credit.compiled import CompiledScorecard
from embedfin.credit.decisions import Outcome
from embedfin.credit.models import ScorecardModel
from embedfin.credit.service import CreditService
from embedfin.credit.synthetic import buyers
from embedfin.db.tables import credit_decisions, credit_preapprovals
from embedfin.ledger.service import Ledger
from embedfin.lending.products import JURISDICTIONS, default_catalog
from embedfin.lending.servicing import Lending
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.wallets import Wallets

TENANT = "shop-c"
DAY = 86_400


@pytest.fixture(scope="module")
def model() -> CompiledScorecard:
    X, y = buyers(20_000)
    return CompiledScorecard.compile(ScorecardModel().fit(X, y), "test-model")


@pytest.fixture
def credit(ledger: Ledger, model: CompiledScorecard) -> CreditService:
    shop = Checkout(ledger, TENANT)
    shop.register_merchant("m-1", category="books", country="DE", settlement_currency="EUR")
    lending = Lending(shop, default_catalog(JURISDICTIONS["CN"]))
    lending.fund("platform", Money(5_000_000, "EUR"), "fund-1")
    with ledger.transaction() as tx:
        registry.register(
            tx.conn,
            model,
            data_window="test",
            metrics={},
            reference_scores=[600.0] * 20,
            now_ns=1,
        )
    return CreditService(lending)


def shop_history(credit: CreditService, buyer: str, orders: int) -> None:
    """A buyer who tops up and buys books every ten days."""
    checkout = credit.lending.checkout
    clock: ManualClock = checkout.clock  # type: ignore[assignment]
    wallets = Wallets(credit.ledger, TENANT)
    for n in range(orders):
        wallets.top_up(buyer, Money(30_000, "EUR"), "card", f"t-{buyer}-{n}")
        settle_channel(
            credit.ledger, TENANT, "card", Money(30_000, "EUR"), Money(0, "EUR"), f"s-{buyer}-{n}"
        )
        checkout.place_order(
            f"h-{buyer}-{n}",
            buyer_id=buyer,
            merchant_id="m-1",
            currency_code="EUR",
            lines=[OrderLine("book", 1, 2_000)],
        )
        checkout.pay_with_wallet(f"h-{buyer}-{n}")
        clock.advance(seconds=10 * DAY)


def test_a_regular_buyer_is_financed_through_a_recorded_decision(credit: CreditService) -> None:
    shop_history(credit, "b-1", 9)
    decision = credit.decide("d-1", "b-1", Money(40_000, "EUR"), "books")
    assert decision.outcome in (Outcome.APPROVE, Outcome.COUNTER_OFFER)
    assert decision.model_version.startswith("csm_")
    assert credit.decide("d-1", "b-1", Money(40_000, "EUR"), "books").outcome == decision.outcome
    with credit.ledger.reader() as conn:
        row = conn.execute(select(credit_decisions)).mappings().one()
    seen = json.loads(row["features"])
    assert seen["orders_90d"] == 8  # the first order, 90 days ago, left the window
    assert seen["categories_90d"] == 1
    checkout = credit.lending.checkout
    checkout.place_order(
        "o-big",
        buyer_id="b-1",
        merchant_id="m-1",
        currency_code="EUR",
        lines=[OrderLine("atlas", 1, decision.amount_minor)],
    )
    plan = decision.plans[-1]
    loan = credit.finance("o-big", "d-1", plan, "loan-1")
    assert checkout.get_order("o-big").status is OrderStatus.PAID
    assert loan.principal_minor == decision.amount_minor
    with pytest.raises(InvalidInput):
        credit.finance("o-big", "d-1", "no-such-plan", "loan-2")
    with credit.ledger.reader() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def test_a_batch_of_decisions_equals_deciding_one_by_one(
    credit: CreditService, model: CompiledScorecard
) -> None:
    shop_history(credit, "b-1", 6)
    shop_history(credit, "b-2", 2)
    requests = [
        ("d-a", "b-1", Money(30_000, "EUR"), "books"),
        ("d-b", "b-2", Money(9_000, "EUR"), "books"),
        ("d-c", "b-new", Money(2_000, "EUR"), "toys"),
        ("d-a", "b-1", Money(30_000, "EUR"), "books"),  # a repeat in the batch: the first
    ]
    together = credit.decide_many(requests)
    assert together[0] == together[3]
    one_by_one = CreditService(credit.lending, model)  # same ledger, same moment
    for (decision_id, buyer, amount, category), decided in zip(
        requests[:3], together[:3], strict=True
    ):
        again = one_by_one.decide(decision_id + "-single", buyer, amount, category)
        assert (again.outcome, again.amount_minor, again.plans, again.reasons) == (
            decided.outcome,
            decided.amount_minor,
            decided.plans,
            decided.reasons,
        )
    with credit.ledger.reader() as conn:
        stored = conn.execute(select(credit_decisions.c.decision_id)).scalars().all()
    assert sorted(stored) == ["d-a", "d-a-single", "d-b", "d-b-single", "d-c", "d-c-single"]
    replayed = credit.decide_many(requests[:1])[0]  # recorded: the same answer
    first = together[0]
    assert (replayed.outcome, replayed.amount_minor, replayed.limit_minor, replayed.plans) == (
        first.outcome,
        first.amount_minor,
        first.limit_minor,
        first.plans,
    )
    assert replayed.estimated_income_minor == first.estimated_income_minor > 0
    with pytest.raises(InvalidInput):
        credit.decide_many([("d-b", "b-1", Money(9_000, "EUR"), "books")])
    assert credit.decide_many([]) == []


def test_a_declined_buyer_sees_reasons_and_cannot_be_financed(credit: CreditService) -> None:
    checkout = credit.lending.checkout
    checkout.place_order(
        "o-1",
        buyer_id="b-new",
        merchant_id="m-1",
        currency_code="EUR",
        lines=[OrderLine("tv", 1, 400_000)],
    )
    decision = credit.decide("d-2", "b-new", Money(400_000, "EUR"), "books")
    assert decision.outcome is Outcome.DECLINE
    assert 1 <= len(decision.reasons) <= 4
    with pytest.raises(InvalidStateTransition):
        credit.finance("o-1", "d-2", "months_12", "loan-9")
    with pytest.raises(InvalidInput):
        credit.decide("d-2", "b-other", Money(1, "EUR"), "books")


def test_batch_and_online_features_agree_on_the_platform(credit: CreditService) -> None:
    shop_history(credit, "b-1", 3)
    shop_history(credit, "b-2", 2)
    credit.pipeline.consume()
    now = credit.lending.clock.now_ns()
    batch = credit.pipeline.batch(TENANT, now)
    assert set(batch) == {"b-1", "b-2"}
    for buyer, features in batch.items():
        assert credit.pipeline.online(TENANT, buyer, now) == features


def test_wallet_top_ups_count_as_inflow_and_a_backlog_is_consumed_in_full(
    credit: CreditService,
) -> None:
    shop_history(credit, "b-1", 4)  # four top-ups of 300.00, ten days apart
    assert credit.pipeline.consume(limit=3) > 3  # more events than one unit of work takes
    now = credit.lending.clock.now_ns()
    features = credit.pipeline.online(TENANT, "b-1", now)
    assert features.wallet_inflow_90d == 4 * 30_000
    assert features.orders_90d == 4
    assert credit.pipeline.batch(TENANT, now)["b-1"] == features


def test_preapproved_limits_for_every_buyer_with_reasons_for_changes(
    credit: CreditService,
) -> None:
    shop_history(credit, "b-1", 6)
    shop_history(credit, "b-2", 2)
    first = credit.preapprove()
    assert set(first) == {"b-1", "b-2"}
    assert first["b-1"] > 0
    again = credit.preapprove()
    assert again == first
    with credit.ledger.reader() as conn:
        rows = {
            r["buyer_id"]: r for r in conn.execute(select(credit_preapprovals)).mappings().all()
        }
    assert rows["b-1"]["reason"] == "unchanged"
    assert rows["b-1"]["model_id"] == "test-model" or rows["b-1"]["model_id"].startswith("csm_")


def test_the_credit_commands_on_a_database(sqlite_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from embedfin.cli import app

    runner = CliRunner()
    trained = runner.invoke(app, ["credit", "train", "--db", sqlite_url, "--synthetic", "3000"])
    assert trained.exit_code == 0, trained.output
    ledger = Ledger.open(sqlite_url, ManualClock())
    shop = Checkout(ledger, TENANT)
    shop.register_merchant("m-1", category="books", country="DE", settlement_currency="EUR")
    service = CreditService(Lending(shop, default_catalog(JURISDICTIONS["CN"])))
    shop_history(service, "b-1", 3)
    out = tmp_path / "features.csv"
    listed = runner.invoke(
        app, ["credit", "features", "--tenant", TENANT, "--db", sqlite_url, "--csv", str(out)]
    )
    assert listed.exit_code == 0, listed.output
    assert out.read_text().splitlines()[0].startswith("buyer_id,tenure_days")
    result = runner.invoke(
        app, ["credit", "preapprove", "--tenant", TENANT, "--db", sqlite_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["buyers"] == 1
