"""The storefront's bill: what was bought, how it is paid, and the buyer's confirmation of
receipt (which releases escrow to the merchant, through the API)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from embedfin.dashboard.order_steps import order_step
from embedfin.dashboard.pages import PageError, form, new_idempotency_key, page
from embedfin.dashboard.queries.bill import bill
from embedfin.dashboard.signin import SessionDep

router = APIRouter()


@router.post("/shop/bills/{order_id}/confirm")
async def confirm_receipt(request: Request, order_id: str, current: SessionDep) -> Response:
    """The buyer confirms the parcel arrived: escrow pays the merchant (through the API)."""
    fields = await form(request)
    key = fields.get("idempotency_key") or new_idempotency_key()
    await run_in_threadpool(order_step, request, current, order_id, "confirm", key, None)
    return RedirectResponse(f"/dashboard/shop/bills/{quote(order_id)}", status_code=303)


@router.get("/shop/bills/{order_id}", response_class=HTMLResponse)
def bill_page(request: Request, order_id: str, current: SessionDep) -> HTMLResponse:
    order = current.platform.tenant(current.tenant).checkout.find_order(order_id)
    if order is None or not current.principal.may_see_merchant(order.merchant_id):
        raise PageError(404, "no such order")
    with current.platform.read() as conn:
        found = bill(conn, order)
    return page(
        request, "bill.html", session=current, bill=found, idempotency_key=new_idempotency_key()
    )
