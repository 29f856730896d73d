"""The registry: round trip, hash check, champion/challenger switch, PSI drift."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import update

from embedfin.core.errors import ConfigurationError, NotFound
from embedfin.credit import registry
from embedfin.credit.compiled import CompiledScorecard
from embedfin.credit.models import ScorecardModel
from embedfin.credit.synthetic import buyers
from embedfin.db.tables import credit_models
from embedfin.ledger.service import Ledger


@pytest.fixture(scope="module")
def two_models() -> tuple[CompiledScorecard, CompiledScorecard, np.ndarray]:
    X, y = buyers(5_000, seed=1)
    first = CompiledScorecard.compile(ScorecardModel().fit(X, y))
    X2, y2 = buyers(5_000, seed=2)
    second = CompiledScorecard.compile(ScorecardModel().fit(X2, y2))
    scores = np.array([first.score_one(r) for r in X.to_dict("records")])
    return first, second, scores


def test_models_round_trip_and_switch(
    ledger: Ledger, two_models: tuple[CompiledScorecard, CompiledScorecard, np.ndarray]
) -> None:
    first, second, scores = two_models
    with ledger.transaction() as tx:
        a = registry.register(
            tx.conn,
            first,
            data_window="2026-01..2026-02",
            metrics={"auc": 0.77},
            reference_scores=scores,
            now_ns=1,
        )
        b = registry.register(
            tx.conn,
            second,
            data_window="2026-02..2026-03",
            metrics={"auc": 0.78},
            reference_scores=scores,
            now_ns=2,
        )
        again = registry.register(
            tx.conn, first, data_window="x", metrics={}, reference_scores=scores, now_ns=3
        )
    assert (a.status, b.status, again.model_id) == ("champion", "challenger", a.model_id)
    with ledger.reader() as conn:
        champion = registry.load(conn)
        assert champion.version == a.model_id
        applicant = {"tenure_days": 100, "orders_90d": 2, "on_time_rate": 0.9}
        assert champion.score_one(applicant) == first.score_one(applicant)
    with ledger.transaction() as tx:
        registry.promote(tx.conn, b.model_id)
    with ledger.reader() as conn:
        assert registry.load(conn).version == b.model_id
        statuses = {m.model_id: m.status for m in registry.list_models(conn)}
    assert statuses == {a.model_id: "challenger", b.model_id: "champion"}
    with ledger.transaction() as tx:
        tx.conn.execute(
            update(credit_models)
            .where(credit_models.c.model_id == b.model_id)
            .values(artifact=registry.to_json(first))
        )
    with ledger.reader() as conn, pytest.raises(ConfigurationError):
        registry.load(conn)
    with ledger.reader() as conn, pytest.raises(NotFound):
        registry.load(conn, "csm_nope")


def test_psi_is_zero_for_the_same_population_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(600, 40, 20_000)
    assert registry.psi(reference, rng.normal(600, 40, 20_000)) < 0.01
    assert registry.psi(reference, rng.normal(640, 40, 20_000)) > 0.25


def test_train_registers_a_champion_then_challengers(tmp_path: object) -> None:
    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from embedfin.cli import app

    runner = CliRunner()
    url = f"sqlite:///{Path(str(tmp_path)) / 'models.db'}"
    first = runner.invoke(app, ["credit", "train", "--db", url, "--synthetic", "4000", "--json"])
    assert first.exit_code == 0, first.output
    a = json.loads(first.output)
    assert a["status"] == "champion"
    assert a["auc"] > 0.7
    second = runner.invoke(
        app, ["credit", "train", "--db", url, "--synthetic", "4000", "--seed", "9", "--json"]
    )
    b = json.loads(second.output)
    assert b["status"] == "challenger"
    assert runner.invoke(app, ["credit", "promote", b["model_id"], "--db", url]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["credit", "models", "--db", url, "--json"]).output)
    statuses = {m["model_id"]: m["status"] for m in listed}
    assert (statuses[a["model_id"]], statuses[b["model_id"]]) == ("challenger", "champion")
    assert statuses[a["challenger_id"]] == "challenger"
    assert a["challenger_id"].startswith("gbm_")
    assert len(statuses) == 4
    gbm = runner.invoke(app, ["credit", "promote", a["challenger_id"], "--db", url])
    assert gbm.exit_code == 0


def test_the_challenger_scores_the_same_at_decision_time_and_can_be_champion(
    ledger: Ledger,
) -> None:
    from embedfin.credit.gbm import GbmDecisionModel
    from embedfin.credit.models import ChallengerModel

    X, y = buyers(4_000, seed=5)
    fitted = ScorecardModel().fit(X, y)
    compiled = CompiledScorecard.compile(fitted)
    challenger = ChallengerModel(fitted).fit(X, y)
    gbm = GbmDecisionModel.from_challenger(challenger, compiled)
    sample = X.head(200)
    batch = challenger.probability_of_default(sample)
    online = np.array(
        [gbm.probability_of_default(gbm.score_one(r)) for r in sample.to_dict("records")]
    )
    assert np.allclose(batch, online, atol=1e-9)
    columns = {c: sample[c].to_numpy(dtype=float) for c in sample.columns}
    assert np.allclose(
        gbm.score_many(columns), [gbm.score_one(r) for r in sample.to_dict("records")]
    )
    with ledger.transaction() as tx:
        registry.register(
            tx.conn, compiled, data_window="w", metrics={}, reference_scores=[1.0] * 20, now_ns=1
        )
        entry = registry.register(
            tx.conn, gbm, data_window="w", metrics={}, reference_scores=[1.0] * 20, now_ns=2
        )
        assert entry.model_id.startswith("gbm_")
        registry.promote(tx.conn, entry.model_id)
    with ledger.reader() as conn:
        champion = registry.load(conn)
    assert isinstance(champion, GbmDecisionModel)
    applicant = sample.iloc[0].to_dict()
    assert champion.score_one(applicant) == pytest.approx(gbm.score_one(applicant))
    assert champion.reasons(applicant) == compiled.reasons(applicant)
