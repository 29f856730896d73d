"""``/v1/risk/…``: decisions, step-up challenges, the case queue and the fraud rules.

Reading decisions and cases, deciding cases and changing rules need the ``risk:write`` scope
(risk officers and operators); a merchant key gets 403. Answering a challenge is part of paying
(``orders:write``); reading the sandbox's challenge code is for operators only.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Query

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import OrdersCommand, RiskCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.routes.aml import hit_body
from embedfin.api.routes.common import Cursor, order_body, page, v1_router
from embedfin.api.schemas.common import Limit, Page, ts
from embedfin.api.schemas.risk import (
    CaseAssign,
    CaseDecide,
    CaseDetailOut,
    CaseNote,
    CaseOut,
    ChallengeAnswer,
    ChallengeOut,
    DecisionOut,
    FraudModelOut,
    MerchantRiskDetailOut,
    MerchantRiskOut,
    ModelDayOut,
    ModelTrainIn,
    ReservePolicyIn,
    RuleIn,
    RulePromotion,
    RuleSetOut,
    SandboxCodeOut,
)
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.payments.payouts import reserves
from embedfin.risk.cases import Case
from embedfin.risk.challenges import Challenge
from embedfin.risk.merchant import Reserve
from embedfin.risk.merchants import ScoredMerchant
from embedfin.risk.store import StoredDecision

router = v1_router()
RiskReader = Annotated[Principal, Depends(require(Scope.RISK))]


def decision_body(d: StoredDecision) -> dict[str, Any]:
    return DecisionOut(
        id=d.decision_id,
        kind=d.kind,
        reference=d.reference,
        customer=d.buyer_id,
        merchant=d.merchant_id,
        amount=d.amount_minor,
        currency=d.currency,
        payment_method=d.payment_method,
        action=d.action.value,
        effective_action=d.effective_action.value,
        status=d.status,
        label=d.label,
        score=d.score,
        reasons=d.reasons,  # type: ignore[arg-type]
        rules_fired=d.live_hits,
        shadow_rules_fired=d.shadow_hits,
        rule_set_version=d.rule_set_version,
        features=d.features,
        created=ts(d.created_at),
    ).model_dump(mode="json")


def case_body(c: Case, now: int) -> dict[str, Any]:
    return CaseOut(
        id=c.case_id,
        kind=c.kind,
        status=c.status,
        order=c.order_id,
        decision=c.decision_id,
        customer=c.buyer_id,
        merchant=c.merchant_id,
        amount=c.amount_minor,
        currency=c.currency,
        summary=c.summary,
        assignee=c.assignee,
        outcome=c.outcome,
        outcome_reason=c.outcome_reason,
        opened=ts(c.opened_at),
        due=ts(c.due_at),
        late=c.late(now),
        decided=ts(c.decided_at or 0),
        decided_by=c.decided_by,
    ).model_dump(mode="json")


def challenge_body(c: Challenge) -> dict[str, Any]:
    return ChallengeOut(
        id=c.challenge_id,
        decision=c.decision_id,
        reference=c.reference,
        status=c.status,  # type: ignore[arg-type]
        attempts=c.attempts,
    ).model_dump(mode="json")


@router.get("/risk/decisions", response_model=Page[DecisionOut], tags=["risk"])
def list_decisions(
    platform: PlatformDep, principal: RiskReader, limit: Limit = 20, starting_after: Cursor = None
) -> Any:
    risk = platform.tenant(principal.tenant).risk
    found = risk.decisions(limit=limit + 1, starting_after=starting_after)
    return page([decision_body(d) for d in found[:limit]], len(found) > limit)


@router.get("/risk/decisions/{decision_id}", response_model=DecisionOut, tags=["risk"])
def get_decision(decision_id: str, platform: PlatformDep, principal: RiskReader) -> Any:
    return decision_body(platform.tenant(principal.tenant).risk.decision(decision_id))


@router.post("/risk/challenges/{challenge_id}/answers", response_model=ChallengeOut, tags=["risk"])
def answer_challenge(challenge_id: str, body: ChallengeAnswer, cmd: OrdersCommand) -> Any:
    """The buyer's one-time code; ``passed`` lets the refused payment be retried (with a new
    Idempotency-Key), three wrong codes or ten minutes fail it."""

    def effect() -> tuple[int, Body]:
        risk = cmd.platform.tenant(cmd.tenant).risk
        return 200, challenge_body(risk.answer_challenge(challenge_id, body.code))

    return cmd.run({"challenge": challenge_id, **body.model_dump()}, effect)


@router.get(
    "/risk/challenges/{challenge_id}/sandbox_code", response_model=SandboxCodeOut, tags=["risk"]
)
def sandbox_code(
    challenge_id: str,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.SANDBOX))],
) -> Any:
    """The code the sandbox would have sent the buyer (by SMS or the issuer's page)."""
    code = platform.tenant(principal.tenant).risk.sandbox_code(challenge_id)
    return SandboxCodeOut(challenge=challenge_id, code=code).model_dump(mode="json")


@router.get("/risk/cases", response_model=Page[CaseOut], tags=["risk"])
def list_cases(
    platform: PlatformDep,
    principal: RiskReader,
    limit: Limit = 20,
    status: Annotated[str | None, Query(pattern="^(open|assigned|deciding|decided)$")] = None,
    kind: Annotated[
        str | None, Query(pattern="^(fraud_review|dispute|return|merchant_review|sanctions_hit)$")
    ] = None,
    starting_after: Cursor = None,
) -> Any:
    services = platform.tenant(principal.tenant)
    found = services.cases.queue(
        status=status, kind=kind, limit=limit + 1, starting_after=starting_after
    )
    now = platform.clock.now_ns()
    return page([case_body(c, now) for c in found[:limit]], len(found) > limit)


@router.get("/risk/cases/{case_id}", response_model=CaseDetailOut, tags=["risk"])
def get_case(case_id: str, platform: PlatformDep, principal: RiskReader) -> Any:
    """The case, its trail, and its evidence: the decision, the order and linked accounts."""
    services = platform.tenant(principal.tenant)
    case = services.cases.get(case_id)
    events = [
        {"seq": e.seq, "kind": e.kind, "actor": e.actor, "body": e.body, "at": ts(e.at)}
        for e in services.cases.events(case_id)
    ]
    evidence = services.risk.evidence(case)
    if case.kind == "sanctions_hit":
        evidence["screening_hits"] = [hit_body(h) for h in services.screening.case_hits(case_id)]
    if case.order_id is not None:
        order = services.checkout.find_order(case.order_id)
        if order is not None:
            evidence["order"] = order_body(order)
    body = {**case_body(case, platform.clock.now_ns()), "events": events, "evidence": evidence}
    return CaseDetailOut.model_validate(body).model_dump(mode="json")


def _case_command(cmd: RiskCommand, case_id: str, body: Any, act: Any) -> Any:
    def effect() -> tuple[int, Body]:
        case = act(cmd.platform.tenant(cmd.tenant).cases)
        cmd.audit(f"risk_case_{body['action']}", case_id, body)
        return 200, case_body(case, cmd.platform.clock.now_ns())

    return cmd.run({"case": case_id, **body}, effect)


@router.post("/risk/cases/{case_id}/assignment", response_model=CaseOut, tags=["risk"])
def assign_case(case_id: str, body: CaseAssign, cmd: RiskCommand) -> Any:
    actor = cmd.principal.key_id
    return _case_command(
        cmd,
        case_id,
        {"action": "assign", **body.model_dump()},
        lambda cases: cases.assign(case_id, body.assignee, actor),
    )


@router.post("/risk/cases/{case_id}/notes", response_model=CaseOut, tags=["risk"])
def note_case(case_id: str, body: CaseNote, cmd: RiskCommand) -> Any:
    actor = cmd.principal.key_id

    def act(cases: Any) -> Case:
        cases.note(case_id, body.text, actor)
        return cases.get(case_id)  # type: ignore[no-any-return]

    return _case_command(cmd, case_id, {"action": "note", **body.model_dump()}, act)


@router.post("/risk/cases/{case_id}/decision", response_model=CaseOut, tags=["risk"])
def decide_case(case_id: str, body: CaseDecide, cmd: RiskCommand) -> Any:
    """Decide once: ``release`` lifts the order's hold, ``refund`` refunds the held order in
    full, ``reject`` keeps a refused withdrawal or payout refused."""
    actor = cmd.principal.key_id
    return _case_command(
        cmd,
        case_id,
        {"action": "decide", **body.model_dump()},
        lambda cases: cases.decide(case_id, body.outcome, body.reason, actor),
    )


def rule_set_body(platform: Any, tenant: str) -> dict[str, Any]:
    risk = platform.tenant(tenant).risk
    rule_set = risk.rule_set()
    return RuleSetOut(
        version=rule_set.version,
        rules=[rule.to_record() for rule in rule_set.rules],
        history=risk.versions(),
    ).model_dump(mode="json")


@router.get("/risk/rules", response_model=RuleSetOut, tags=["risk"])
def get_rules(platform: PlatformDep, principal: RiskReader) -> Any:
    return rule_set_body(platform, principal.tenant)


@router.post("/risk/rules", response_model=RuleSetOut, tags=["risk"])
def publish_rule(body: RuleIn, cmd: RiskCommand) -> Any:
    """Add a rule, or a new version of one (a new version of the whole set). It is backtested
    over the stored decisions first and the report is kept with the version; a rule that does
    not parse or names an unknown feature is refused (422) and nothing is stored. New rules
    default to shadow mode: recorded, never applied, until promoted."""

    def effect() -> tuple[int, Body]:
        record = body.model_dump(exclude={"currency"})
        risk = cmd.platform.tenant(cmd.tenant).risk
        risk.publish(record, cmd.principal.key_id, body.currency)
        cmd.audit("risk_rule_published", body.id, record)
        return 200, rule_set_body(cmd.platform, cmd.tenant)

    return cmd.run(body.model_dump(), effect)


@router.post("/risk/rules/{rule_id}/promotion", response_model=RuleSetOut, tags=["risk"])
def promote_rule(rule_id: str, body: RulePromotion, cmd: RiskCommand) -> Any:
    """Make a shadow rule live (a new version of the set, backtested like any change)."""

    def effect() -> tuple[int, Body]:
        risk = cmd.platform.tenant(cmd.tenant).risk
        risk.promote(rule_id, cmd.principal.key_id, body.currency)
        cmd.audit("risk_rule_promoted", rule_id, body.model_dump())
        return 200, rule_set_body(cmd.platform, cmd.tenant)

    return cmd.run({"rule": rule_id, **body.model_dump()}, effect)


# --- merchant risk ---------------------------------------------------------------------------
def _reserve(reserve: Reserve) -> dict[str, int]:
    return {"reserve_bp": reserve.bp, "hold_days": reserve.hold_days}


def merchant_risk_body(services: Any, scored: ScoredMerchant, rank: int) -> dict[str, Any]:
    with services.ledger.transaction() as tx:
        in_force = services.merchant_risk.reserve_of(tx, scored.merchant_id)
    return MerchantRiskOut(
        merchant=scored.merchant_id,
        rank=rank,
        score=scored.score,
        tier=scored.tier,  # type: ignore[arg-type]
        reserve=_reserve(scored.reserve),  # type: ignore[arg-type]
        reserve_in_force=_reserve(in_force),  # type: ignore[arg-type]
        reasons=scored.reasons,
        signals=scored.signals,
        scored=ts(scored.scored_at),
    ).model_dump(mode="json")


def _ranked(services: Any, limit: int) -> dict[str, Any]:
    found = services.merchant_risk.ranking(limit + 1)
    ranked = [
        merchant_risk_body(services, scored, rank)
        for rank, scored in enumerate(found[:limit], start=1)
    ]
    return page(ranked, len(found) > limit)


@router.get("/risk/merchants", response_model=Page[MerchantRiskOut], tags=["risk"])
def merchant_ranking(platform: PlatformDep, principal: RiskReader, limit: Limit = 20) -> Any:
    """The merchants of the last scoring run, riskiest first (seed §1.2: fund flows rank them)."""
    return _ranked(platform.tenant(principal.tenant), limit)


@router.post("/risk/merchants/scoring", response_model=Page[MerchantRiskOut], tags=["risk"])
def score_merchants(cmd: RiskCommand) -> Any:
    """Score every merchant now (the worker does it daily); the ranking, riskiest first. A
    merchant entering the high tier gets a ``merchant_review`` case."""

    def effect() -> tuple[int, Body]:
        services = cmd.platform.tenant(cmd.tenant)
        scored = services.merchant_risk.score_all()
        cmd.audit("merchant_risk_scored", cmd.tenant, {"merchants": len(scored)})
        return 200, _ranked(services, 20)

    return cmd.run({"scoring": True}, effect)


@router.get("/risk/merchants/{merchant_id}", response_model=MerchantRiskDetailOut, tags=["risk"])
def merchant_risk(merchant_id: str, platform: PlatformDep, principal: RiskReader) -> Any:
    """One merchant's latest score, its history, its reserve holds and any policy."""
    services = platform.tenant(principal.tenant)
    history = services.merchant_risk.history(merchant_id)  # NotFound for another tenant's
    if not history:
        raise NotFound(f"merchant {merchant_id} has not been scored yet")
    ranking = [m.merchant_id for m in services.merchant_risk.ranking(1_000_000)]
    body = merchant_risk_body(services, history[0], ranking.index(merchant_id) + 1)
    with services.ledger.current() as conn:
        holds = reserves.list_holds(conn, principal.tenant, merchant_id)
    policy = services.merchant_risk.policy(merchant_id)
    body["history"] = [
        {"score": h.score, "tier": h.tier, "scored": ts(h.scored_at)} for h in history[1:]
    ]
    body["holds"] = [
        {
            "id": h.hold_id,
            "currency": h.currency,
            "amount": h.amount_minor,
            "drawn": h.drawn_minor,
            "reserve_bp": h.reserve_bp,
            "batch": h.batch_id,
            "held": ts(h.held_at),
            "release_at": ts(h.release_at),
            "released": ts(h.released_at or 0),
        }  # fmt: skip
        for h in holds
    ]
    body["policy"] = None if policy is None else {
        "reserve": None if policy.reserve is None else _reserve(policy.reserve),
        "reason": policy.reason, "set_by": policy.set_by, "set": ts(policy.set_at),
    }  # fmt: skip
    return MerchantRiskDetailOut.model_validate(body).model_dump(mode="json")


@router.post("/risk/merchants/{merchant_id}/reserve", response_model=MerchantRiskDetailOut,
             tags=["risk"])  # fmt: skip
def set_merchant_reserve(merchant_id: str, body: ReservePolicyIn, cmd: RiskCommand) -> Any:
    """Set the merchant's rolling reserve (over its tier's) — or, with both null, go back to
    the tier's; applies from the next T+1 settlement, audited."""
    if (body.reserve_bp is None) != (body.hold_days is None):
        raise InvalidInput("give reserve_bp and hold_days together, or neither")
    reserve = None if body.reserve_bp is None else Reserve(body.reserve_bp, body.hold_days or 0)

    def effect() -> tuple[int, Body]:
        services = cmd.platform.tenant(cmd.tenant)
        services.merchant_risk.set_policy(merchant_id, reserve, body.reason, cmd.principal.key_id)
        cmd.audit("merchant_reserve_set", merchant_id, body.model_dump())
        if services.merchant_risk.latest(merchant_id) is None:
            services.merchant_risk.score_all()
        platform = cmd.platform
        return 200, merchant_risk(merchant_id, platform, cmd.principal)

    return cmd.run({"merchant": merchant_id, **body.model_dump()}, effect)


# --- fraud models ----------------------------------------------------------------------------
def _model_body(found: dict[str, Any]) -> dict[str, Any]:
    return FraudModelOut(
        id=found["id"],
        status=found["status"],
        metrics=found["metrics"],
        created=ts(found["created_at"]),
    ).model_dump(mode="json")


@router.get("/risk/models", response_model=Page[FraudModelOut], tags=["risk"])
def list_models(platform: PlatformDep, principal: RiskReader) -> Any:
    """The tenant's fraud models, newest first: the champion scores, challengers wait."""
    found = platform.tenant(principal.tenant).risk.models.list()
    return page([_model_body(m) for m in found], False)


@router.post("/risk/models", response_model=FraudModelOut, status_code=201, tags=["risk"])
def train_model(body: ModelTrainIn, cmd: RiskCommand) -> Any:
    """Train a model on the labelled decisions (at least 200, 10 of each label; else 422) and
    register it — a challenger unless ``champion``; the same labels train the same model."""

    def effect() -> tuple[int, Body]:
        models = cmd.platform.tenant(cmd.tenant).risk.models
        model = models.train(champion=body.champion, seed=body.seed)
        cmd.audit("risk_model_trained", model.model_id, body.model_dump())
        (found,) = [m for m in models.list() if m["id"] == model.model_id]
        return 201, _model_body(found)

    return cmd.run(body.model_dump(), effect)


@router.post("/risk/models/{model_id}/promotion", response_model=FraudModelOut, tags=["risk"])
def promote_model(model_id: str, cmd: RiskCommand) -> Any:
    """Make a challenger the champion (every worker scores with it within seconds)."""

    def effect() -> tuple[int, Body]:
        models = cmd.platform.tenant(cmd.tenant).risk.models
        models.promote(model_id)
        cmd.audit("risk_model_promoted", model_id, {})
        (found,) = [m for m in models.list() if m["id"] == model_id]
        return 200, _model_body(found)

    return cmd.run({"model": model_id}, effect)


@router.get("/risk/monitoring", response_model=list[ModelDayOut], tags=["risk"])
def model_monitoring(
    platform: PlatformDep,
    principal: RiskReader,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> Any:
    """Per day: scores (median, p90, PSI against the champion's holdout) and the precision of
    what the model and the rules flagged, on the labels known so far."""
    figures = platform.tenant(principal.tenant).risk.models.monitoring(days)
    return [
        ModelDayOut(
            day=(date(1970, 1, 1) + timedelta(days=f.day)).isoformat(),
            **{k: v for k, v in asdict(f).items() if k != "day"},
        ).model_dump(mode="json")
        for f in figures
    ]
