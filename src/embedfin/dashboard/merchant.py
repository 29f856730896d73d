"""The merchant's view: its sales, balances, payouts and recent orders (each paid one can be
shipped from here)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from embedfin.dashboard import charts
from embedfin.dashboard.order_steps import order_step
from embedfin.dashboard.pages import POLL_S, PageError, form, new_idempotency_key, page
from embedfin.dashboard.queries.merchant import merchant_figures
from embedfin.dashboard.queries.sales import daily_sales, recent_orders
from embedfin.dashboard.signin import Session, SessionDep

router = APIRouter()


def _merchant_context(current: Session, merchant_id: str) -> dict[str, Any]:
    if not current.principal.may_see_merchant(merchant_id):
        raise PageError(404, "no such merchant")
    ledger = current.platform.ledger
    with current.platform.read() as conn:
        found = merchant_figures(conn, ledger, current.tenant, merchant_id)
        if found is None:
            raise PageError(404, "no such merchant")
        recent = recent_orders(conn, current.tenant, merchant_id)
        points = daily_sales(conn, current.tenant, found.currency, merchant_id)
    return {
        "merchant": found,
        "orders": recent,
        "idempotency_key": new_idempotency_key(),
        "sales_chart": charts.sales(points, found.currency, "Sales and orders per day"),
        "poll_s": POLL_S,
    }


@router.get("/merchants/{merchant_id}", response_class=HTMLResponse)
def merchant(request: Request, merchant_id: str, current: SessionDep) -> HTMLResponse:
    context = _merchant_context(current, merchant_id)
    return page(request, "merchant.html", session=current, **context)


@router.get("/merchants/{merchant_id}/panels", response_class=HTMLResponse)
def merchant_panels(request: Request, merchant_id: str, current: SessionDep) -> HTMLResponse:
    context = _merchant_context(current, merchant_id)
    return page(request, "merchant_panels.html", session=current, **context)


@router.post("/merchants/{merchant_id}/orders/{order_id}/ship")
async def ship(request: Request, merchant_id: str, order_id: str, current: SessionDep) -> Response:
    """The merchant ships a paid order (through the API, as the merchant's key)."""
    fields = await form(request)
    tracking = fields.get("tracking", "").strip() or f"TRK-{order_id[-12:]}"
    key = fields.get("idempotency_key") or new_idempotency_key()
    await run_in_threadpool(order_step, request, current, order_id, "ship", key, tracking)
    return RedirectResponse(f"/dashboard/merchants/{quote(merchant_id)}", status_code=303)
