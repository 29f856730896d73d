"""``/v1/merchants``: register, read and list merchants; bind a bank account; balances."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from embedfin.api.commands import MerchantsCommand
from embedfin.api.deps import PlatformDep
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import Cursor, Reader, page, v1_router, visible_merchant
from embedfin.api.schemas.common import Limit, Page, ts
from embedfin.api.schemas.merchants import (
    BankAccountBind,
    BankAccountOut,
    MerchantCreate,
    MerchantOut,
)
from embedfin.api.schemas.wallets import BalanceOut
from embedfin.commerce.store import Merchant, list_merchants

router = v1_router()


def merchant_body(m: Merchant) -> dict[str, Any]:
    return MerchantOut(
        id=m.merchant_id,
        category=m.category,
        country=m.country,
        settlement_currency=m.settlement_currency,
        payout_preference=m.payout_preference,
        kyc_status=m.kyc_status,
        created=ts(m.created_at),
    ).model_dump(mode="json")


@router.post("/merchants", status_code=201, response_model=MerchantOut, tags=["merchants"])
def create_merchant(body: MerchantCreate, cmd: MerchantsCommand) -> Any:
    def effect() -> tuple[int, Body]:
        merchant = cmd.platform.tenant(cmd.tenant).checkout.register_merchant(
            cmd.new_id("mer"),
            category=body.category,
            country=body.country,
            settlement_currency=body.settlement_currency,
            payout_preference=body.payout_preference,
            kyc_status=body.kyc_status,
        )
        cmd.audit("merchant.create", merchant.merchant_id, {"kyc": body.kyc_status})
        return 201, merchant_body(merchant)

    return cmd.run(body.model_dump(), effect)


@router.get("/merchants/{merchant_id}", response_model=MerchantOut, tags=["merchants"])
def get_merchant(merchant_id: str, platform: PlatformDep, principal: Reader) -> Any:
    return merchant_body(visible_merchant(platform, principal, merchant_id))


@router.get("/merchants", response_model=Page[MerchantOut], tags=["merchants"])
def list_merchants_route(
    platform: PlatformDep, principal: Reader, limit: Limit = 10, starting_after: Cursor = None
) -> Any:
    if principal.merchant_id is not None:
        own = visible_merchant(platform, principal, principal.merchant_id)
        return page([merchant_body(own)], False)
    with platform.read() as conn:
        found, more = list_merchants(conn, principal.tenant, limit, starting_after)
    return page([merchant_body(m) for m in found], more)


@router.post(
    "/merchants/{merchant_id}/bank_account",
    response_model=BankAccountOut,
    tags=["merchants"],
)
def bind_bank_account(merchant_id: str, body: BankAccountBind, cmd: MerchantsCommand) -> Any:
    def effect() -> tuple[int, Body]:
        visible_merchant(cmd.platform, cmd.principal, merchant_id)
        cmd.platform.tenant(cmd.tenant).settlement.bind_bank_account(
            merchant_id, body.bank_token, body.bank_last4
        )
        cmd.audit("merchant.bank_account", merchant_id, {"last4": body.bank_last4})
        out = BankAccountOut(merchant=merchant_id, last4=body.bank_last4)
        return 200, out.model_dump(mode="json")

    return cmd.run({"merchant": merchant_id, **body.model_dump()}, effect)


@router.get("/merchants/{merchant_id}/balance", response_model=BalanceOut, tags=["merchants"])
def merchant_balance(
    merchant_id: str,
    platform: PlatformDep,
    principal: Reader,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
) -> Any:
    merchant = visible_merchant(platform, principal, merchant_id)
    code = currency or merchant.settlement_currency
    found = platform.tenant(principal.tenant).wallets.balance("merchant", merchant_id, code)
    return BalanceOut(
        owner=merchant_id,
        currency=code,
        available=found.available.amount_minor,
        held=found.held.amount_minor,
    ).model_dump(mode="json")
