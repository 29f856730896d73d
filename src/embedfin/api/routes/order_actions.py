"""``POST /v1/orders/{id}/…``: ship, confirm receipt, cancel, refund, extend, disputes."""

from __future__ import annotations

from typing import Any

from embedfin.api.commands import DisputesCommand, FulfilCommand, OrdersCommand
from embedfin.api.routes.common import v1_router
from embedfin.api.routes.orders import order_action
from embedfin.api.schemas.order_actions import DisputeIn, DisputeResolve, ExtendIn, RefundIn, ShipIn
from embedfin.api.schemas.orders import OrderOut
from embedfin.core.money import Money

router = v1_router()


@router.post("/orders/{order_id}/ship", response_model=OrderOut, tags=["orders"])
def ship_order(order_id: str, body: ShipIn, cmd: FulfilCommand) -> Any:
    checkout = cmd.platform.tenant(cmd.tenant).checkout
    return order_action(
        cmd, order_id, "ship", body.model_dump(), lambda: checkout.ship(order_id, body.tracking)
    )


@router.post("/orders/{order_id}/confirm", response_model=OrderOut, tags=["orders"])
def confirm_order(order_id: str, cmd: OrdersCommand) -> Any:
    """The buyer confirms receipt: escrow is released to the merchant minus commission."""
    checkout = cmd.platform.tenant(cmd.tenant).checkout
    return order_action(cmd, order_id, "confirm", {}, lambda: checkout.confirm_receipt(order_id))


@router.post("/orders/{order_id}/cancel", response_model=OrderOut, tags=["orders"])
def cancel_order(order_id: str, cmd: FulfilCommand) -> Any:
    """Cancel before shipment; a paid order's money goes back to where it came from."""
    refunds = cmd.platform.tenant(cmd.tenant).refunds
    return order_action(
        cmd,
        order_id,
        "cancel",
        {},
        lambda: refunds.cancel(order_id),
        atomic=False,  # the money may go back through a channel between commits
    )


@router.post("/orders/{order_id}/refunds", response_model=OrderOut, tags=["orders"])
def refund_order(order_id: str, body: RefundIn, cmd: FulfilCommand) -> Any:
    """Refund to where the money came from: a financed order's loan first, then the channel
    that took the payment (up to what it took), then the buyer's wallet. Before release out of
    escrow; after it the merchant pays its net share and the platform the commission on it."""
    refunds = cmd.platform.tenant(cmd.tenant).refunds
    return order_action(
        cmd,
        order_id,
        "refunds",
        body.model_dump(),
        lambda: refunds.refund(order_id, Money(body.amount, body.currency), cmd.request_id()),
        atomic=False,  # a channel is called between the commits
        audited=True,
    )


@router.post("/orders/{order_id}/extend", response_model=OrderOut, tags=["orders"])
def extend_order(order_id: str, body: ExtendIn, cmd: OrdersCommand) -> Any:
    """The buyer extends the auto-confirm period (goods late in the post)."""
    checkout = cmd.platform.tenant(cmd.tenant).checkout
    return order_action(
        cmd,
        order_id,
        "extend",
        body.model_dump(),
        lambda: checkout.extend_auto_confirm(order_id, body.days),
    )


@router.post("/orders/{order_id}/disputes", response_model=OrderOut, tags=["orders"])
def open_dispute(order_id: str, body: DisputeIn, cmd: DisputesCommand) -> Any:
    checkout = cmd.platform.tenant(cmd.tenant).checkout
    return order_action(
        cmd,
        order_id,
        "disputes",
        body.model_dump(),
        lambda: checkout.open_dispute(order_id, body.reason),
        audited=True,
    )


@router.post("/orders/{order_id}/disputes/resolve", response_model=OrderOut, tags=["orders"])
def resolve_dispute(order_id: str, body: DisputeResolve, cmd: DisputesCommand) -> Any:
    """``release`` pays the merchant now; ``refund`` returns what escrow holds to where it came
    from."""
    refunds = cmd.platform.tenant(cmd.tenant).refunds
    return order_action(
        cmd,
        order_id,
        "disputes/resolve",
        body.model_dump(),
        lambda: refunds.resolve_dispute(order_id, body.outcome),
        atomic=False,  # resolved for the buyer, the money may go back through a channel
        audited=True,
    )
