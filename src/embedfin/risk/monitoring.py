"""Model monitoring: per day, how the champion fraud model scores and how right its flags were.

For every day of stored decisions: how many were scored, the score's median and 90th
percentile, the PSI of the day's scores against the champion's reference (its holdout's
calibrated probabilities, ``core/drift.py``: above 0.25 the traffic has moved away from what it
was trained on), and the precision of what the model and the rules flagged — of the flagged
decisions whose outcome is known (a decided case, a release, a chargeback), the share that was
fraud. Labels arrive days later, so the last days' precision is read on few labels.

Pure: the rows come from ``ModelRegistry.monitoring``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from embedfin.core.drift import psi

DAY_NS = 86_400 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class MonitoredDecision:
    created_at: int
    score: float | None
    model_flagged: bool  # the model's score was a reason (it raised the action)
    rules_flagged: bool  # a live rule fired
    label: str  # fraud, good, unknown


@dataclass(frozen=True, slots=True)
class DailyModelFigures:
    day: int  # days since the epoch
    decisions: int
    scored: int
    score_p50: float | None
    score_p90: float | None
    psi: float | None
    model_flags: int
    model_precision: float | None
    rule_flags: int
    rule_precision: float | None


def _precision(flagged: list[MonitoredDecision]) -> float | None:
    known = [d for d in flagged if d.label != "unknown"]
    return sum(d.label == "fraud" for d in known) / len(known) if known else None


def daily_figures(
    decisions: Iterable[MonitoredDecision], reference: Sequence[float]
) -> list[DailyModelFigures]:
    """The figures of each day with decisions, oldest first."""
    by_day: dict[int, list[MonitoredDecision]] = defaultdict(list)
    for decision in decisions:
        by_day[decision.created_at // DAY_NS].append(decision)
    figures = []
    for day in sorted(by_day):
        rows = by_day[day]
        scores = np.asarray([d.score for d in rows if d.score is not None], dtype=float)
        model = [d for d in rows if d.model_flagged]
        rules = [d for d in rows if d.rules_flagged]
        figures.append(
            DailyModelFigures(
                day,
                len(rows),
                int(scores.size),
                float(np.median(scores)) if scores.size else None,
                float(np.quantile(scores, 0.9)) if scores.size else None,
                psi(reference, scores) if scores.size and len(reference) >= 10 else None,
                len(model),
                _precision(model),
                len(rules),
                _precision(rules),
            )
        )
    return figures
