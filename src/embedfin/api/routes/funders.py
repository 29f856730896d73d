"""``/v1/funder_deposits``: lending cash the platform's funder puts into the client reserve."""

from __future__ import annotations

from typing import Any

from embedfin.api.commands import SettlementCommand
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import v1_router
from embedfin.api.schemas.funders import DepositIn, LoanFundingOut
from embedfin.core.money import Money

router = v1_router()


@router.post("/funder_deposits", status_code=201, response_model=LoanFundingOut, tags=["credit"])
def deposit_lending_funds(body: DepositIn, cmd: SettlementCommand) -> Any:
    """The platform's funder deposits lending cash into the client reserve."""
    request_id = cmd.new_id("dep")

    def effect() -> tuple[int, Body]:
        funder = cmd.platform.funder_id
        cmd.platform.tenant(cmd.tenant).lending.fund(
            funder, Money(body.amount, body.currency), request_id
        )
        cmd.audit("funder.deposit", funder, body.model_dump())
        out = LoanFundingOut(
            id=request_id, funder=funder, amount=body.amount, currency=body.currency
        )
        return 201, out.model_dump(mode="json")

    return cmd.run(body.model_dump(), effect)
