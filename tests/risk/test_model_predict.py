"""The single-row predictor computes what ``Booster.predict`` computes: the same raw score and
the same SHAP contributions, bit for bit, missing values and zeros included."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from embedfin.risk.model import FraudModel
from embedfin.risk.model_predict import SingleRowPredictor


def _data(rows: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, width))
    x[rng.random(size=x.shape) < 0.2] = np.nan  # missing, as absent features are
    x[rng.random(size=x.shape) < 0.1] = 0.0
    x[:, 1] = rng.integers(0, 3, size=rows)  # a small count
    return x


def _booster(width: int = 6) -> lgb.Booster:
    x = _data(2_000, width, 1)
    y = ((np.nan_to_num(x[:, 0]) + x[:, 1] + np.isnan(x[:, 2])) > 1.2).astype(int)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1, "num_leaves": 15,
              "min_data_in_leaf": 10, "deterministic": True, "seed": 3}  # fmt: skip
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=60)


def test_the_raw_score_of_one_row_is_the_boosters() -> None:
    booster = _booster()
    predictor = SingleRowPredictor(booster, 6)
    rows = _data(500, 6, 2)
    expected = booster.predict(rows, raw_score=True, num_threads=1)
    got = np.array([predictor.raw_score(np.ascontiguousarray(row)) for row in rows])
    assert np.array_equal(got, expected)


def test_the_contributions_of_one_row_are_the_boosters() -> None:
    booster = _booster()
    predictor = SingleRowPredictor(booster, 6)
    rows = _data(200, 6, 3)
    expected = booster.predict(rows, pred_contrib=True, num_threads=1)
    got = np.array([predictor.contributions(np.ascontiguousarray(row)) for row in rows])
    assert np.array_equal(got, expected)


def test_a_row_of_another_width_or_type_is_refused() -> None:
    predictor = SingleRowPredictor(_booster(), 6)
    with pytest.raises(ValueError, match="6 contiguous doubles"):
        predictor.raw_score(np.zeros(5))
    with pytest.raises(ValueError, match="6 contiguous doubles"):
        predictor.raw_score(np.zeros(6, dtype=np.float32))


def test_a_fraud_models_score_is_its_calibrated_booster_score() -> None:
    booster = _booster()
    columns = ("a", "b", "c", "d", "e", "f")
    model = FraudModel(booster, (1.3, -0.4), 0.5, 2.0, {}, (), columns)
    for row in _data(100, 6, 4):
        features = {name: float(v) for name, v in zip(columns, row, strict=True) if v == v}
        raw = booster.predict(np.asarray([model.row(features)]), raw_score=True)[0]
        expected = 1.0 / (1.0 + np.exp(-(1.3 * np.asarray([raw]) - 0.4)))
        assert model.score(features).probability == min(max(float(expected[0]), 0.0), 1.0)
