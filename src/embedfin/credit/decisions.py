"""Real-time credit decisions at checkout: approve, counter-offer or decline, with reasons.

``decide`` is pure and fast (a compiled scorecard and arithmetic: well under the 2 ms budget,
see ``embedfin bench credit``):

1. score the buyer's point-in-time features; probability of default from the score;
2. the limit the score earns: a multiple of the estimated monthly income that falls with risk,
   capped by the per-buyer exposure cap less what the buyer already owes;
3. **affordability**: estimated monthly income from behaviour (the larger of wallet inflows and
   spending over the last 90 days, per month); the new plan's monthly repayment plus existing
   obligations must stay within ``affordability_share`` of it — over-borrowing is refused;
4. the plans the catalogue offers for the amount and category, kept only if affordable;
5. the partner funder's own policy (joint approval): the first funder whose policy accepts;
6. thin files — new buyers with no adverse history — get a small starter limit on
   interest-free plans rather than a decline for having no history.

Every decision that is not a plain approval carries up to four principal reasons: policy
reasons first (affordability, exposure, funder), then the features where the buyer fell
furthest below the best points (Reg B §1002.9).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np

from embedfin.credit.features import BuyerFeatures
from embedfin.credit.registry import DecisionModel
from embedfin.lending.products import Offer, PlanCatalog


class Outcome(StrEnum):
    APPROVE = "approve"
    COUNTER_OFFER = "counter_offer"
    DECLINE = "decline"


@dataclass(frozen=True, slots=True)
class CreditPolicy:
    decline_below: float = 520.0  # score: good:bad odds about 3:1 (600 = 50:1, 20 points to double)
    full_limit_from: float = 580.0  # score at which the full income multiple applies (~25:1)
    income_multiple: float = 3.0  # limit = multiple × monthly income at the best scores
    affordability_share: float = 0.35
    exposure_cap_minor: int = 500_000
    min_limit_minor: int = 1_000
    #: Thin files (new buyers without adverse history) get a starter limit on interest-free
    #: plans instead of a decline: no history is not bad history.
    starter_limit_minor: int = 5_000
    thin_file_max_tenure_days: int = 90


@dataclass(frozen=True, slots=True)
class FunderPolicy:
    funder_id: str
    max_probability_of_default: float
    max_amount_minor: int
    categories: frozenset[str] | None = None

    def accepts(self, pd_: float, amount_minor: int, category: str) -> bool:
        return (
            pd_ <= self.max_probability_of_default
            and amount_minor <= self.max_amount_minor
            and (self.categories is None or category in self.categories)
        )


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    buyer_id: str
    amount_minor: int
    currency: str
    category: str
    today: date
    features: BuyerFeatures
    outstanding_minor: int = 0
    monthly_obligations_minor: int = 0


@dataclass(frozen=True, slots=True)
class ReasonCode:
    code: str
    text: str


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    score: float
    probability_of_default: float
    limit_minor: int
    amount_minor: int
    plans: tuple[str, ...]
    funder_id: str | None
    reasons: tuple[ReasonCode, ...]
    estimated_income_minor: int
    model_version: str
    details: dict[str, float] = field(default_factory=dict)


FEATURE_TEXT = {
    "tenure_days": "Short history with the marketplace",
    "orders_90d": "Few recent orders",
    "gmv_90d": "Low recent spending",
    "categories_90d": "Narrow purchase history",
    "refund_rate": "High share of refunded orders",
    "dispute_rate": "Disputes on past orders",
    "on_time_rate": "Late repayments of earlier installments",
    "wallet_inflow_90d": "Low recent wallet top-ups",
    "days_since_last_order": "No recent orders",
}


def monthly_income(inflow_90d: Any, gmv_90d: Any) -> Any:
    """Money coming in or going out per month over 90 days (numbers or arrays alike)."""
    return np.maximum(inflow_90d, gmv_90d) // 3


def limit_strength(score: Any, policy: CreditPolicy) -> Any:
    """The share of the income multiple a score earns: 0 at ``decline_below``, 1 from
    ``full_limit_from`` (numbers or arrays alike)."""
    span = policy.full_limit_from - policy.decline_below
    return np.clip((score - policy.decline_below) / span, 0.0, 1.0)


def estimated_monthly_income(features: BuyerFeatures) -> int:
    """A behavioural income proxy: money coming in or going out per month over 90 days."""
    return int(monthly_income(features.wallet_inflow_90d, features.gmv_90d))


def monthly_repayment(offer: Offer) -> int:
    """The heaviest 30-day stretch of the plan's installments (pay-in-4 counts two)."""
    rows = offer.schedule.installments
    heaviest = 0
    for i, first in enumerate(rows):
        window = sum(r.total_minor for r in rows[i:] if (r.due - first.due).days < 30)
        heaviest = max(heaviest, window)
    return heaviest


