"""The compliance officer's screening page: the active sanctions/PEP list, the hits by status and
category, the open hits oldest first and the latest decided ones.

Reads come from the read model ``queries.aml``; parties are shown by kind and id, never by name.
Each hit links to its ``sanctions_hit`` case on the risk pages, where it is decided (releasing
the case clears its hits, rejecting it confirms them); lists are loaded through the API
(``POST /v1/aml/watchlists``). Like the API's ``/v1/aml`` routes, the page needs a key with the
``risk:write`` scope.

Below the screening, transaction monitoring: the reports to the FIU (due ones late first, with
the working days left by the report's official calendar, counted from today on the ledger's
clock in UTC; the latest filed ones with their digest) and the monitoring alerts by typology,
each linked to its ``aml_alert`` case. Read-only: reports are filed and alerts decided elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from embedfin.api.auth import SCOPES, Scope
from embedfin.dashboard.pages import PageError, page
from embedfin.dashboard.queries.aml import (
    active_list,
    alert_counts,
    decided_hits,
    due_reports,
    filed_reports,
    hit_counts,
    kyb_counts,
    kyb_under_review,
    latest_alerts,
    open_hits,
    report_counts,
    totals,
)
from embedfin.dashboard.signin import Session, SessionDep

router = APIRouter()


def _compliance_officer(current: Session) -> None:
    if Scope.RISK not in SCOPES[current.principal.role]:
        raise PageError(403, "the screening page needs a risk or operator key")


@router.get("/aml", response_class=HTMLResponse)
def screening(request: Request, current: SessionDep) -> HTMLResponse:
    _compliance_officer(current)
    now = current.platform.clock.now_ns()
    today = datetime.fromtimestamp(now // 1_000_000_000, UTC).date()
    with current.platform.read() as conn:
        watchlist = active_list(conn, current.tenant)
        counts = hit_counts(conn, current.tenant)
        waiting = open_hits(conn, current.tenant, now)
        decided = decided_hits(conn, current.tenant, now)
        reports = report_counts(conn, current.tenant, today)
        due = due_reports(conn, current.tenant, today)
        filed = filed_reports(conn, current.tenant)
        typologies = alert_counts(conn, current.tenant)
        alerts = latest_alerts(conn, current.tenant)
        kyb = kyb_counts(conn, current.tenant)
        reviews = kyb_under_review(conn, current.tenant)
    return page(
        request,
        "aml.html",
        session=current,
        watchlist=watchlist,
        counts=counts,
        total=totals(counts),
        open_hits=waiting,
        decided_hits=decided,
        today=today,
        report_counts=reports,
        due_reports=due,
        filed_reports=filed,
        alert_counts=typologies,
        alerts=alerts,
        kyb_counts=kyb,
        kyb_reviews=reviews,
    )
