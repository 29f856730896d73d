"""The compliance officer's screening page: the active sanctions/PEP list, the hits by status and
category, the open hits oldest first and the latest decided ones.

Reads come from the read model ``queries.aml``; parties are shown by kind and id, never by name.
Each hit links to its ``sanctions_hit`` case on the risk pages, where it is decided (releasing
the case clears its hits, rejecting it confirms them); lists are loaded through the API
(``POST /v1/aml/watchlists``). Like the API's ``/v1/aml`` routes, the page needs a key with the
``risk:write`` scope."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from embedfin.api.auth import SCOPES, Scope
from embedfin.dashboard.pages import PageError, page
from embedfin.dashboard.queries.aml import (
    active_list,
    decided_hits,
    hit_counts,
    open_hits,
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
    with current.platform.read() as conn:
        watchlist = active_list(conn, current.tenant)
        counts = hit_counts(conn, current.tenant)
        waiting = open_hits(conn, current.tenant, now)
        decided = decided_hits(conn, current.tenant, now)
    return page(
        request,
        "aml.html",
        session=current,
        watchlist=watchlist,
        counts=counts,
        total=totals(counts),
        open_hits=waiting,
        decided_hits=decided,
    )
