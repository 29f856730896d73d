"""A fitted scorecard compiled to plain lookups, for real-time decisions and batch limits.

Scoring through ``optbinning``/pandas costs milliseconds per applicant; a scorecard is only bins
and points, so it compiles to, per feature, the numeric split points (``bisect``: the bin is the
number of splits at or below the value, as ``numpy.digitize``) or a category → points map, plus
the points for missing or unseen values. ``score_one`` takes a plain mapping (microseconds);
``score_many`` takes columns as arrays (vectorised, for millions of buyers). Tests check both
against the fitted model exactly.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from embedfin.credit.models import Reason, Scaling, ScorecardModel, bin_label, category_key


@dataclass(frozen=True, slots=True)
class CompiledFeature:
    name: str
    splits: tuple[float, ...] | None  # numeric features
    points: tuple[float, ...]  # per numeric bin
    labels: tuple[str, ...]
    categories: Mapping[str, tuple[str, float]] | None  # categorical: value → (bin, points)
    missing_points: float
    best_points: float
    woe: tuple[float, ...] = ()  # per numeric bin (the challenger's inputs)
    category_woe: Mapping[str, float] | None = None
    missing_woe: float = 0.0

    def woe_of(self, value: object) -> float:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self.missing_woe
        if self.category_woe is not None:
            return self.category_woe.get(category_key(value), self.missing_woe)
        assert self.splits is not None
        return self.woe[bisect_right(self.splits, float(value))]  # type: ignore[arg-type]

    def lookup(self, value: object) -> tuple[str, float]:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "missing", self.missing_points
        if self.categories is not None:
            return self.categories.get(category_key(value), ("unseen", self.missing_points))
        assert self.splits is not None
        index = bisect_right(self.splits, float(value))  # type: ignore[arg-type]
        return self.labels[index], self.points[index]


@dataclass(frozen=True, slots=True)
class CompiledScorecard:
    features: tuple[CompiledFeature, ...]
    scaling: Scaling
    version: str = "unversioned"

    @classmethod
    def compile(cls, model: ScorecardModel, version: str = "unversioned") -> CompiledScorecard:
        table = model.card.table(style="detailed")
        process = model.card.binning_process_
        compiled = []
        for name in model.features:
            rows = table[table["Variable"] == name].sort_values("Bin id")
            binned = process.get_binned_variable(name)
            regular = rows[~rows["Bin"].astype(str).isin(["Special", "Missing"])]
            missing_row = rows[rows["Bin"].astype(str) == "Missing"]
            missing = float(missing_row["Points"].iloc[0])
            missing_woe = float(missing_row["WoE"].iloc[0])
            points = tuple(float(p) for p in regular["Points"])
            woes = tuple(float(w) for w in regular["WoE"])
            if binned.dtype == "categorical":
                categories: dict[str, tuple[str, float]] = {}
                category_woe: dict[str, float] = {}
                for members, p, w in zip(binned.splits, points, woes, strict=False):
                    label = bin_label(members)
                    for member in members:
                        categories[category_key(member)] = (label, p)
                        category_woe[category_key(member)] = w
                compiled.append(
                    CompiledFeature(
                        name,
                        None,
                        points,
                        (),
                        categories,
                        missing,
                        max((*points, missing)),
                        (),
                        category_woe,
                        missing_woe,
                    )
                )
            else:
                labels = tuple(str(b) for b in regular["Bin"])
                splits = tuple(float(s) for s in binned.splits)
                compiled.append(
                    CompiledFeature(
                        name,
                        splits,
                        points,
                        labels,
                        None,
                        missing,
                        max((*points, missing)),
                        woes,
                        None,
                        missing_woe,
                    )
                )
        return cls(tuple(compiled), model.scaling, version)

    def score_one(self, applicant: Mapping[str, object]) -> float:
        return sum(f.lookup(applicant.get(f.name))[1] for f in self.features)

    def probability_of_default(self, score: float) -> float:
        s = self.scaling
        good_odds = s.base_odds * 2 ** ((score - s.base_points) / s.pdo)
        return 1.0 / (1.0 + good_odds)

    def reasons(self, applicant: Mapping[str, object], top: int = 4) -> list[Reason]:
        found = []
        for f in self.features:
            label, points = f.lookup(applicant.get(f.name))
            if f.best_points - points > 1e-9:
                found.append(Reason(f.name, label, points, f.best_points))
        found.sort(key=lambda r: r.shortfall, reverse=True)
        return found[:top]

    def score_many(self, columns: Mapping[str, Sequence[float] | np.ndarray]) -> np.ndarray:
        """Scores for many applicants given numeric feature columns (vectorised)."""
        total: np.ndarray | None = None
        for f in self.features:
            if f.splits is None:
                raise ValueError(f"{f.name} is categorical: use score_one")
            values = np.asarray(columns[f.name], dtype=float)
            table = np.asarray(f.points)
            part = table[np.digitize(values, f.splits, right=False)]
            part = np.where(np.isnan(values), f.missing_points, part)
            total = part if total is None else total + part
        assert total is not None
        return total
