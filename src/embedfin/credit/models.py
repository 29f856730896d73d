"""Credit models: a WOE-binned logistic scorecard and a gradient-boosting challenger.

* **Scorecard** — ``optbinning`` (maintained, solver-based optimal binning with monotonic trends
  and the scorecard scaling built in; chosen over ``toad``, which pins old pandas, and over
  hand-written binning) bins every feature, a logistic regression on the WOE values gives the
  log-odds, and "pdo_odds" scaling turns them into points: factor = PDO / ln 2, offset = base
  points − factor · ln(base odds), with odds counted **good : bad** (50 : 1 at 600 points, 20
  points to double the odds by default). Higher scores mean lower risk.
* **Reason codes** (Reg B §1002.9(b)(2)): for a decision, the features where the applicant's
  points fall furthest below the feature's best attainable points, at most four.
* **Challenger** — LightGBM on the same WOE features with a monotone constraint per feature in
  the direction of its WOE trend (a better bin can never raise the risk), probabilities
  calibrated by Platt scaling on out-of-fold margins; stored as LightGBM's text model.

Targets are 1 for a bad outcome (default), 0 for good.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from optbinning import BinningProcess, Scorecard
from optbinning.binning import cp as optbinning_cp
from ortools.sat.python import cp_model
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from embedfin.core.errors import InvalidInput


class _CpModelLeavingSigintAlone:
    """OR-Tools' CP-SAT solver catches SIGINT while it solves and leaves the process's C-level
    handler behind it: afterwards Ctrl-C or a SIGINT kills the process outright — no
    KeyboardInterrupt, no graceful shutdown of `embedfin serve` or `embedfin demo`. optbinning
    builds its solvers through this module object; the solvers it gets here leave SIGINT alone
    (everything else is OR-Tools' own ``cp_model``)."""

    def __getattr__(self, name: str) -> object:
        return getattr(cp_model, name)

    @staticmethod
    def CpSolver() -> cp_model.CpSolver:  # noqa: N802 - the name optbinning calls
        solver = cp_model.CpSolver()
        solver.parameters.catch_sigint_signal = False
        return solver


optbinning_cp.cp_model = _CpModelLeavingSigintAlone()


@contextlib.contextmanager
def _sigint_kept() -> Iterator[None]:
    """Python's SIGINT handler put back at the C level after a fit: a solver optbinning picks
    other than CP-SAT (a MIP backend) may install its own and leave it behind too."""
    kept = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        if kept is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, kept)


@dataclass(frozen=True, slots=True)
class Scaling:
    pdo: float = 20.0
    base_points: float = 600.0
    base_odds: float = 50.0  # good : bad at base_points


@dataclass(frozen=True, slots=True)
class Reason:
    feature: str
    bin: str
    points: float
    best_points: float

    @property
    def shortfall(self) -> float:
        return self.best_points - self.points


#: Missing and special values get their own bins, with their observed WOE (optbinning's
#: default scores them as WOE 0, and its "indices" put them in bin 0). Fitting, the challenger's
#: WOE inputs, reasons and the compiled scorecard all use these.
EMPIRICAL = {"metric_special": "empirical", "metric_missing": "empirical"}


def categorical_columns(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]


def category_key(value: object) -> str:
    """A category as text, the same however the file or the caller typed it: 2, 2.0 and "2"
    are "2"."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def bin_label(raw: object) -> str:
    """A bin as a reason shows it: ``[0.74, 0.90)``, ``category in {north, east}``, ``missing``.

    optbinning's table holds a categorical bin as an array of its members."""
    if isinstance(raw, str):
        return raw.lower() if raw in ("Missing", "Special") else raw
    if isinstance(raw, list | tuple | np.ndarray | pd.api.extensions.ExtensionArray):
        return "category in {" + ", ".join(category_key(m) for m in raw) + "}"
    return str(raw)


def _binning(X: pd.DataFrame) -> BinningProcess:
    return BinningProcess(
        list(X.columns),
        categorical_variables=categorical_columns(X),
        max_n_bins=6,
        min_bin_size=0.05,
        binning_fit_params={
            c: {"monotonic_trend": "auto_asc_desc"}
            for c in X.columns
            if c not in categorical_columns(X)
        },
    )


