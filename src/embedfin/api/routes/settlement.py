"""``/v1/settlement_runs`` and ``/v1/payouts``: settlement steps, and the payouts made."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from embedfin.api.commands import Command, SettlementCommand
from embedfin.api.deps import PlatformDep
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import Reader, page, v1_router
from embedfin.api.schemas.common import Limit, Page, ts
from embedfin.api.schemas.settlement import (
    PayoutOut,
    SettlementLineOut,
    SettlementRunCreate,
    SettlementRunOut,
)
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import InvalidInput
from embedfin.core.money import Money
from embedfin.payments.payouts.batches import Payout
from embedfin.payments.payouts.settlement import settle_channel

router = v1_router()


def _settle(cmd: Command, body: SettlementRunCreate, run_id: str) -> list[tuple[str, Money]]:
    """Run the step the body names; what it moved, by merchant (or channel, or platform)."""
    platform = cmd.platform
    settlement = platform.tenant(cmd.tenant).settlement
    if body.kind == "t1":
        cutoff = body.cutoff.timestamp() if body.cutoff else platform.clock.now_ns() / 1e9
        done = settlement.run_t1(run_id, int(cutoff * NS_PER_SECOND))
        return [(line.merchant_id, line.amount) for line in done]
    if body.kind == "channel_settlement":
        channel, amount, fee, code = body.channel, body.amount, body.fee, body.currency
        if channel is None or amount is None or fee is None or code is None:
            raise InvalidInput("a channel settlement needs channel, amount, fee and currency")
        gross = Money(amount, code)
        settle_channel(platform.ledger, cmd.tenant, channel, gross, Money(fee, code), run_id)
        return [(channel, gross)]
    if body.kind == "payouts":
        return [(line.merchant_id, line.amount) for line in settlement.run_payouts(run_id)]
    if body.currency is None:
        raise InvalidInput("a commission sweep needs currency")
    return [("platform", settlement.sweep_commission(body.currency, run_id))]


@router.post(
    "/settlement_runs", status_code=201, response_model=SettlementRunOut, tags=["settlement"]
)
def create_settlement_run(body: SettlementRunCreate, cmd: SettlementCommand) -> Any:
    """Settlement steps (see the body's description); each is audited."""
    run_id = cmd.new_id("stl")

    def effect() -> tuple[int, Body]:
        lines = _settle(cmd, body, run_id)
        cmd.audit(f"settlement.{body.kind}", run_id, {"lines": len(lines)})
        out = SettlementRunOut(
            id=run_id,
            kind=body.kind,
            lines=[
                SettlementLineOut(merchant=m, amount=a.amount_minor, currency=a.currency)
                for m, a in lines
            ],
        )
        return 201, out.model_dump(mode="json")

    return cmd.run(body.model_dump(), effect)


def payout_body(p: Payout) -> dict[str, Any]:
    return PayoutOut(
        batch=p.batch_id,
        merchant=p.merchant_id,
        amount=p.amount_minor,
        currency=p.currency,
        bank_last4=p.bank_last4,
        created=ts(p.created_at_ns),
    ).model_dump(mode="json")


@router.get("/payouts", response_model=Page[PayoutOut], tags=["settlement"])
def list_payouts(
    platform: PlatformDep,
    principal: Reader,
    limit: Limit = 10,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    settlement = platform.tenant(principal.tenant).settlement
    found, more = settlement.list_payouts(limit, offset, principal.merchant_id)
    return page([payout_body(p) for p in found], more)
