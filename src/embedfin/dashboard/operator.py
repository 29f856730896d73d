"""The operator's view: headline figures, safeguarding, channels, lending, top merchants,
recent events and the ledger's invariants, refreshed by HTMX polling."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from embedfin.api.platform import Platform
from embedfin.dashboard import charts
from embedfin.dashboard.cache import CacheDep, DashboardCache
from embedfin.dashboard.pages import POLL_S, PageError, page
from embedfin.dashboard.queries.credit import lending_figures
from embedfin.dashboard.queries.events import recent_events
from embedfin.dashboard.queries.overview import currency_figures
from embedfin.dashboard.queries.payments import channel_figures
from embedfin.dashboard.queries.sales import daily_sales, top_merchants_by_sales
from embedfin.dashboard.signin import Session, SessionDep

router = APIRouter()


def live_channels(platform: Platform) -> dict[str, tuple[int, int]]:
    """(approved, attempts) per channel in the router's window of recent outcomes (copied at
    once: the routing thread appends to the windows while a page is drawn)."""
    windows = {name: seen.copy() for name, seen in list(platform.router.outcomes.items())}
    return {name: (sum(seen), len(seen)) for name, seen in windows.items()}


def operator_figures(current: Session) -> dict[str, Any]:
    """Everything the operator's panels show but the live channel window and the check."""
    with current.platform.read() as conn:
        figures = currency_figures(conn, current.tenant)
        main = figures[0].currency if figures else "EUR"
        points = daily_sales(conn, current.tenant, main)
        return {
            "figures": figures,
            "main": main,
            "channels": channel_figures(conn, current.tenant),
            "events": recent_events(conn, current.tenant),
            "merchants": top_merchants_by_sales(conn, current.tenant, main),
            "lending": lending_figures(conn, current.tenant),
            "sales_chart": charts.sales(points, main),
            "settlement_chart": charts.settlement(points),
        }


def _operator_context(current: Session, cache: DashboardCache) -> dict[str, Any]:
    if current.is_merchant:
        raise PageError(403, "a merchant key sees its own merchant only")
    figures = cache.operator_figures(current.tenant, lambda: operator_figures(current))
    report, age = cache.ledger_report(current.platform)
    return {
        **figures,
        "report": report,
        "report_age_s": round(age),
        "channel_chart": charts.channel_success(
            figures["channels"], live_channels(current.platform)
        ),
        "poll_s": POLL_S,
    }


@router.get("/operator", response_class=HTMLResponse)
def operator(request: Request, current: SessionDep, cache: CacheDep) -> HTMLResponse:
    context = _operator_context(current, cache)
    return page(request, "operator.html", session=current, **context)


@router.get("/operator/panels", response_class=HTMLResponse)
def operator_panels(request: Request, current: SessionDep, cache: CacheDep) -> HTMLResponse:
    context = _operator_context(current, cache)
    return page(request, "operator_panels.html", session=current, **context)
