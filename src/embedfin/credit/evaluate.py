"""``embedfin credit evaluate``: the training pipeline under a fixed validation protocol.

Stratified 5-fold cross-validation with a fixed seed; in every fold the scorecard and the
challenger are trained on the training part only (binning included: no information from the
held-out part) and scored on the held-out part. In the same run, the baseline is a plain
logistic regression on one-hot encoded categories and standardised numbers, with missing values
imputed inside each fold (numbers by the training part's median plus a missing-indicator column,
categories as a category of their own). Figures are over the pooled out-of-fold predictions:
AUC, KS (max TPR − FPR) and, per fold, the spread. Files are read by ``credit.tables``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from embedfin.core.errors import InvalidInput
from embedfin.credit.models import ChallengerModel, ScorecardModel, categorical_columns
from embedfin.credit.tables import load_csv, split_target

__all__ = ["Evaluation", "evaluate", "german", "ks", "load_csv", "split_target"]


@dataclass(frozen=True, slots=True)
class Evaluation:
    dataset: str
    rows: int
    bad_rate: float
    folds: int
    seed: int
    auc: float
    ks: float
    auc_fold_min: float
    auc_fold_max: float
    challenger_auc: float
    challenger_ks: float
    baseline_auc: float
    baseline_ks: float


def german() -> tuple[pd.DataFrame, np.ndarray]:
    """The Statlog German credit data shipped with embedfin (1,000 rows, 300 bad)."""
    path = resources.files("embedfin.credit").joinpath("data/germancredit.csv")
    with resources.as_file(path) as file:
        frame = pd.read_csv(file)
    return split_target(frame, "creditability", bad_value="bad")


def ks(y: np.ndarray, score: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, score)
    return float(np.max(tpr - fpr))


def _baseline(X: pd.DataFrame) -> object:
    categorical = categorical_columns(X)
    numeric = [c for c in X.columns if c not in categorical]
    categories = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="(missing)"),
        OneHotEncoder(handle_unknown="ignore"),
    )
    numbers = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    encode = ColumnTransformer(
        [("categories", categories, categorical), ("numbers", numbers, numeric)]
    )
    return make_pipeline(encode, LogisticRegression(max_iter=2000))


def evaluate(
    X: pd.DataFrame, y: np.ndarray, dataset: str, folds: int = 5, seed: int = 42
) -> Evaluation:
    if len(X) < folds * 10:
        raise InvalidInput(f"at least {folds * 10} rows are needed for {folds}-fold validation")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    card_pd = np.zeros(len(X))
    challenger_pd = np.zeros(len(X))
    baseline_pd = np.zeros(len(X))
    fold_aucs = []
    for train, test in splitter.split(X, y):
        x_train, x_test = X.iloc[train], X.iloc[test]
        card = ScorecardModel().fit(x_train, y[train])
        card_pd[test] = card.probability_of_default(x_test)
        fold_aucs.append(roc_auc_score(y[test], card_pd[test]))
        challenger_pd[test] = (
            ChallengerModel(card, seed).fit(x_train, y[train]).probability_of_default(x_test)
        )
        base = _baseline(x_train)
        base.fit(x_train, y[train])  # type: ignore[attr-defined]
        baseline_pd[test] = base.predict_proba(x_test)[:, 1]  # type: ignore[attr-defined]
    return Evaluation(
        dataset=dataset,
        rows=len(X),
        bad_rate=round(float(np.mean(y)), 4),
        folds=folds,
        seed=seed,
        auc=round(float(roc_auc_score(y, card_pd)), 4),
        ks=round(ks(y, card_pd), 4),
        auc_fold_min=round(float(min(fold_aucs)), 4),
        auc_fold_max=round(float(max(fold_aucs)), 4),
        challenger_auc=round(float(roc_auc_score(y, challenger_pd)), 4),
        challenger_ks=round(ks(y, challenger_pd), 4),
        baseline_auc=round(float(roc_auc_score(y, baseline_pd)), 4),
        baseline_ks=round(ks(y, baseline_pd), 4),
    )
