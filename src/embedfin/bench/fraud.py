"""``embedfin bench fraud``: risk control on simulated months, and what it costs per checkout.

1. A **training month** (seed ``seed``) with the rules on; afterwards every decision gets the
   label the simulator's ground truth gives it (as confirmed cases and fraud chargebacks would
   in production) and a LightGBM model is trained on them and registered.
2. An **evaluation month** on another seed — buyers, devices and fraudsters the model never saw —
   three times from the same start: with no risk control, with the rules, with rules + model.
   Each run reports fraud losses in basis points of GMV, the share of fraud value stopped and
   the share of honest payments challenged or blocked (``sim/fraud.py``).
3. The **in-process scoring** p99, timed around every ``RiskService.score`` of the rules + model
   run (the signals' read, features, rules, model), and the whole **check**'s around
   ``RiskService.check`` (with the decision's, observation's, case's and challenge's writes).
4. **Merchant risk** on the rules + model run: how many colluding merchants the daily scores
   put in the high tier, how many honest ones they flagged (medium or high), and what rolling
   reserves held back.
5. **API wallet checkouts per second** with risk control on, against the same run's server with
   ``EMBEDFIN_RISK=off`` (``bench/api.py``, buyers spread so honest traffic trips no velocity
   rule).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedfin.bootstrap import Services, TenantServices
from embedfin.core.clock import NS_PER_SECOND, ManualClock
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.routing import Router
from embedfin.progress import Progress
from embedfin.risk.backtest import Label
from embedfin.risk.config import RiskSettings
from embedfin.risk.counters import SqlCounters
from embedfin.sim import fraud

START_NS = 1_772_409_600 * NS_PER_SECOND  # 2026-03-02


@dataclass(frozen=True, slots=True)
class FraudBenchResult:
    days: int
    buyers: int
    training_decisions: int
    model_auc: float | None
    loss_bp_none: float
    loss_bp_rules: float
    loss_bp_model: float
    fraud_value_caught: float
    fraud_value_caught_rules: float
    good_friction_rate: float
    good_friction_rate_rules: float
    score_p50_ms: float
    score_p99_ms: float
    check_p50_ms: float
    check_p99_ms: float
    checkout_rps_risk: float | None
    checkout_rps_off: float | None
    checkout_ratio: float | None
    by_pattern: dict[str, dict[str, int]]
    colluders_high: int
    honest_merchants_flagged: int
    reserve_held_minor: dict[str, int]
    merchant_ranking: list[tuple[str, int, str]]


def _world(folder: Path, name: str, seed: int, buyers: int, on: bool) -> fraud.World:
    clock = ManualClock(START_NS)
    ledger = Ledger.open(f"sqlite:///{folder / name}.db", clock)
    acquirer = fraud.SimAcquirer(set())
    services = Services(
        ledger, router=Router([acquirer], exploration=0.0), risk=RiskSettings(on, SqlCounters())
    ).tenant("fraud-bench")
    world = fraud.build_world(services, clock, seed, buyers)
    world.acquirer = acquirer
    return world


def _label_from_truth(world: fraud.World) -> int:
    """Every decision of the month labelled as its outcome later showed."""
    risk = world.services.risk
    labelled = 0
    for decision in risk.decisions(limit=1_000_000):
        pattern = world.truth.get(decision.reference, "good")
        risk.label(decision.decision_id, Label.GOOD if pattern == "good" else Label.FRAUD)
        labelled += 1
    return labelled


class _Timed:
    """Wraps a service's ``check`` and ``check_many`` (the whole check: scoring, the decision's,
    observation's, case's and challenge's writes; the simulator pays one order per call) and
    its ``score`` (reads, features, rules, model), and keeps every call's duration."""

    def __init__(self, services: TenantServices) -> None:
        self.durations: dict[str, list[float]] = {"check": [], "score": []}
        risk = services.risk
        for name, timer in (("check", "check"), ("check_many", "check"), ("score", "score")):
            setattr(risk, name, self._timed(getattr(risk, name), self.durations[timer]))

    @staticmethod
    def _timed(inner: Callable[..., Any], durations: list[float]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                durations.append(time.perf_counter() - started)

        return timed

    def percentile(self, name: str, q: float) -> float:
        ordered = sorted(self.durations[name])
        if not ordered:
            return 0.0
        return 1_000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(
    days: int, buyers: int, seed: int, progress: Progress, *, api_requests: int = 2_000
) -> FraudBenchResult:
    with tempfile.TemporaryDirectory() as tmp, progress("bench fraud", 6) as advance:
        folder = Path(tmp)
        train = _world(folder, "train", seed, buyers, on=True)
        fraud.run(train, days)
        trained = _label_from_truth(train)
        model = train.services.risk.models.train(champion=True, seed=seed)
        advance(1)
        month = seed + 1000
        none = _world(folder, "none", month, buyers, on=False)
        fraud.run(none, days)
        advance(1)
        rules = _world(folder, "rules", month, buyers, on=True)
        fraud.run(rules, days)
        advance(1)
        with_model = _world(folder, "model", month, buyers, on=True)
        with_model.services.risk.models.register(model, champion=True)
        timer = _Timed(with_model.services)
        fraud.run(with_model, days)
        merchants = fraud.merchant_report(with_model)
        advance(1)
        on = off = None
        if api_requests:
            from embedfin.bench.api import run as api_run

            spread = max(200, api_requests // 4)
            on = api_run(None, api_requests, 16, buyer_count=spread).checkout_rps
            advance(1)
            off = api_run(
                None, api_requests, 16, env={"EMBEDFIN_RISK": "off"}, buyer_count=spread
            ).checkout_rps
        advance(1)
    r_none, r_rules, r_model = (fraud.report(w.attempts) for w in (none, rules, with_model))
    return FraudBenchResult(
        days=days,
        buyers=buyers,
        training_decisions=trained,
        model_auc=model.metrics.get("holdout_auc"),
        loss_bp_none=round(r_none.loss_bp, 1),
        loss_bp_rules=round(r_rules.loss_bp, 1),
        loss_bp_model=round(r_model.loss_bp, 1),
        fraud_value_caught=round(r_model.value_caught, 3),
        fraud_value_caught_rules=round(r_rules.value_caught, 3),
        good_friction_rate=round(r_model.friction_rate, 5),
        good_friction_rate_rules=round(r_rules.friction_rate, 5),
        score_p50_ms=round(timer.percentile("score", 0.5), 3),
        score_p99_ms=round(timer.percentile("score", 0.99), 3),
        check_p50_ms=round(timer.percentile("check", 0.5), 3),
        check_p99_ms=round(timer.percentile("check", 0.99), 3),
        checkout_rps_risk=on,
        checkout_rps_off=off,
        checkout_ratio=round(on / off, 3) if on and off else None,
        by_pattern=json.loads(json.dumps(r_model.by_pattern)),
        colluders_high=merchants.colluders_high,
        honest_merchants_flagged=merchants.honest_flagged,
        reserve_held_minor=merchants.reserve_held_minor,
        merchant_ranking=merchants.ranking[:5],
    )
