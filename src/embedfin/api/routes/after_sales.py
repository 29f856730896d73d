"""``POST /v1/orders/{id}/…`` after delivery: delivered, returns, reviews."""

from __future__ import annotations

from typing import Any

from embedfin.api.commands import FulfilCommand, OrdersCommand
from embedfin.api.routes.common import v1_router
from embedfin.api.routes.orders import order_action
from embedfin.api.schemas.after_sales import ReturnIn, ReviewIn
from embedfin.api.schemas.orders import OrderOut
from embedfin.commerce.orders import Order

router = v1_router()


@router.post("/orders/{order_id}/delivered", response_model=OrderOut, tags=["orders"])
def order_delivered(order_id: str, cmd: FulfilCommand) -> Any:
    """The carrier confirmed delivery."""
    after = cmd.platform.tenant(cmd.tenant).aftersales
    return order_action(cmd, order_id, "delivered", {}, lambda: after.mark_delivered(order_id))


@router.post("/orders/{order_id}/returns", response_model=OrderOut, tags=["orders"])
def request_return(order_id: str, body: ReturnIn, cmd: OrdersCommand) -> Any:
    """The buyer asks to return the goods: escrow stays frozen until the merchant decides."""
    after = cmd.platform.tenant(cmd.tenant).aftersales

    def run() -> Order:
        after.request_return(order_id, body.reason)
        return cmd.platform.tenant(cmd.tenant).checkout.get_order(order_id)

    return order_action(cmd, order_id, "returns", body.model_dump(), run)


@router.post("/orders/{order_id}/returns/receive", response_model=OrderOut, tags=["orders"])
def receive_return(order_id: str, cmd: FulfilCommand) -> Any:
    """The merchant has the goods back: refunded to the original payment method."""
    after = cmd.platform.tenant(cmd.tenant).aftersales
    return order_action(
        cmd,
        order_id,
        "returns/receive",
        {},
        lambda: after.receive_return(order_id),
        atomic=False,
        audited=True,
    )


@router.post("/orders/{order_id}/returns/reject", response_model=OrderOut, tags=["orders"])
def reject_return(order_id: str, cmd: FulfilCommand) -> Any:
    after = cmd.platform.tenant(cmd.tenant).aftersales
    return order_action(
        cmd,
        order_id,
        "returns/reject",
        {},
        lambda: after.reject_return(order_id),
        audited=True,
    )


@router.post("/orders/{order_id}/reviews", response_model=OrderOut, tags=["orders"])
def post_review(order_id: str, body: ReviewIn, cmd: OrdersCommand) -> Any:
    """One review per completed order (rating 1-5)."""
    after = cmd.platform.tenant(cmd.tenant).aftersales

    def run() -> Order:
        after.post_review(order_id, body.rating, body.text)
        return cmd.platform.tenant(cmd.tenant).checkout.get_order(order_id)

    return order_action(cmd, order_id, "reviews", body.model_dump(), run)
