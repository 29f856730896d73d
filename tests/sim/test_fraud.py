"""Fraud in the simulator: each pattern is caught in a seeded scenario, honest buyers are not
stopped, and the model beats the rules on a month it never saw."""

from __future__ import annotations

from pathlib import Path

from embedfin.bench import fraud as bench
from embedfin.risk.model import FraudModel
from embedfin.sim import fraud


def test_rules_and_model_on_a_seeded_month(tmp_path: Path) -> None:
    train = bench._world(tmp_path, "train", 5, 120, on=True)
    fraud.run(train, 8)
    assert bench._label_from_truth(train) > 200
    model = train.services.risk.models.train(champion=True, seed=5)
    assert FraudModel.from_json(model.to_json()).model_id == model.model_id

    none = bench._world(tmp_path, "none", 77, 120, on=False)
    fraud.run(none, 6)
    with_model = bench._world(tmp_path, "model", 77, 120, on=True)
    with_model.services.risk.models.register(model, champion=True)
    fraud.run(with_model, 6)
    off, on = fraud.report(none.attempts), fraud.report(with_model.attempts)

    assert off.fraud_stopped_minor == 0  # without risk control nothing is stopped
    assert on.value_caught >= 0.8
    assert on.friction_rate <= 0.01
    for pattern, outcomes in on.by_pattern.items():
        if pattern in ("good", "friendly_fraud"):  # friendly fraud looks honest at checkout
            continue
        stopped = sum(n for outcome, n in outcomes.items() if outcome in fraud.STOPPED)
        assert stopped, (pattern, outcomes)
    # merchant risk: the brushing merchant ranks first in the high tier, its settlements held
    # back by the rolling reserve; no honest merchant is flagged
    merchants = fraud.merchant_report(with_model)
    assert merchants.ranking[0][0] == "ring-b"
    assert merchants.colluders_high >= 1
    assert merchants.honest_flagged == 0
    assert merchants.reserve_held_minor.get("ring-b", 0) > 0
    assert set(merchants.reserve_held_minor) <= set(fraud.COLLUDERS)
    # the detector never read the ground truth: decisions carry features, not patterns
    decision = with_model.services.risk.decisions(limit=1)[0]
    assert "pattern" not in decision.features
