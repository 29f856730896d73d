"""The gradient-boosting challenger at decision time (and as champion, once promoted).

It takes the same inputs as the scorecard — each feature's WOE from the compiled bins — runs
LightGBM's text model and the Platt calibration, and expresses its probability of default on the
scorecard's scale (PDO and base odds), so the credit policy's score thresholds mean the same
whichever model is champion. Reasons come from the scorecard's points: the challenger is
constrained monotone in every WOE, so a feature that costs points never lowers its risk.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
from lightgbm import Booster

from embedfin.credit.compiled import CompiledScorecard
from embedfin.credit.models import ChallengerModel, Reason


class GbmDecisionModel:
    def __init__(
        self,
        scorecard: CompiledScorecard,
        booster_text: str,
        platt: tuple[float, float],
        version: str = "unversioned",
    ) -> None:
        self.scorecard = scorecard
        self.booster_text = booster_text
        self.booster = Booster(model_str=booster_text)
        self.platt = platt
        self.version = version
        self.scaling = scorecard.scaling

    @classmethod
    def from_challenger(
        cls, challenger: ChallengerModel, scorecard: CompiledScorecard, version: str = "unversioned"
    ) -> GbmDecisionModel:
        return cls(scorecard, challenger.booster_text, challenger.platt, version)

    def _to_score(self, pd_: np.ndarray) -> np.ndarray:
        s = self.scaling
        pd_ = np.clip(pd_, 1e-9, 1 - 1e-9)
        return np.asarray(s.base_points + s.pdo * np.log2((1 - pd_) / pd_ / s.base_odds))

    def _pd(self, woe: np.ndarray) -> np.ndarray:
        margin = np.asarray(self.booster.predict(woe, raw_score=True), dtype=float)
        a, b = self.platt
        return np.asarray(1.0 / (1.0 + np.exp(-(a * margin + b))))

    def score_one(self, applicant: Mapping[str, object]) -> float:
        row = np.array([[f.woe_of(applicant.get(f.name)) for f in self.scorecard.features]])
        return float(self._to_score(self._pd(row))[0])

    def probability_of_default(self, score: float) -> float:
        return self.scorecard.probability_of_default(score)

    def reasons(self, applicant: Mapping[str, object], top: int = 4) -> list[Reason]:
        return self.scorecard.reasons(applicant, top)

    def score_many(self, columns: Mapping[str, Sequence[object] | np.ndarray]) -> np.ndarray:
        """Scores for many applicants given feature columns: numbers, or categories as any
        values (categorical features are looked up by ``category_key``)."""
        matrix = np.column_stack(
            [
                np.asarray([f.woe_of(v) for v in columns[f.name]], dtype=float)
                for f in self.scorecard.features
            ]
        )
        return self._to_score(self._pd(matrix))

    def to_json(self, scorecard_json: str) -> str:
        return json.dumps(
            {"scorecard": scorecard_json, "booster": self.booster_text, "platt": list(self.platt)},
            sort_keys=True,
        )
