"""Scorecard, challenger and the validation protocol on the Statlog German credit data.

Reference figures (../shared/REFERENCES.md): WOE + logistic regression holdout AUC ≈ 0.80,
5-fold one-hot LR ≈ 0.79 on this data set.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from embedfin.cli import app
from embedfin.core.errors import InvalidInput
from embedfin.credit.evaluate import evaluate, german, split_target
from embedfin.credit.models import Scaling, ScorecardModel

runner = CliRunner()


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return german()


@pytest.fixture(scope="module")
def card(data: tuple[pd.DataFrame, np.ndarray]) -> ScorecardModel:
    X, y = data
    return ScorecardModel().fit(X, y)


def test_the_shipped_data_is_the_statlog_set(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    assert X.shape == (1000, 20)
    assert int(y.sum()) == 300


def test_points_follow_the_pdo_and_base_odds(
    card: ScorecardModel, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    """score = 600 + 20 · log2(good:bad odds / 50), for every applicant."""
    X, _ = data
    scores = card.score(X.head(50))
    pd_ = card.probability_of_default(X.head(50))
    scale = Scaling()
    expected = scale.base_points + scale.pdo * np.log2((1 - pd_) / pd_ / scale.base_odds)
    assert np.allclose(scores, expected, atol=1e-6)
    assert np.corrcoef(scores, pd_)[0, 1] < -0.9  # higher score, lower risk


def test_reason_codes_name_the_largest_shortfalls(
    card: ScorecardModel, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, _ = data
    worst = X.iloc[[int(np.argmin(card.score(X)))]]
    reasons = card.reasons(worst)
    assert 1 <= len(reasons) <= 4
    shortfalls = [r.shortfall for r in reasons]
    assert shortfalls == sorted(shortfalls, reverse=True)
    assert all(r.points < r.best_points for r in reasons)
    assert len({r.feature for r in reasons}) == len(reasons)
    best = X.iloc[[int(np.argmax(card.score(X)))]]
    assert sum(r.shortfall for r in card.reasons(best)) < sum(shortfalls)
    with pytest.raises(InvalidInput):
        card.reasons(X.head(2))


def test_cross_validation_on_german_credit(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    result = evaluate(X, y, "german")
    assert 0.75 <= result.auc <= 0.83
    assert 0.73 <= result.baseline_auc <= 0.83
    assert 0.74 <= result.challenger_auc <= 0.84
    assert result.ks > 0.35
    assert result.auc_fold_min <= result.auc <= result.auc_fold_max
    again = evaluate(X, y, "german")
    assert again == result  # a fixed protocol: the same figures every run


def test_any_csv_with_a_binary_target_runs_through_the_same_command(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 600
    income = rng.normal(3_000, 800, n).round()
    utilisation = rng.uniform(0, 1, n).round(3)
    region = rng.choice(["north", "south", "east"], n)
    logit = -1.0 - income / 2_000 + 3 * utilisation + (region == "south") * 0.5
    default = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(int)
    path = tmp_path / "synthetic.csv"
    pd.DataFrame(
        {"income": income, "utilisation": utilisation, "region": region, "default": default}
    ).to_csv(path, index=False)
    result = runner.invoke(
        app, ["credit", "evaluate", "--csv", str(path), "--target", "default", "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert {"auc", "ks", "baseline_auc"} <= set(figures)
    assert figures["auc"] > 0.65
    assert not math.isnan(figures["challenger_auc"])
    missing = runner.invoke(app, ["credit", "evaluate", "--csv", str(path), "--target", "nope"])
    assert missing.exit_code != 0


def test_targets_must_be_binary() -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 2]})
    with pytest.raises(InvalidInput):
        split_target(frame, "y")
    with pytest.raises(InvalidInput):
        ScorecardModel().fit(frame[["x"]], [1, 1, 1])


def test_fitting_a_scorecard_leaves_ctrl_c_to_python() -> None:
    """OR-Tools' solver must not take SIGINT over: after a fit, Ctrl-C is a KeyboardInterrupt
    (servers shut down gracefully), not an outright kill. In a child process, to be safe."""
    script = (
        "import os, signal\n"
        # a pytest-xdist worker ignores SIGINT and its children inherit that: start as Python does
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from embedfin.credit.models import ScorecardModel\n"
        "from embedfin.credit.synthetic import buyers\n"
        "X, y = buyers(2_000)\n"
        "ScorecardModel().fit(X, y)\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    import time; time.sleep(5)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert (done.returncode, done.stdout.strip()) == (0, "interrupted"), done.stderr
