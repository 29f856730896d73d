"""``/v1/orders``: place, read, list and pay orders; lock an FX quote for one.

``order_action`` is how every ``POST /v1/orders/{id}/…`` runs: the caller must see the order,
the answer is the order afterwards, and privileged actions are audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query

from embedfin.api.commands import Command, OrdersCommand
from embedfin.api.deps import PlatformDep
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import (
    Cursor,
    Reader,
    order_body,
    page,
    require_customer,
    v1_router,
    visible_merchant,
    visible_order,
)
from embedfin.api.routes.fx import quote_body
from embedfin.api.schemas.common import Limit, Page
from embedfin.api.schemas.fx import FxQuoteOut
from embedfin.api.schemas.orders import OrderCreate, OrderFxQuoteCreate, OrderOut, OrderPay
from embedfin.commerce.orders import Order, OrderLine
from embedfin.commerce.store import list_orders
from embedfin.core.errors import InvalidInput
from embedfin.core.money import Money
from embedfin.payments.channels.processors import ChannelKind
from embedfin.risk.decision import RiskContext

router = v1_router()

OrderResult = Order | tuple[Order, str | None]


def place(cmd: Command, body: OrderCreate, order_id: str) -> Order:
    require_customer(cmd.platform, cmd.principal, body.customer)
    visible_merchant(cmd.platform, cmd.principal, body.merchant)
    return cmd.platform.tenant(cmd.tenant).checkout.place_order(
        order_id,
        buyer_id=body.customer,
        merchant_id=body.merchant,
        currency_code=body.currency,
        lines=[OrderLine(li.sku, li.quantity, li.unit_price) for li in body.lines],
        goods_kind=body.goods_kind,
    )


def pay(
    cmd: Command,
    order_id: str,
    method: str,
    channel_kind: str | None,
    wallet_amount: int | None,
    fx_quote: str | None = None,
    context: RiskContext | None = None,
) -> tuple[Order, str | None]:
    """Pay a placed order from the wallet (in another currency with an FX quote), through a
    channel, or split between the two; the order and the channel that took the payment."""
    platform = cmd.platform
    checkout = platform.tenant(cmd.tenant).checkout
    if method == "wallet":
        if channel_kind is not None or wallet_amount is not None:
            raise InvalidInput("a wallet payment takes neither channel_kind nor wallet_amount")
        if fx_quote is not None:
            return platform.tenant(cmd.tenant).cross_border.pay(order_id, fx_quote, context), None
        return checkout.pay_with_wallet(order_id, context), None
    if fx_quote is not None:
        raise InvalidInput("fx_quote is for wallet payments")
    order = checkout.get_order(order_id)
    part = None
    if method == "split":
        if wallet_amount is None:
            raise InvalidInput("a split payment needs wallet_amount")
        part = Money(wallet_amount, order.currency)
    elif wallet_amount is not None:
        raise InvalidInput("wallet_amount is only for split payments")
    paid = platform.tenant(cmd.tenant).channel_payments.pay_order(
        order_id,
        cmd.request_id(),
        ChannelKind(channel_kind) if channel_kind else None,
        wallet_part=part,
        context=context,
    )
    return paid.order, paid.channel


def order_action(
    cmd: Command,
    order_id: str,
    action: str,
    params: dict[str, Any],
    run: Callable[[], OrderResult],
    *,
    atomic: bool = True,
    audited: bool = False,
) -> Any:
    """Run ``POST /v1/orders/{order_id}/{action}``: 200 with the order it leaves."""

    def effect() -> tuple[int, Body]:
        visible_order(cmd.platform, cmd.principal, order_id)
        result = run()
        order, channel = result if isinstance(result, tuple) else (result, None)
        if audited:
            cmd.audit(f"order.{action}", order_id, params)
        return 200, order_body(order, channel)

    fingerprint = {"order": order_id, "action": action, **params}
    return cmd.run(fingerprint, effect, atomic=atomic)


@router.post("/orders", status_code=201, response_model=OrderOut, tags=["orders"])
def create_order(body: OrderCreate, cmd: OrdersCommand) -> Any:
    def effect() -> tuple[int, Body]:
        return 201, order_body(place(cmd, body, cmd.new_id("ord")))

    return cmd.run(body.model_dump(), effect)


@router.get("/orders/{order_id}", response_model=OrderOut, tags=["orders"])
def get_order(order_id: str, platform: PlatformDep, principal: Reader) -> Any:
    return order_body(visible_order(platform, principal, order_id))


@router.get("/orders", response_model=Page[OrderOut], tags=["orders"])
def list_orders_route(
    platform: PlatformDep,
    principal: Reader,
    limit: Limit = 10,
    starting_after: Cursor = None,
    status: Annotated[
        str | None, Query(pattern="^(awaiting_payment|paid|shipped|completed|closed)$")
    ] = None,
    customer: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    with platform.read() as conn:
        found, more = list_orders(
            conn,
            principal.tenant,
            limit,
            starting_after,
            merchant_id=principal.merchant_id,
            buyer_id=customer,
            status=status,
        )
    return page([order_body(o) for o in found], more)


@router.post("/orders/{order_id}/pay", response_model=OrderOut, tags=["orders"])
def pay_order(order_id: str, body: OrderPay, cmd: OrdersCommand) -> Any:
    return order_action(
        cmd,
        order_id,
        "pay",
        body.model_dump(),
        lambda: pay(
            cmd,
            order_id,
            body.method,
            body.channel_kind,
            body.wallet_amount,
            body.fx_quote,
            body.risk(),
        ),
        atomic=body.method == "wallet",
    )


@router.post(
    "/orders/{order_id}/fx_quote", status_code=201, response_model=FxQuoteOut, tags=["orders"]
)
def quote_order(order_id: str, body: OrderFxQuoteCreate, cmd: OrdersCommand) -> Any:
    """The order's price in the buyer's currency, locked: pay with it
    (``POST /v1/orders/{id}/pay`` with ``fx_quote``) before it expires."""

    def effect() -> tuple[int, Body]:
        visible_order(cmd.platform, cmd.principal, order_id)
        return 201, quote_body(
            cmd.platform.tenant(cmd.tenant).cross_border.price(order_id, body.currency)
        )

    return cmd.run({"order": order_id, **body.model_dump()}, effect)
