"""``/v1/customers/{id}/top_ups`` and ``/withdrawals``: money into and out of a buyer's wallet."""

from __future__ import annotations

from typing import Any

from embedfin.api.commands import WalletsCommand
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import require_customer, v1_router
from embedfin.api.schemas.common import ts
from embedfin.api.schemas.wallets import TopUpCreate, WalletMovementOut, WithdrawalCreate
from embedfin.core.money import Money
from embedfin.payments.wallets import WalletMovement

router = v1_router()


def movement_body(m: WalletMovement) -> dict[str, Any]:
    return WalletMovementOut(
        id=f"wm_{m.transfer_id:032x}",
        kind=m.kind,
        owner=m.owner_id,
        amount=m.amount.amount_minor,
        currency=m.amount.currency,
        channel=m.channel,
        bank_last4=m.bank_last4,
        created=ts(m.created_at_ns),
    ).model_dump(mode="json")


@router.post(
    "/customers/{customer_id}/top_ups",
    status_code=201,
    response_model=WalletMovementOut,
    tags=["customers"],
)
def top_up(customer_id: str, body: TopUpCreate, cmd: WalletsCommand) -> Any:
    def effect() -> tuple[int, Body]:
        require_customer(cmd.platform, cmd.principal, customer_id)
        moved = cmd.platform.tenant(cmd.tenant).wallets.top_up(
            customer_id,
            Money(body.amount, body.currency),
            body.channel,
            cmd.request_id(),
            body.risk(),
        )
        return 201, movement_body(moved)

    return cmd.run({"customer": customer_id, **body.model_dump()}, effect)


@router.post(
    "/customers/{customer_id}/withdrawals",
    status_code=201,
    response_model=WalletMovementOut,
    tags=["customers"],
)
def withdraw(customer_id: str, body: WithdrawalCreate, cmd: WalletsCommand) -> Any:
    def effect() -> tuple[int, Body]:
        require_customer(cmd.platform, cmd.principal, customer_id)
        moved = cmd.platform.tenant(cmd.tenant).wallets.withdraw(
            "buyer",
            customer_id,
            Money(body.amount, body.currency),
            body.bank_token,
            body.bank_last4,
            cmd.request_id(),
            body.risk(),
        )
        return 201, movement_body(moved)

    return cmd.run({"customer": customer_id, **body.model_dump()}, effect)
