"""The fund pool page: the tenant's funds, and one fund's books (cash, portfolio, units, net
assets, the facility), its disclosed days (income per 10,000 units, the 7-day yield), its
liquidity against Rule 2a-7's minimums and its assets by maturity.

Read-only, for the operator's keys: a merchant's key gets a 404 (a fund's holders are the
marketplace's customers).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from embedfin.core.errors import NotFound
from embedfin.dashboard.pages import PageError, page
from embedfin.dashboard.signin import SessionDep

router = APIRouter()
FundId = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get("/funds", response_class=HTMLResponse)
def funds_page(request: Request, current: SessionDep, fund: FundId = None) -> HTMLResponse:
    if current.principal.merchant_id is not None:
        raise PageError(404, "no fund pool page for a merchant")
    pool = current.platform.tenant(current.tenant).fundpool
    funds = pool.funds()
    chosen = fund or (funds[0].fund_id if funds else None)
    if chosen is None:
        return page(request, "funds.html", session=current, funds=funds, fund=None)
    try:
        found = pool.fund(chosen)
    except NotFound:
        raise PageError(404, f"no fund {chosen}") from None
    return page(request, "funds.html", session=current, funds=funds, fund=found,
                books=pool.portfolio.books(chosen), days=pool.income.history(chosen, 30),
                liquidity=pool.liquidity(chosen), assets=pool.portfolio.assets(chosen))  # fmt: skip
