"""Decisions at checkout: outcomes, affordability, exposure, funders and reason codes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from embedfin.credit.compiled import CompiledScorecard
from embedfin.credit.decisions import (
    CreditPolicy,
    DecisionRequest,
    FunderPolicy,
    Outcome,
    decide,
    estimated_monthly_income,
    monthly_repayment,
)
from embedfin.credit.features import BuyerFeatures
from embedfin.credit.models import ScorecardModel
from embedfin.credit.synthetic import buyers
from embedfin.lending.products import JURISDICTIONS, PlanCatalog, default_catalog

TODAY = date(2026, 3, 1)
GOOD = BuyerFeatures(900, 8, 400_000, 4, 0.0, 0.0, 1.0, 300_000, 3)
THIN = BuyerFeatures(3, 0, 0, 0, 0.0, 0.0, 1.0, 20_000, 9_999)
RISKY = BuyerFeatures(40, 1, 5_000, 1, 0.6, 0.3, 0.4, 0, 80)


@pytest.fixture(scope="module")
def model() -> CompiledScorecard:
    X, y = buyers(20_000)
    return CompiledScorecard.compile(ScorecardModel().fit(X, y), "synthetic-test")


@pytest.fixture(scope="module")
def catalog() -> PlanCatalog:
    return default_catalog(JURISDICTIONS["CN"])


def ask(features: BuyerFeatures, amount: int, **kw: int) -> DecisionRequest:
    return DecisionRequest("b-1", amount, "EUR", "books", TODAY, features, **kw)


def test_a_good_buyer_is_approved_with_affordable_plans(
    model: CompiledScorecard, catalog: PlanCatalog
) -> None:
    d = decide(ask(GOOD, 60_000), model, catalog, CreditPolicy())
    assert d.outcome is Outcome.APPROVE
    assert d.plans
    assert d.reasons == ()
    assert d.limit_minor >= 60_000
    assert d.model_version == "synthetic-test"
    room = estimated_monthly_income(GOOD) * 0.35
    for code in d.plans:
        offer = next(
            o for o in catalog.offers(60_000, "books", TODAY, "EUR") if o.plan.code == code
        )
        assert monthly_repayment(offer) <= room


def test_a_risky_buyer_is_declined_with_the_principal_reasons(
    model: CompiledScorecard, catalog: PlanCatalog
) -> None:
    d = decide(ask(RISKY, 20_000), model, catalog, CreditPolicy())
    assert d.outcome is Outcome.DECLINE
    assert 1 <= len(d.reasons) <= 4
    codes = [r.code for r in d.reasons]
    assert {"refund_rate", "dispute_rate", "on_time_rate"} & set(codes)
    assert all(r.text for r in d.reasons)


def test_over_borrowing_is_refused_or_countered(
    model: CompiledScorecard, catalog: PlanCatalog
) -> None:
    big = decide(ask(GOOD, 900_000), model, catalog, CreditPolicy())
    assert big.outcome is Outcome.COUNTER_OFFER
    assert big.amount_minor < 900_000
    assert big.reasons[0].code == "limit"
    burdened = decide(
        ask(GOOD, 60_000, monthly_obligations_minor=estimated_monthly_income(GOOD)),
        model,
        catalog,
        CreditPolicy(),
    )
    assert burdened.outcome is Outcome.DECLINE
    assert "affordability" in [r.code for r in burdened.reasons]
    capped = decide(ask(GOOD, 60_000, outstanding_minor=480_000), model, catalog, CreditPolicy())
    assert capped.outcome is not Outcome.APPROVE
    assert capped.reasons[0].code in {"exposure_cap", "limit"}
    assert capped.amount_minor <= 20_000


def test_a_thin_file_buyer_gets_a_small_limit_not_a_blanket_no(
    model: CompiledScorecard, catalog: PlanCatalog
) -> None:
    d = decide(ask(THIN, 3_000), model, catalog, CreditPolicy())
    assert d.outcome in (Outcome.APPROVE, Outcome.COUNTER_OFFER)
    assert d.plans == ("pay_in_4",) or "pay_in_4" in d.plans


def test_the_funder_must_accept_too(model: CompiledScorecard, catalog: PlanCatalog) -> None:
    strict = FunderPolicy("bank-strict", 0.001, 10_000)
    lenient = FunderPolicy("bank-2", 0.5, 1_000_000, frozenset({"books"}))
    d = decide(ask(GOOD, 60_000), model, catalog, CreditPolicy(), [strict, lenient])
    assert (d.outcome, d.funder_id) == (Outcome.APPROVE, "bank-2")
    none = decide(ask(GOOD, 60_000), model, catalog, CreditPolicy(), [strict])
    assert none.outcome is Outcome.DECLINE
    assert none.reasons[0].code == "funder_policy"


def test_decisions_are_deterministic_and_monotone_in_risk(
    model: CompiledScorecard, catalog: PlanCatalog
) -> None:
    a = decide(ask(GOOD, 60_000), model, catalog, CreditPolicy())
    assert decide(ask(GOOD, 60_000), model, catalog, CreditPolicy()) == a
    worse = replace(GOOD, dispute_rate=0.4)
    assert decide(ask(worse, 60_000), model, catalog, CreditPolicy()).score < a.score


def test_the_credit_benchmark_reports_its_figures() -> None:
    from embedfin.bench.credit import run

    result = run(decisions=300, population=5_000)
    assert result.decision_p99_ms > 0
    assert result.preapprovals_per_s > 0
    assert 0 < result.approved_share < 1