class ScorecardModel:
    """A fitted scorecard: scores, probabilities of default and reason codes."""

    def __init__(self, scaling: Scaling | None = None) -> None:
        self.scaling = scaling or Scaling()
        self.features: list[str] = []
        self._card: Scorecard | None = None
        self._points: dict[str, dict[int, tuple[str, float]]] = {}
        self._best: dict[str, float] = {}

    def fit(self, X: pd.DataFrame, y: Sequence[int] | np.ndarray) -> ScorecardModel:
        target = _target(y)
        self.features = list(X.columns)
        card = Scorecard(
            binning_process=_binning(X),
            estimator=LogisticRegression(max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={
                "pdo": self.scaling.pdo,
                "odds": self.scaling.base_odds,
                "scorecard_points": self.scaling.base_points,
            },
        )
        with warnings.catch_warnings(), _sigint_kept():
            warnings.simplefilter("ignore")
            card.fit(X, target, **EMPIRICAL)
        self._card = card
        table = card.table(style="detailed")
        for feature, rows in table.groupby("Variable", sort=False):
            by_index = {
                int(r["Bin id"]): (bin_label(r["Bin"]), float(r["Points"]))
                for _, r in rows.iterrows()
            }
            self._points[str(feature)] = by_index
            self._best[str(feature)] = max(p for _, p in by_index.values())
        return self

    @property
    def card(self) -> Scorecard:
        if self._card is None:
            raise InvalidInput("the scorecard is not fitted")
        return self._card

    def score(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.card.score(X[self.features]), dtype=float)

    def probability_of_default(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.card.predict_proba(X[self.features])[:, 1], dtype=float)

    def reasons(self, applicant: pd.DataFrame, top: int = 4) -> list[Reason]:
        """The principal reasons for one applicant's score, largest shortfall first."""
        if len(applicant) != 1:
            raise InvalidInput("reason codes are for one applicant at a time")
        indices = self.card.binning_process_.transform(
            applicant[self.features], metric="indices", **EMPIRICAL
        )
        found = []
        for feature in self.features:
            index = int(indices[feature].iloc[0])
            label, points = self._points[feature].get(
                index, ("unseen", min(p for _, p in self._points[feature].values()))
            )
            found.append(Reason(feature, label, points, self._best[feature]))
        found.sort(key=lambda r: r.shortfall, reverse=True)
        return [r for r in found if r.shortfall > 1e-9][:top]

    def woe(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            self.card.binning_process_.transform(X[self.features], metric="woe", **EMPIRICAL),
            columns=self.features,
            index=X.index,
        )


class ChallengerModel:
    """Monotone gradient boosting on the scorecard's WOE features, Platt-calibrated.

    The calibration maps the booster's raw margin to a probability with a logistic fit on
    out-of-fold margins (3 folds), so the whole model is a LightGBM text model plus two numbers:
    it can be stored in the registry as text and scored without pickles.
    """

    def __init__(self, scorecard: ScorecardModel, seed: int = 42) -> None:
        self.scorecard = scorecard
        self.seed = seed
        self.booster_text: str = ""
        self.platt: tuple[float, float] = (1.0, 0.0)
        self._booster: LGBMClassifier | None = None

    def _new_booster(self, constraints: list[int]) -> LGBMClassifier:
        return LGBMClassifier(
            n_estimators=200,
            learning_rate=0.05,
            num_leaves=8,
            min_child_samples=20,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            monotone_constraints=constraints,
            random_state=self.seed,
            verbose=-1,
        )

    def fit(self, X: pd.DataFrame, y: Sequence[int] | np.ndarray) -> ChallengerModel:
        target = _target(y)
        woe = self.scorecard.woe(X)
        constraints = []
        for feature in woe.columns:
            values = woe[feature].to_numpy()
            corr = 0.0 if np.std(values) == 0 else float(np.corrcoef(values, target)[0, 1])
            constraints.append(1 if corr > 0 else -1)
        margins = np.zeros(len(woe))
        folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for train, test in folds.split(woe, target):
                part = self._new_booster(constraints).fit(woe.iloc[train], target[train])
                margins[test] = part.predict(woe.iloc[test], raw_score=True)
            calibration = LogisticRegression().fit(margins.reshape(-1, 1), target)
            self._booster = self._new_booster(constraints).fit(woe, target)
        self.platt = (float(calibration.coef_[0][0]), float(calibration.intercept_[0]))
        self.booster_text = self._booster.booster_.model_to_string()
        return self

    def probability_of_default(self, X: pd.DataFrame) -> np.ndarray:
        if self._booster is None:
            raise InvalidInput("the challenger is not fitted")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            margin = np.asarray(self._booster.predict(self.scorecard.woe(X), raw_score=True))
        a, b = self.platt
        return np.asarray(1.0 / (1.0 + np.exp(-(a * margin + b))), dtype=float)


def _target(y: Sequence[int] | np.ndarray) -> np.ndarray:
    target = np.asarray(y, dtype=int)
    if set(np.unique(target)) - {0, 1} or len(np.unique(target)) != 2:
        raise InvalidInput("the target must be binary: 1 for bad, 0 for good, both present")
    return target
