"""``embedfin bench credit``: decision latency and batch pre-approval throughput.

A scorecard is trained on 20,000 seeded synthetic buyers and compiled. Decisions: 10,000
in-process ``decide`` calls (score, affordability, plans, reasons) on varied buyers and amounts;
baseline in the same run: the fitted model's own single-applicant ``predict_proba`` (optbinning
on a one-row DataFrame), scoring only. Pre-approvals: limits for 1,000,000 synthetic buyers
with the compiled scorecard on arrays; baseline: the fitted model's batch ``predict_proba`` on
the same buyers (in chunks), scoring only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np

from embedfin.bench.memory import peak_rss_mb
from embedfin.credit.compiled import CompiledScorecard
from embedfin.credit.decisions import CreditPolicy, DecisionRequest, decide, preapprove
from embedfin.credit.features import BuyerFeatures
from embedfin.credit.models import ScorecardModel
from embedfin.credit.synthetic import buyers
from embedfin.lending.products import JURISDICTIONS, default_catalog
from embedfin.progress import Progress, no_progress


@dataclass(frozen=True, slots=True)
class CreditBenchResult:
    decisions: int
    decision_p50_ms: float
    decision_p99_ms: float
    baseline_score_p50_ms: float
    decision_speedup: float
    buyers: int
    preapprovals_per_s: float
    baseline_scores_per_s: float
    preapproval_ratio: float
    approved_share: float
    peak_rss_mb: float


def run(
    decisions: int = 10_000, population: int = 1_000_000, progress: Progress = no_progress
) -> CreditBenchResult:
    train_x, train_y = buyers(20_000, seed=11)
    fitted = ScorecardModel().fit(train_x, train_y)
    model = CompiledScorecard.compile(fitted, "bench")
    catalog = default_catalog(JURISDICTIONS["CN"])
    policy = CreditPolicy()
    sample, _ = buyers(decisions, seed=12)
    rows = sample.to_dict("records")
    amounts = (5_000, 20_000, 60_000, 150_000, 400_000)
    latencies = []
    with progress("decisions", decisions) as advance:
        for i, row in enumerate(rows):
            features = BuyerFeatures.from_mapping(row)
            request = DecisionRequest(
                f"b-{i}", amounts[i % len(amounts)], "EUR", "books", date(2026, 3, 1), features
            )
            t0 = time.perf_counter()
            decide(request, model, catalog, policy)
            latencies.append(time.perf_counter() - t0)
            if i % 1_000 == 999:
                advance(1_000)
    latencies.sort()
    baseline = []
    for i in range(min(decisions, 1_000)):
        one = sample.iloc[[i]]
        t0 = time.perf_counter()
        fitted.probability_of_default(one)
        baseline.append(time.perf_counter() - t0)
    baseline.sort()

    population_x, _ = buyers(population, seed=13)
    columns = {c: population_x[c].to_numpy(dtype=float) for c in population_x.columns}
    t0 = time.perf_counter()
    limits = preapprove(model, columns, policy)
    preapproval_s = time.perf_counter() - t0
    chunk = 100_000
    t0 = time.perf_counter()
    for start in range(0, min(population, 300_000), chunk):
        fitted.probability_of_default(population_x.iloc[start : start + chunk])
    baseline_s = (time.perf_counter() - t0) / (min(population, 300_000) / population)

    p50 = latencies[len(latencies) // 2] * 1000
    base_p50 = baseline[len(baseline) // 2] * 1000
    return CreditBenchResult(
        decisions=decisions,
        decision_p50_ms=round(p50, 4),
        decision_p99_ms=round(
            latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 4
        ),
        baseline_score_p50_ms=round(base_p50, 4),
        decision_speedup=round(base_p50 / p50, 1),
        buyers=population,
        preapprovals_per_s=round(population / preapproval_s, 0),
        baseline_scores_per_s=round(population / baseline_s, 0),
        preapproval_ratio=round(baseline_s / preapproval_s, 2),
        approved_share=round(float(np.mean(limits > 0)), 4),
        peak_rss_mb=round(peak_rss_mb(), 1),
    )
