"""The registry keeps one champion per tenant, however many promotions arrive at once."""

from __future__ import annotations

import threading

import lightgbm as lgb
import numpy as np
from sqlalchemy import func, select

from embedfin.db.engine import make_engine
from embedfin.db.tables import risk_models
from embedfin.ledger.service import Ledger
from embedfin.risk.model import COLUMNS, FraudModel
from embedfin.risk.model_registry import ModelRegistry


def _model(rounds: int) -> FraudModel:
    rng = np.random.default_rng(rounds)
    x = rng.normal(size=(300, len(COLUMNS)))
    y = (x[:, 0] > 0.2).astype(int)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1, "min_data_in_leaf": 5}
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=rounds)
    return FraudModel(booster, (1.0, 0.0), 0.5, 2.0, {"rows": 300})


def _processes(ledger: Ledger, n: int) -> list[Ledger]:
    """``n`` ledgers on the same database, as ``n`` API processes would hold them (each
    process serialises its own writers; processes do not)."""
    return [
        Ledger(make_engine(ledger.engine.url.render_as_string(hide_password=False)), ledger.clock)
        for _ in range(n)
    ]


def _champions(ledger: Ledger, tenant: str) -> int:
    with ledger.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    risk_models.c.tenant == tenant, risk_models.c.status == "champion"
                )
            ).scalar_one()
        )


def test_concurrent_promotions_leave_one_champion(ledger: Ledger) -> None:
    registry = ModelRegistry(ledger, "t-models")
    models = [_model(rounds) for rounds in (3, 4, 5, 6)]
    for model in models:
        registry.register(model, champion=False)
    processes = _processes(ledger, len(models))
    errors: list[BaseException] = []
    for _ in range(10):
        barrier = threading.Barrier(len(models))

        def promote(model_id: str, own: Ledger, wait: threading.Barrier = barrier) -> None:
            try:
                wait.wait()
                ModelRegistry(own, "t-models").promote(model_id)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [
            threading.Thread(target=promote, args=(m.model_id, own))
            for m, own in zip(models, processes, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert _champions(ledger, "t-models") == 1


def test_concurrent_first_registrations_make_one_champion(ledger: Ledger) -> None:
    models = [_model(rounds) for rounds in (7, 8, 9)]
    barrier = threading.Barrier(len(models))

    def register(model: FraudModel, own: Ledger) -> None:
        barrier.wait()
        ModelRegistry(own, "t-first").register(model, champion=False)  # none yet: promoted

    processes = _processes(ledger, len(models))
    threads = [
        threading.Thread(target=register, args=(m, own))
        for m, own in zip(models, processes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _champions(ledger, "t-first") == 1
