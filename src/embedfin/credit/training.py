"""Training credit models for the registry (``embedfin credit train``), and their table.

A training run fits the scorecard and its gradient-boosting challenger on the same 70% of the
rows, measures both on the stratified 30% holdout, and only then writes: both models go into the
registry in one transaction (the scorecard first, so it is champion when none is).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from embedfin.credit import registry
from embedfin.credit.compiled import CompiledScorecard
from embedfin.credit.evaluate import ks
from embedfin.credit.gbm import GbmDecisionModel
from embedfin.credit.models import ChallengerModel, ScorecardModel
from embedfin.credit.pipeline import FeaturePipeline
from embedfin.ledger.service import Ledger

HOLDOUT_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class FittedModels:
    """Both models of a training run, not yet registered.

    Attributes:
        scorecard: the compiled scorecard, as decisions run it.
        scorecard_metrics: its holdout ``auc``, ``ks``, ``rows`` and ``bad_rate``.
        scorecard_reference: its scores on the training rows (the drift reference).
        challenger: the gradient-boosting model over the scorecard's bins.
        challenger_metrics: as ``scorecard_metrics``, for the challenger.
        challenger_reference: the challenger's scores on the training rows.
    """

    scorecard: CompiledScorecard
    scorecard_metrics: dict[str, float]
    scorecard_reference: np.ndarray
    challenger: GbmDecisionModel
    challenger_metrics: dict[str, float]
    challenger_reference: np.ndarray


@dataclass(frozen=True, slots=True)
class TrainedModels:
    """Both models as the registry now holds them, with their holdout metrics."""

    scorecard: registry.ModelRecord
    scorecard_metrics: dict[str, float]
    challenger: registry.ModelRecord
    challenger_metrics: dict[str, float]


def holdout_metrics(
    y_test: np.ndarray, pd_test: np.ndarray, rows: int, bad_rate: float
) -> dict[str, float]:
    """AUC and KS on the holdout (4 decimals), with the size and bad rate of the whole set."""
    return {
        "auc": round(float(roc_auc_score(y_test, pd_test)), 4),
        "ks": round(ks(np.asarray(y_test), pd_test), 4),
        "rows": float(rows),
        "bad_rate": bad_rate,
    }


def fit_models(X: pd.DataFrame, y: np.ndarray, seed: int = 42) -> FittedModels:
    """Fit the scorecard and its challenger on a seeded stratified split; no I/O."""
    x_train, x_test, y_train, y_test = train_test_split(
        X, y, test_size=HOLDOUT_SHARE, stratify=y, random_state=seed
    )
    bad_rate = round(float(np.mean(y)), 4)
    fitted = ScorecardModel().fit(x_train, y_train)
    metrics = holdout_metrics(y_test, fitted.probability_of_default(x_test), len(X), bad_rate)
    compiled = CompiledScorecard.compile(fitted)
    challenger = ChallengerModel(fitted, seed).fit(x_train, y_train)
    gbm = GbmDecisionModel.from_challenger(challenger, compiled)
    pd_gbm = challenger.probability_of_default(x_test)
    train_columns = {c: x_train[c].to_numpy() for c in x_train.columns}  # text stays text
    return FittedModels(
        scorecard=compiled,
        scorecard_metrics=metrics,
        scorecard_reference=fitted.score(x_train),
        challenger=gbm,
        challenger_metrics=holdout_metrics(y_test, pd_gbm, len(X), bad_rate),
        challenger_reference=gbm.score_many(train_columns),
    )


def register_models(ledger: Ledger, fitted: FittedModels, *, data_window: str) -> TrainedModels:
    """Register both models in one transaction, the scorecard a nanosecond first."""
    with ledger.transaction() as tx:
        scorecard = registry.register(
            tx.conn,
            fitted.scorecard,
            data_window=data_window,
            metrics=fitted.scorecard_metrics,
            reference_scores=fitted.scorecard_reference,
            now_ns=ledger.clock.now_ns(),
        )
        challenger = registry.register(
            tx.conn,
            fitted.challenger,
            data_window=data_window,
            metrics=fitted.challenger_metrics,
            reference_scores=fitted.challenger_reference,
            now_ns=ledger.clock.now_ns() + 1,
        )
    return TrainedModels(scorecard, fitted.scorecard_metrics, challenger, fitted.challenger_metrics)


def feature_table(pipeline: FeaturePipeline, tenant: str, as_of_ns: int) -> pd.DataFrame:
    """Every buyer's features at ``as_of_ns`` (batch, point-in-time), one row per buyer sorted by
    id, after catching up with the outbox: the columns a model trains on."""
    pipeline.consume()
    table = pipeline.batch(tenant, as_of_ns)
    return pd.DataFrame(
        [{"buyer_id": b, **dataclasses.asdict(f)} for b, f in sorted(table.items())]
    )
