"""``/v1/checkouts``: place and pay an order in one call (the embedded checkout)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.concurrency import run_in_threadpool

from embedfin.api.commands import Command, OrdersCommand
from embedfin.api.deps import respond
from embedfin.api.group_commit import CheckoutJob
from embedfin.api.idempotency import Body, fingerprint_digest
from embedfin.api.routes.common import order_body, v1_router
from embedfin.api.routes.orders import pay, place
from embedfin.api.schemas.orders import CheckoutCreate, OrderOut

router = v1_router()


@router.post("/checkouts", status_code=201, response_model=OrderOut, tags=["orders"])
async def create_checkout(body: CheckoutCreate, cmd: OrdersCommand) -> Any:
    """Place and pay an order in one call (the embedded checkout: no redirect).

    Wallet checkouts arriving together are committed together (group commit); each still gets
    its own answer and changes nothing if it fails."""
    order_id = cmd.new_id("ord")
    if body.payment_method == "wallet" and body.channel_kind is None and not body.wallet_amount:
        body.risk()  # a malformed risk context is this request's 422, never its batch's
        platform, key = cmd.platform, cmd.idempotency_key
        digest = fingerprint_digest({"instance": cmd.instance, **body.model_dump()})
        slot = None if key is None else (cmd.principal.key_id, key)
        job = CheckoutJob(cmd.principal, slot, digest, body, order_id)
        if slot is None:
            return respond(*await asyncio.wrap_future(platform.batcher.submit(job)))
        with platform.claim(slot):
            return respond(*await asyncio.wrap_future(platform.batcher.submit(job)))
    return await run_in_threadpool(_checkout_with_channel, cmd, body, order_id)


def _checkout_with_channel(cmd: Command, body: CheckoutCreate, order_id: str) -> Any:
    def effect() -> tuple[int, Body]:
        context = body.risk()  # a malformed context is refused before the order is placed
        place(cmd, body, order_id)
        order, channel = pay(
            cmd,
            order_id,
            body.payment_method,
            body.channel_kind,
            body.wallet_amount,
            context=context,
        )
        return 201, order_body(order, channel)

    return cmd.run(body.model_dump(), effect, atomic=body.payment_method == "wallet")
