"""``/v1/fx_quotes``: lock a rate for a buyer, then convert at it."""

from __future__ import annotations

from typing import Any

from embedfin.api.commands import FxCommand
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import require_customer, v1_router
from embedfin.api.schemas.common import ts
from embedfin.api.schemas.fx import FxQuoteCreate, FxQuoteOut
from embedfin.core.money import Money
from embedfin.payments.fx import FxQuote

router = v1_router()


def quote_body(q: FxQuote) -> dict[str, Any]:
    return FxQuoteOut(
        id=q.quote_id,
        customer=q.owner_id,
        sell_amount=q.sell.amount_minor,
        sell_currency=q.sell.currency,
        buy_amount=q.buy.amount_minor,
        buy_currency=q.buy.currency,
        rate=str(q.rate),
        mid_rate=str(q.mid_rate),
        spread_bp=q.spread_bp,
        reference_date=q.reference_date,
        expires_at=ts(q.expires_at),
    ).model_dump(mode="json")


@router.post("/fx_quotes", status_code=201, response_model=FxQuoteOut, tags=["fx"])
def create_fx_quote(body: FxQuoteCreate, cmd: FxCommand) -> Any:
    def effect() -> tuple[int, Body]:
        require_customer(cmd.platform, cmd.principal, body.customer)
        quote = cmd.platform.tenant(cmd.tenant).fx.quote(
            "buyer", body.customer, Money(body.sell_amount, body.sell_currency), body.buy_currency
        )
        return 201, quote_body(quote)

    return cmd.run(body.model_dump(), effect)


@router.post("/fx_quotes/{quote_id}/convert", response_model=FxQuoteOut, tags=["fx"])
def convert_fx_quote(quote_id: str, cmd: FxCommand) -> Any:
    def effect() -> tuple[int, Body]:
        return 200, quote_body(cmd.platform.tenant(cmd.tenant).fx.convert(quote_id))

    return cmd.run({"quote": quote_id}, effect)
