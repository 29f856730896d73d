"""The fraud model: LightGBM on the feature catalogue, trained on labelled decisions, calibrated.

Trained on stored decisions whose label is known (a confirmed case, a fraud chargeback, a
released order), it turns a request's features into a calibrated fraud probability (Platt
scaling on a held-out quarter) and an action: at or above ``review_at`` (set so that at most
``max_good_share`` of the holdout's good rows reach it) the operation is held for a person — the
buyer sees nothing. A trained model never refuses by itself (``block_at`` is out of reach):
measured on a month it never saw, blocking at its highest scores refused 0.16% of honest
payments, over the 0.1% target, while holding them stopped the same fraud. Its reasons name
the features that pushed the score up most (LightGBM's SHAP contributions, ``pred_contrib``).

A model is stored as JSON — the booster as LightGBM's own text format, the calibration, the
thresholds, the feature list and its metrics — never as a pickle; ``risk_models`` keeps them per
tenant with a champion and challengers, as credit's registry does.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from embedfin.core.errors import InvalidInput
from embedfin.risk.decision import Action
from embedfin.risk.features import CATALOGUE, FeatureType
from embedfin.risk.model_predict import SingleRowPredictor

#: String features one-hot encoded, with the values they can take.
CATEGORIES = {
    "kind": ("checkout", "top_up", "withdrawal", "payout", "card_authorisation"),
    "payment_method": ("wallet", "card", "bnpl", "credit_line", "bank_transfer"),
}
#: A threshold no probability reaches.
NEVER = 2.0
NUMERIC = tuple(name for name, f in CATALOGUE.items() if f.type is not FeatureType.STR)
COLUMNS = (*NUMERIC, *(f"{k}={v}" for k, values in CATEGORIES.items() for v in values))


def row_of(features: Mapping[str, Any], columns: Sequence[str] = COLUMNS) -> list[float]:
    """One request's features as the model's columns (missing as NaN); a ``name=value``
    column is 1 when the string feature ``name`` is ``value``."""
    return _row(features, _parsed(columns))


def _parsed(columns: Sequence[str]) -> tuple[tuple[str, str | None], ...]:
    return tuple(
        (name, option) if sep else (column, None)
        for column in columns
        for name, sep, option in (column.partition("="),)
    )


def _row(features: Mapping[str, Any], parsed: Sequence[tuple[str, str | None]]) -> list[float]:
    values: list[float] = []
    for name, option in parsed:
        value = features.get(name)
        if option is not None:
            values.append(1.0 if value == option else 0.0)
        else:
            values.append(math.nan if value is None else float(value))
    return values


@dataclass(frozen=True, slots=True)
class Score:
    probability: float
    action: Action


class FraudModel:
    """A trained, calibrated fraud model."""

    def __init__(
        self,
        booster: lgb.Booster,
        platt: tuple[float, float],
        review_at: float,
        block_at: float,
        metrics: Mapping[str, Any],
        reference_scores: Sequence[float] = (),
        columns: Sequence[str] = COLUMNS,
    ) -> None:
        if booster.num_feature() != len(columns):
            raise InvalidInput("a fraud model's columns must match its booster's features")
        self.booster = booster
        #: the features it was trained on, in order: the catalogue's at training time (a
        #: feature added later is not read; one since removed reads as missing)
        self.columns = tuple(columns)
        self._parsed = _parsed(self.columns)
        self.platt = platt
        self.review_at = review_at
        self.block_at = block_at
        self.metrics = dict(metrics)
        #: calibrated probabilities of the holdout (at most 2,000): the drift reference
        self.reference_scores = tuple(float(x) for x in reference_scores)
        text = booster.model_to_string()
        self.model_id = "fm_" + hashlib.sha256(text.encode()).hexdigest()[:16]
        self._predictor = SingleRowPredictor(booster, len(self.columns))

    # --- scoring -------------------------------------------------------------------------
    def _calibrated(self, raw: np.ndarray) -> np.ndarray:
        a, b = self.platt
        result: np.ndarray = 1.0 / (1.0 + np.exp(-(a * raw + b)))
        return result

    def probabilities(self, rows: Sequence[Sequence[float]]) -> np.ndarray:
        raw = self.booster.predict(np.asarray(rows, dtype=float), raw_score=True)
        return self._calibrated(np.asarray(raw))

    def action_of(self, probability: float) -> Action:
        if probability >= self.block_at:
            return Action.BLOCK
        if probability >= self.review_at:
            return Action.REVIEW
        return Action.ALLOW

    def row(self, features: Mapping[str, Any]) -> list[float]:
        """``features`` as this model's columns."""
        return _row(features, self._parsed)

    def score(self, features: Mapping[str, Any]) -> Score:
        """One request's calibrated probability and action, by the booster's single-row
        path (``risk/model_predict.py``: the score ``Booster.predict`` gives, without its
        per-call set-up)."""
        raw = self._predictor.raw_score(np.array(self.row(features), dtype=np.float64))
        probability = float(self._calibrated(np.asarray([raw]))[0])
        return Score(min(max(probability, 0.0), 1.0), self.action_of(probability))

    def explain(self, features: Mapping[str, Any]) -> tuple[tuple[str, float], ...]:
        """The (at most three) features that raised this request's score most, with their
        SHAP contributions in raw score — asked only when the score becomes a reason: they
        cost several times the score itself."""
        row = np.array(self.row(features), dtype=np.float64)
        contributions = self._predictor.contributions(row)[:-1]
        order = np.argsort(contributions)[::-1][:3]
        return tuple(
            (self.columns[i], round(float(contributions[i]), 3))
            for i in order
            if contributions[i] > 0
        )

    # --- storage -------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(
            {
                "booster": self.booster.model_to_string(),
                "platt": list(self.platt),
                "review_at": self.review_at,
                "block_at": self.block_at,
                "columns": list(self.columns),
                "metrics": self.metrics,
                "reference_scores": [round(x, 6) for x in self.reference_scores],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> FraudModel:
        data = json.loads(text)
        booster = lgb.Booster(model_str=data["booster"])
        a, b = data["platt"]
        return cls(
            booster, (a, b), data["review_at"], data["block_at"], data["metrics"],
            data.get("reference_scores", ()), data["columns"],
        )  # fmt: skip


def train(
    rows: Sequence[Mapping[str, Any]],
    labels: Sequence[bool],
    *,
    seed: int = 7,
    max_good_share: float = 0.001,
) -> FraudModel:
    """Train on labelled feature vectors (``True`` = fraud): three quarters fit the booster, the
    last quarter calibrates it and sets the thresholds."""
    if len(rows) != len(labels) or len(rows) < 200:
        raise InvalidInput("a fraud model needs at least 200 labelled decisions")
    y = np.asarray(labels, dtype=int)
    if y.sum() < 10 or (len(y) - y.sum()) < 10:
        raise InvalidInput("a fraud model needs at least 10 fraud and 10 good decisions")
    x = np.asarray([row_of(r) for r in rows], dtype=float)
    order = np.random.default_rng(seed).permutation(len(y))
    cut = int(len(y) * 0.75)
    fit, hold = order[:cut], order[cut:]
    booster = lgb.train(
        {
            "objective": "binary",
            "learning_rate": 0.05,
            "num_leaves": 15,
            "min_data_in_leaf": 10,
            "feature_fraction": 0.9,
            "seed": seed,
            "deterministic": True,
            "num_threads": 1,
            "verbosity": -1,
        },
        lgb.Dataset(x[fit], y[fit], feature_name=[_safe(c) for c in COLUMNS]),
        num_boost_round=150,
    )
    raw = np.asarray(booster.predict(x[hold], raw_score=True))
    platt = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), y[hold])
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    probability = 1.0 / (1.0 + np.exp(-(a * raw + b)))
    good = np.sort(probability[y[hold] == 0])
    allowed = int(len(good) * max_good_share)  # good rows that may reach the threshold
    ceiling = float(good[len(good) - 1 - allowed]) if len(good) > allowed else 0.0
    review_at = min(max(ceiling + 1e-6, 0.5), 0.999)
    # The model holds for a person and never refuses on its own: an honest buyer it scores
    # high waits for a review (and sees nothing) instead of being blocked; rules block.
    block_at = NEVER
    auc = float(roc_auc_score(y[hold], probability)) if 0 < y[hold].sum() < len(hold) else None
    caught = float((probability[y[hold] == 1] >= review_at).mean()) if y[hold].sum() else None
    metrics = {"rows": len(y), "fraud": int(y.sum()), "holdout_auc": auc,
               "holdout_recall_at_review": caught}  # fmt: skip
    reference = np.random.default_rng(seed).permutation(probability)[:2_000]
    return FraudModel(booster, (a, b), review_at, block_at, metrics, reference.tolist())


def _safe(column: str) -> str:
    """LightGBM refuses some characters in feature names."""
    return column.replace("=", "__")