def is_thin_file(features: BuyerFeatures, policy: CreditPolicy) -> bool:
    """A new buyer with no adverse history: no history is not bad history."""
    return (
        features.orders_90d == 0
        and features.tenure_days <= policy.thin_file_max_tenure_days
        and features.refund_rate == 0
        and features.dispute_rate == 0
        and features.on_time_rate == 1
    )


def first_accepting_funder(
    funders: Sequence[FunderPolicy], pd_: float, amount_minor: int, category: str
) -> str | None:
    """Joint approval: the first partner funder, in the given order, whose policy accepts."""
    for funder in funders:
        if funder.accepts(pd_, amount_minor, category):
            return funder.funder_id
    return None


@dataclass(frozen=True, slots=True)
class _Assessment:
    """What the policy steps found for one request, before an outcome is chosen.

    ``policy_reasons`` keep the order the steps found them in (exposure, affordability,
    funder); the outcome step may put the limit reason in front.
    """

    applicant: dict[str, float]
    score: float
    pd_: float
    income_minor: int
    strength: float
    limit_minor: int
    room_minor: int
    affordable: tuple[Offer, ...]
    thin_file: bool
    funder_id: str | None
    policy_reasons: tuple[ReasonCode, ...]


def _assess(
    request: DecisionRequest,
    model: DecisionModel,
    catalog: PlanCatalog,
    policy: CreditPolicy,
    funders: Sequence[FunderPolicy],
) -> _Assessment:
    """Steps 1-6 of the module docstring: score, limit, affordability, plans, funder, thin file."""
    applicant = request.features.as_dict()
    score = model.score_one(applicant)
    pd_ = model.probability_of_default(score)
    income = estimated_monthly_income(request.features)
    policy_reasons: list[ReasonCode] = []

    strength = float(limit_strength(score, policy))
    limit = int(income * policy.income_multiple * strength)
    headroom = policy.exposure_cap_minor - request.outstanding_minor
    if headroom < limit:
        limit = max(headroom, 0)
        policy_reasons.append(ReasonCode("exposure_cap", "Existing credit is near the limit"))

    room = int(income * policy.affordability_share) - request.monthly_obligations_minor
    offers = catalog.offers(request.amount_minor, request.category, request.today, request.currency)
    affordable = [o for o in offers if monthly_repayment(o) <= room]
    if offers and not affordable:
        policy_reasons.append(
            ReasonCode("affordability", "Repayments would be too high for the estimated income")
        )

    thin_file = is_thin_file(request.features, policy)
    if thin_file and limit < policy.starter_limit_minor:
        limit = min(policy.starter_limit_minor, max(headroom, 0))
        affordable = [o for o in affordable if o.total_cost_minor == 0]

    funder_id = first_accepting_funder(funders, pd_, request.amount_minor, request.category)
    if funders and funder_id is None:
        policy_reasons.append(
            ReasonCode("funder_policy", "No lending partner accepts this request")
        )
    return _Assessment(
        applicant=applicant,
        score=score,
        pd_=pd_,
        income_minor=income,
        strength=strength,
        limit_minor=limit,
        room_minor=room,
        affordable=tuple(affordable),
        thin_file=thin_file,
        funder_id=funder_id,
        policy_reasons=tuple(policy_reasons),
    )


