"""A model's reason names the features that raised its score most, computed when it is read."""

from __future__ import annotations

import json

import lightgbm as lgb
import numpy as np
from sqlalchemy import select

from embedfin.bootstrap import Services, TenantServices
from embedfin.commerce.orders import OrderLine
from embedfin.core.money import Money
from embedfin.db.tables import risk_decisions
from embedfin.ledger.service import Ledger
from embedfin.risk.config import RiskSettings
from embedfin.risk.counters import SqlCounters
from embedfin.risk.decision import Action
from embedfin.risk.model import COLUMNS, FraudModel


def _amount_model() -> FraudModel:
    """A model whose score rises with the amount (above 100.00 it holds for a review)."""
    rng = np.random.default_rng(5)
    x = np.full((400, len(COLUMNS)), np.nan)
    amount = COLUMNS.index("amount_minor")
    x[:, amount] = rng.integers(1_000, 20_000, 400)
    x[:, COLUMNS.index("buyer_orders_24h")] = rng.integers(0, 5, 400)
    y = (x[:, amount] > 10_000).astype(int)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1, "min_data_in_leaf": 5}
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=20)
    return FraudModel(booster, (1.0, 0.0), 0.5, 2.0, {"rows": 400})


def _shop(ledger: Ledger) -> tuple[TenantServices, FraudModel]:
    shop = Services(ledger, risk=RiskSettings(True, SqlCounters())).tenant("t-model-reasons")
    shop.checkout.register_merchant(
        "m-1", category="books", country="DE", settlement_currency="EUR"
    )
    shop.wallets.top_up("b-1", Money(50_000, "EUR"), "card-acquirer", "top-1")  # no model yet
    model = _amount_model()
    shop.risk.models.register(model, champion=True)
    return shop, model


def _held(shop: TenantServices) -> str:
    shop.checkout.place_order(
        "o-1", buyer_id="b-1", merchant_id="m-1", currency_code="EUR",
        lines=[OrderLine("sku", 1, 15_000)],
    )  # fmt: skip
    paid = shop.checkout.pay_with_wallet("o-1")
    assert paid.risk_hold
    (decision,) = [d for d in shop.risk.decisions() if d.reference == "o-1"]
    assert decision.action is Action.REVIEW
    return decision.decision_id


def test_a_model_hold_names_the_features_the_model_explains(ledger: Ledger) -> None:
    shop, model = _shop(ledger)
    decision = shop.risk.decision(_held(shop))
    (reason,) = [r for r in decision.reasons if r["code"] == "model_score"]
    assert reason["features"] == dict(model.explain(decision.features))
    assert "amount_minor" in reason["features"]
    assert set(reason) == {"code", "message", "features"}


def test_the_check_stores_the_model_to_explain_it_not_the_contributions(ledger: Ledger) -> None:
    shop, model = _shop(ledger)
    decision_id = _held(shop)
    with ledger.engine.connect() as conn:
        stored = conn.execute(
            select(risk_decisions.c.reasons).where(risk_decisions.c.decision_id == decision_id)
        ).scalar_one()
    (reason,) = [r for r in json.loads(stored) if r["code"] == "model_score"]
    assert reason == {
        "code": "model_score",
        "message": reason["message"],
        "features": {},
        "explained_by": model.model_id,
    }
    case = shop.cases.queue()[0]
    evidence = shop.risk.evidence(case)["decision"]
    assert evidence["reasons"] == shop.risk.decision(decision_id).reasons
