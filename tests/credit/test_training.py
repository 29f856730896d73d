"""Training for the registry: both models fitted and measured on one holdout, registered
together; the features table a model trains on."""

from __future__ import annotations

import pytest

from embedfin.commerce.orders import OrderLine
from embedfin.core.money import Money
from embedfin.credit import registry
from embedfin.credit.pipeline import FeaturePipeline
from embedfin.credit.synthetic import buyers
from embedfin.credit.training import FittedModels, feature_table, fit_models, register_models
from embedfin.ledger.service import Ledger
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.wallets import Wallets

ROWS = 3_000
TENANT = "shop-t"


@pytest.fixture(scope="module")
def fitted() -> FittedModels:
    X, y = buyers(ROWS, seed=3)
    return fit_models(X, y, seed=42)


def test_both_models_are_measured_on_the_same_holdout(fitted: FittedModels) -> None:
    for metrics in (fitted.scorecard_metrics, fitted.challenger_metrics):
        assert list(metrics) == ["auc", "ks", "rows", "bad_rate"]
        assert metrics["rows"] == ROWS
        assert 0.6 < metrics["auc"] <= 1.0
        assert 0.0 < metrics["ks"] <= 1.0
    assert fitted.scorecard_metrics["bad_rate"] == fitted.challenger_metrics["bad_rate"]
    train_rows = ROWS * 7 // 10  # the reference scores are the training part's
    assert len(fitted.scorecard_reference) == len(fitted.challenger_reference) == train_rows


def test_the_same_data_and_seed_fit_the_same_models(fitted: FittedModels) -> None:
    X, y = buyers(ROWS, seed=3)
    again = fit_models(X, y, seed=42)
    assert again.scorecard_metrics == fitted.scorecard_metrics
    assert again.challenger_metrics == fitted.challenger_metrics
    assert registry.to_json(again.scorecard) == registry.to_json(fitted.scorecard)


def test_the_first_registration_makes_the_scorecard_champion_and_the_gbm_challenger(
    ledger: Ledger, fitted: FittedModels
) -> None:
    trained = register_models(ledger, fitted, data_window="2026-q1")
    assert (trained.scorecard.status, trained.challenger.status) == ("champion", "challenger")
    assert trained.scorecard.model_id.startswith("csm_")
    assert trained.challenger.model_id.startswith("gbm_")
    with ledger.reader() as conn:
        stored = {m.model_id: m for m in registry.list_models(conn)}
    assert stored[trained.scorecard.model_id].metrics == fitted.scorecard_metrics
    assert stored[trained.challenger.model_id].data_window == "2026-q1"


def test_registering_the_same_fit_again_adds_no_models(
    ledger: Ledger, fitted: FittedModels
) -> None:
    first = register_models(ledger, fitted, data_window="w")
    second = register_models(ledger, fitted, data_window="w")
    assert (second.scorecard, second.challenger) == (first.scorecard, first.challenger)
    with ledger.reader() as conn:
        assert len(registry.list_models(conn)) == 2


def _buy(ledger: Ledger, shop: Checkout, buyer: str, order_id: str) -> None:
    Wallets(ledger, TENANT).top_up(buyer, Money(5_000, "EUR"), "card", f"t-{order_id}")
    settle_channel(ledger, TENANT, "card", Money(5_000, "EUR"), Money(0, "EUR"), f"s-{order_id}")
    shop.place_order(
        order_id,
        buyer_id=buyer,
        merchant_id="m-1",
        currency_code="EUR",
        lines=[OrderLine("book", 1, 2_000)],
    )
    shop.pay_with_wallet(order_id)


def test_the_feature_table_has_one_row_per_buyer_after_catching_up_with_the_outbox(
    ledger: Ledger,
) -> None:
    pipeline = FeaturePipeline(ledger)
    assert len(feature_table(pipeline, TENANT, ledger.clock.now_ns())) == 0
    shop = Checkout(ledger, TENANT)
    shop.register_merchant("m-1", category="books", country="DE", settlement_currency="EUR")
    for order_id, buyer in (("o-1", "b-2"), ("o-2", "b-1"), ("o-3", "b-2")):
        _buy(ledger, shop, buyer, order_id)
    frame = feature_table(pipeline, TENANT, ledger.clock.now_ns())
    assert list(frame["buyer_id"]) == ["b-1", "b-2"]
    assert list(frame.columns[:3]) == ["buyer_id", "tenure_days", "orders_90d"]
    assert list(frame["orders_90d"]) == [1, 2]