def _counter_offer(
    request: DecisionRequest, catalog: PlanCatalog, policy: CreditPolicy, found: _Assessment
) -> tuple[int, tuple[Offer, ...]] | None:
    """The largest amount within the limit that some plan finances affordably, stepping down by
    a quarter at a time; ``None`` when even the minimum limit is not affordable."""
    counter = min(found.limit_minor, request.amount_minor)
    while counter >= policy.min_limit_minor:
        smaller = tuple(
            o
            for o in catalog.offers(counter, request.category, request.today, request.currency)
            if monthly_repayment(o) <= found.room_minor
            and (not found.thin_file or o.total_cost_minor == 0)
        )
        if smaller:
            return counter, smaller
        counter = counter * 3 // 4
    return None


def _result(
    found: _Assessment,
    model: DecisionModel,
    outcome: Outcome,
    plans: Sequence[Offer],
    amount_minor: int,
) -> Decision:
    """The decision record; model reasons are computed only when the outcome needs them."""
    reasons: tuple[ReasonCode, ...] = ()
    if outcome is not Outcome.APPROVE:
        model_reasons = [
            ReasonCode(r.feature, FEATURE_TEXT.get(r.feature, r.feature))
            for r in model.reasons(found.applicant)
        ]
        reasons = tuple([*found.policy_reasons, *model_reasons][:4])
    return Decision(
        outcome,
        round(found.score, 2),
        round(found.pd_, 6),
        found.limit_minor,
        amount_minor,
        tuple(o.plan.code for o in plans),
        found.funder_id if outcome is not Outcome.DECLINE else None,
        reasons,
        found.income_minor,
        model.version,
        {"affordable_monthly_minor": float(found.room_minor), "strength": round(found.strength, 4)},
    )


def decide(
    request: DecisionRequest,
    model: DecisionModel,
    catalog: PlanCatalog,
    policy: CreditPolicy,
    funders: Sequence[FunderPolicy] = (),
) -> Decision:
    """Approve, counter-offer or decline one purchase (see the module docstring for the steps).

    Decline wins over everything (too risky and not a thin file, a limit below the minimum, or
    no funder); then a plain approval; otherwise the largest affordable smaller amount.
    """
    found = _assess(request, model, catalog, policy, funders)
    too_risky = found.score < policy.decline_below and not found.thin_file
    if (
        too_risky
        or found.limit_minor < policy.min_limit_minor
        or (funders and found.funder_id is None)
    ):
        return _result(found, model, Outcome.DECLINE, (), 0)
    if request.amount_minor <= found.limit_minor and found.affordable:
        return _result(found, model, Outcome.APPROVE, found.affordable, request.amount_minor)
    counter = _counter_offer(request, catalog, policy, found)
    if counter is None:
        return _result(found, model, Outcome.DECLINE, (), 0)
    amount_minor, plans = counter
    if request.amount_minor > found.limit_minor:
        limit_reason = ReasonCode("limit", "The amount is above the credit limit")
        found = replace(found, policy_reasons=(limit_reason, *found.policy_reasons))
    return _result(found, model, Outcome.COUNTER_OFFER, plans, amount_minor)


def preapprove(
    model: DecisionModel, columns: dict[str, np.ndarray], policy: CreditPolicy
) -> np.ndarray:
    """Pre-approved limits (minor units) for many buyers at once; 0 where declined. The same
    rules as ``decide`` without a purchase: the score's share of the income multiple, capped by
    the exposure cap."""
    score = model.score_many(columns)
    income = monthly_income(columns["wallet_inflow_90d"], columns["gmv_90d"])
    strength = limit_strength(score, policy)
    limit = np.minimum(income * policy.income_multiple * strength, policy.exposure_cap_minor)
    return np.where(limit >= policy.min_limit_minor, limit, 0).astype(np.int64)
