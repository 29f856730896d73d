"""The risk officer's pages: the case queue, one case (evidence, trail, decision), the rules
with their hit rates and precision, the checks per day (actions and labelled fraud share), the
merchant ranking and one merchant's score over time, reserve and holds.

Reads come from the read model ``queries.risk``; a case is decided through the API with the
signed-in key (so only a key with the ``risk:write`` scope can, as on the API)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from embedfin.api.auth import SCOPES, Scope
from embedfin.client import ApiError
from embedfin.core.errors import NotFound
from embedfin.dashboard import charts
from embedfin.dashboard.pages import PageError, form, new_idempotency_key, page
from embedfin.dashboard.queries.risk import case_queue, daily_actions, decided_count, rule_hits
from embedfin.dashboard.signin import Session, SessionDep
from embedfin.payments.payouts import reserves

router = APIRouter()


def _risk_officer(current: Session) -> None:
    if Scope.RISK not in SCOPES[current.principal.role]:
        raise PageError(403, "the risk pages need a risk or operator key")


def _overview(current: Session) -> dict[str, Any]:
    now = current.platform.clock.now_ns()
    with current.platform.read() as conn:
        queue = case_queue(conn, current.tenant, now)
        decisions, hits = rule_hits(conn, current.tenant)
        days = daily_actions(conn, current.tenant)
        decided = decided_count(conn, current.tenant)
    services = current.platform.tenant(current.tenant)
    live = services.risk.rule_set()
    ranking = services.merchant_risk.ranking(20)
    return {
        "merchants": ranking,
        "merchants_chart": charts.merchant_scores(
            [(m.merchant_id, m.score, m.tier) for m in ranking]
        ),
        "queue": queue,
        "decided": decided,
        "decisions": decisions,
        "hits": hits,
        "rules": live.rules,
        "rule_set_version": live.version,
        "actions_chart": charts.risk_actions(days),
    }


@router.get("/risk", response_class=HTMLResponse)
def risk_overview(request: Request, current: SessionDep) -> HTMLResponse:
    _risk_officer(current)
    return page(request, "risk.html", session=current, **_overview(current))


@router.get("/risk/cases/{case_id}", response_class=HTMLResponse)
def risk_case(request: Request, case_id: str, current: SessionDep) -> HTMLResponse:
    _risk_officer(current)
    services = current.platform.tenant(current.tenant)
    try:
        case = services.cases.get(case_id)
    except NotFound:
        raise PageError(404, "no such case") from None
    order = services.checkout.find_order(case.order_id) if case.order_id else None
    alert = services.monitoring.case_alert(case_id) if case.kind == "aml_alert" else None
    return page(
        request,
        "risk_case.html",
        session=current,
        case=case,
        late=case.late(current.platform.clock.now_ns()),
        order=order,
        events=services.cases.events(case_id),
        evidence=services.risk.evidence(case),
        alert=alert,
        idempotency_key=new_idempotency_key(),
    )


@router.get("/risk/models", response_class=HTMLResponse)
def risk_models(request: Request, current: SessionDep) -> HTMLResponse:
    """The fraud models (champion, challengers, their holdout metrics) and the champion's
    monitoring: score drift and the precision of flags over the last 30 days."""
    _risk_officer(current)
    models = current.platform.tenant(current.tenant).risk.models
    days = models.monitoring(30)
    drift, precision = charts.model_monitoring(days)
    return page(
        request,
        "risk_models.html",
        session=current,
        models=models.list(),
        days=days,
        drift_chart=drift,
        precision_chart=precision,
    )


@router.get("/risk/merchants/{merchant_id}", response_class=HTMLResponse)
def risk_merchant(request: Request, merchant_id: str, current: SessionDep) -> HTMLResponse:
    """One merchant: its score over time and why, its reserve in force and its holds."""
    _risk_officer(current)
    services = current.platform.tenant(current.tenant)
    try:
        history = services.merchant_risk.history(merchant_id)
    except NotFound:
        raise PageError(404, "no such merchant") from None
    with current.platform.read() as conn:
        holds = reserves.list_holds(conn, current.tenant, merchant_id)
    with services.ledger.transaction() as tx:
        in_force = services.merchant_risk.reserve_of(tx, merchant_id)
    return page(
        request,
        "risk_merchant.html",
        session=current,
        merchant_id=merchant_id,
        latest=history[0] if history else None,
        in_force=in_force,
        policy=services.merchant_risk.policy(merchant_id),
        holds=holds,
        history_chart=charts.merchant_score_history(
            [(h.scored_at, h.score) for h in reversed(history)]
        ),
    )


@router.post("/risk/cases/{case_id}/decision")
async def decide(request: Request, case_id: str, current: SessionDep) -> Response:
    """The officer's decision, sent to the API as the signed-in key."""
    _risk_officer(current)
    fields = await form(request)
    outcome = fields.get("outcome", "")
    reason = fields.get("reason", "").strip() or "decided on the dashboard"
    key = fields.get("idempotency_key") or new_idempotency_key()

    def send() -> None:
        with current.client(request) as client:
            try:
                client.decide_case(case_id, outcome, reason[:500], idempotency_key=key)
            except ApiError as error:
                raise PageError(error.status, f"{error.detail} ({error.code})") from error

    await run_in_threadpool(send)
    return RedirectResponse(f"/dashboard/risk/cases/{quote(case_id)}", status_code=303)
