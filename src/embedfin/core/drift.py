"""Score drift: the population stability index (PSI) of today's scores against a reference.

Σ (actual% − expected%) · ln(actual% / expected%) over the reference's deciles; by the usual
scorecard-monitoring convention below 0.1 is stable, 0.1–0.25 worth watching, above 0.25 a
shift to retrain for. Used by credit's scorecards and risk's fraud models. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: PSI levels: under ``STABLE`` nothing moved, from ``SHIFTED`` retrain.
STABLE = 0.1
SHIFTED = 0.25


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    """The PSI of ``actual`` against ``expected`` (0.0 when either is too small to bin)."""
    reference = np.asarray(expected, dtype=float)
    current = np.asarray(actual, dtype=float)
    if reference.size < 10 or current.size == 0:
        return 0.0
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, 11)[1:-1]))
    e = np.bincount(np.digitize(reference, edges), minlength=len(edges) + 1) / reference.size
    a = np.bincount(np.digitize(current, edges), minlength=len(edges) + 1) / current.size
    e, a = np.clip(e, 1e-6, None), np.clip(a, 1e-6, None)
    return float(np.sum((a - e) * np.log(a / e)))
