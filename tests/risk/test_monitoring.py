"""Model monitoring: PSI, daily score figures and flag precision (pure, property-tested), and
the registry's champion/challenger with monitoring on a simulated fortnight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.bench import fraud as bench
from embedfin.core.drift import SHIFTED, STABLE, psi
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.risk.monitoring import DAY_NS, MonitoredDecision, daily_figures
from embedfin.sim import fraud

scores = st.lists(st.floats(0, 1), min_size=10, max_size=300)


@given(scores, scores)
def test_psi_is_never_negative(expected: list[float], actual: list[float]) -> None:
    assert psi(expected, actual) >= 0


def test_psi_tells_a_stable_population_from_a_shifted_one() -> None:
    rng = np.random.default_rng(3)
    reference = rng.beta(1, 20, 5_000)
    assert psi(reference, rng.beta(1, 20, 5_000)) < STABLE
    assert psi(reference, rng.beta(2, 8, 5_000)) > SHIFTED


def test_daily_figures_count_flags_and_their_precision() -> None:
    rows = [
        MonitoredDecision(0, 0.1, False, False, "unknown"),
        MonitoredDecision(1, 0.9, True, False, "fraud"),
        MonitoredDecision(2, 0.8, True, True, "good"),
        MonitoredDecision(3, None, False, True, "fraud"),
        MonitoredDecision(DAY_NS + 5, 0.2, False, False, "good"),
    ]
    first, second = daily_figures(rows, [i / 100 for i in range(100)])
    assert (first.day, first.decisions, first.scored) == (0, 4, 3)
    assert (first.model_flags, first.model_precision) == (2, 0.5)
    assert (first.rule_flags, first.rule_precision) == (2, 0.5)
    assert first.score_p50 == pytest.approx(0.8)
    assert (second.day, second.model_flags, second.model_precision) == (1, 0, None)
    assert first.psi is not None
    assert daily_figures(rows, [])[0].psi is None  # no champion: no reference


def test_champion_challenger_and_monitoring_on_a_simulated_fortnight(tmp_path: Path) -> None:
    world = bench._world(tmp_path, "train", 5, 120, on=True)
    models = world.services.risk.models
    with pytest.raises(InvalidInput):  # nothing labelled yet
        models.train()
    fraud.run(world, 8)
    bench._label_from_truth(world)
    first = models.train(seed=5)
    assert [(m["id"], m["status"]) for m in models.list()] == [(first.model_id, "champion")]
    assert len(first.reference_scores) > 50
    again = models.train(seed=5)  # the same labels, the same model: stored once
    assert again.model_id == first.model_id
    assert len(models.list()) == 1
    other = models.train(seed=6)
    assert {m["id"]: m["status"] for m in models.list()} == {
        first.model_id: "champion", other.model_id: "challenger"
    }  # fmt: skip
    models.promote(other.model_id)
    assert {m["id"]: m["status"] for m in models.list()}[other.model_id] == "champion"
    with pytest.raises(NotFound):
        models.promote("fm_nope")
    fraud.run(world, 3)
    days = models.monitoring(30)
    assert len(days) >= 10
    assert sum(d.decisions for d in days) == len(world.services.risk.decisions(limit=100_000))
    assert any(d.psi is not None for d in days)
    assert any(d.rule_precision is not None for d in days)
