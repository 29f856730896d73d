"""What the resource routers share: callers that read, lookups scoped to the caller, lists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from embedfin.api.auth import Principal, Scope
from embedfin.api.bodies import StrictJsonRoute
from embedfin.api.deps import require
from embedfin.api.platform import Platform
from embedfin.api.schemas.common import PROBLEM_RESPONSES
from embedfin.api.schemas.orders import OrderOut
from embedfin.commerce import customers as customer_store
from embedfin.commerce.orders import Order
from embedfin.commerce.store import Merchant, load_merchant
from embedfin.core.errors import NotFound

Reader = Annotated[Principal, Depends(require(Scope.READ))]
CustomerReader = Annotated[Principal, Depends(require(Scope.CUSTOMERS_READ))]
Cursor = Annotated[str | None, Query(max_length=64)]


def v1_router() -> APIRouter:
    """A resource's router: under ``/v1``, the shared error answers, strict bodies."""
    return APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES, route_class=StrictJsonRoute)


def page(items: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": more}


def visible_merchant(platform: Platform, principal: Principal, merchant_id: str) -> Merchant:
    """The merchant, if this caller may see it; otherwise 404 (existence is not leaked)."""
    if not principal.may_see_merchant(merchant_id):
        raise NotFound(f"no merchant {merchant_id}")
    with platform.read() as conn:
        found = load_merchant(conn, principal.tenant, merchant_id)
    if found is None:
        raise NotFound(f"no merchant {merchant_id}")
    return found


def visible_order(platform: Platform, principal: Principal, order_id: str) -> Order:
    order = platform.tenant(principal.tenant).checkout.find_order(order_id)
    if order is None or not principal.may_see_merchant(order.merchant_id):
        raise NotFound(f"no order {order_id}")
    return order


def require_customer(platform: Platform, principal: Principal, customer_id: str) -> None:
    with platform.read() as conn:
        if not customer_store.customer_exists(conn, principal.tenant, customer_id):
            raise NotFound(f"no customer {customer_id}")


def order_body(order: Order, channel: str | None = None) -> dict[str, Any]:
    return OrderOut.of(order, channel).model_dump(mode="json")
