"""/v1 routes of the payments issue: merchants, customers, wallets, orders, checkouts, FX."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from embedfin.api.auth import Principal, Scope
from embedfin.api.deps import IdempotencyKey, PlatformDep, require, respond
from embedfin.api.group_commit import CheckoutJob
from embedfin.api.ids import object_id
from embedfin.api.platform import Platform, fingerprint_digest
from embedfin.api.schemas import (
    PROBLEM_RESPONSES,
    BalanceOut,
    BankAccountBind,
    BankAccountOut,
    CheckoutCreate,
    CustomerCreate,
    CustomerOut,
    DisputeIn,
    DisputeResolve,
    ExtendIn,
    FxQuoteCreate,
    FxQuoteOut,
    Limit,
    MerchantCreate,
    MerchantOut,
    OrderCreate,
    OrderFxQuoteCreate,
    OrderOut,
    OrderPay,
    Page,
    PingOut,
    RefundIn,
    ReturnIn,
    ReviewIn,
    ShipIn,
    TopUpCreate,
    WalletMovementOut,
    WithdrawalCreate,
    ts,
)
from embedfin.commerce import customers as customer_store
from embedfin.commerce.orders import Order, OrderLine
from embedfin.commerce.store import Merchant, list_merchants, list_orders, load_merchant
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.core.money import Money
from embedfin.payments.channels import ChannelKind
from embedfin.payments.fx import FxQuote
from embedfin.payments.wallets import WalletMovement
from embedfin.security.crypto import mask, mask_email, mask_name

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)

Reader = Annotated[Principal, Depends(require(Scope.READ))]
CustomerReader = Annotated[Principal, Depends(require(Scope.CUSTOMERS_READ))]


def request_id(principal: Principal, key: str | None) -> str:
    """The service-layer request id of a call: stable across retries of one Idempotency-Key."""
    if key is None:
        return object_id("req")
    return f"api:{principal.key_id}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def derived_id(prefix: str, principal: Principal, key: str | None) -> str:
    """A new object's id; with an Idempotency-Key, the same id on every retry."""
    if key is None:
        return object_id(prefix)
    digest = hashlib.sha256(f"{principal.key_id}\x1f{key}\x1f{prefix}".encode()).digest()
    return f"{prefix}_{digest[:16].hex()[:26]}"


def _merchant_out(m: Merchant) -> dict[str, Any]:
    return MerchantOut(
        id=m.merchant_id,
        category=m.category,
        country=m.country,
        settlement_currency=m.settlement_currency,
        payout_preference=m.payout_preference,
        kyc_status=m.kyc_status,
        created=ts(m.created_at),
    ).model_dump(mode="json")


def _customer_out(c: customer_store.Customer) -> dict[str, Any]:
    return CustomerOut(
        id=c.customer_id,
        name=mask_name(c.name),
        phone=mask(c.phone) if c.phone else None,
        email=mask_email(c.email) if c.email else None,
        created=ts(c.created_at_ns),
    ).model_dump(mode="json")


def _order_out(order: Order, channel: str | None = None) -> dict[str, Any]:
    return OrderOut.of(order, channel).model_dump(mode="json")


def _movement_out(m: WalletMovement) -> dict[str, Any]:
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


def _quote_out(q: FxQuote) -> dict[str, Any]:
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
    order = platform.checkout(principal.tenant).find_order(order_id)
    if order is None or not principal.may_see_merchant(order.merchant_id):
        raise NotFound(f"no order {order_id}")
    return order


def _require_customer(platform: Platform, principal: Principal, customer_id: str) -> None:
    with platform.read() as conn:
        if not customer_store.customer_exists(conn, principal.tenant, customer_id):
            raise NotFound(f"no customer {customer_id}")


# --- the hot paths first: routes are matched in order ----------------------------------------
@router.get("/ping", response_model=PingOut, tags=["meta"])
def ping(principal: Reader) -> Any:
    """Authenticated no-op: checks a key (and is the API benchmark's baseline)."""
    return {"object": "ping", "tenant": principal.tenant, "role": str(principal.role)}


@router.post("/checkouts", status_code=201, response_model=OrderOut, tags=["orders"])
async def create_checkout(
    body: CheckoutCreate,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.ORDERS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Place and pay an order in one call (the embedded checkout: no redirect).

    Wallet checkouts arriving together are committed together (group commit); each still gets
    its own answer and changes nothing if it fails."""
    order_id = derived_id("ord", principal, idempotency_key)
    if body.payment_method == "wallet" and body.channel_kind is None and not body.wallet_amount:
        digest = fingerprint_digest({"instance": "/v1/checkouts", **body.model_dump()})
        slot = None if idempotency_key is None else (principal.key_id, idempotency_key)
        job = CheckoutJob(principal, slot, digest, body, order_id)
        if slot is None:
            return respond(*await asyncio.wrap_future(platform.batcher.submit(job)))
        with platform.claim(slot):
            return respond(*await asyncio.wrap_future(platform.batcher.submit(job)))
    return await run_in_threadpool(
        _checkout_with_channel, platform, principal, body, order_id, idempotency_key
    )


def _checkout_with_channel(
    platform: Platform,
    principal: Principal,
    body: CheckoutCreate,
    order_id: str,
    idempotency_key: str | None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        _place(platform, principal, body, order_id)
        order, channel = _pay(
            platform,
            principal,
            order_id,
            body.payment_method,
            body.channel_kind,
            body.wallet_amount,
            idempotency_key,
        )
        return 201, _order_out(order, channel)

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            body.model_dump(),
            effect,
            instance="/v1/checkouts",
            atomic=body.payment_method == "wallet",
        )
    )


# --- merchants -----------------------------------------------------------------------------------
@router.post("/merchants", status_code=201, response_model=MerchantOut, tags=["merchants"])
def create_merchant(
    body: MerchantCreate,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.MERCHANTS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        merchant = platform.checkout(principal.tenant).register_merchant(
            derived_id("mer", principal, idempotency_key),
            category=body.category,
            country=body.country,
            settlement_currency=body.settlement_currency,
            payout_preference=body.payout_preference,
            kyc_status=body.kyc_status,
        )
        platform.audit(principal, "merchant.create", merchant.merchant_id, {"kyc": body.kyc_status})
        return 201, _merchant_out(merchant)

    return respond(
        *platform.command(
            principal, idempotency_key, body.model_dump(), effect, instance="/v1/merchants"
        )
    )


@router.get("/merchants/{merchant_id}", response_model=MerchantOut, tags=["merchants"])
def get_merchant(merchant_id: str, platform: PlatformDep, principal: Reader) -> Any:
    return _merchant_out(visible_merchant(platform, principal, merchant_id))


@router.get("/merchants", response_model=Page[MerchantOut], tags=["merchants"])
def list_merchants_route(
    platform: PlatformDep,
    principal: Reader,
    limit: Limit = 10,
    starting_after: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    if principal.merchant_id is not None:
        own = visible_merchant(platform, principal, principal.merchant_id)
        return {"object": "list", "data": [_merchant_out(own)], "has_more": False}
    with platform.read() as conn:
        found, more = list_merchants(conn, principal.tenant, limit, starting_after)
    return {"object": "list", "data": [_merchant_out(m) for m in found], "has_more": more}


@router.post(
    "/merchants/{merchant_id}/bank_account",
    response_model=BankAccountOut,
    tags=["merchants"],
)
def bind_bank_account(
    merchant_id: str,
    body: BankAccountBind,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.MERCHANTS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        visible_merchant(platform, principal, merchant_id)
        platform.settlement(principal.tenant).bind_bank_account(
            merchant_id, body.bank_token, body.bank_last4
        )
        platform.audit(principal, "merchant.bank_account", merchant_id, {"last4": body.bank_last4})
        out = BankAccountOut(merchant=merchant_id, last4=body.bank_last4)
        return 200, out.model_dump(mode="json")

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"merchant": merchant_id, **body.model_dump()},
            effect,
            instance=f"/v1/merchants/{merchant_id}/bank_account",
        )
    )


@router.get("/merchants/{merchant_id}/balance", response_model=BalanceOut, tags=["merchants"])
def merchant_balance(
    merchant_id: str,
    platform: PlatformDep,
    principal: Reader,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
) -> Any:
    merchant = visible_merchant(platform, principal, merchant_id)
    code = currency or merchant.settlement_currency
    found = platform.wallets(principal.tenant).balance("merchant", merchant_id, code)
    return BalanceOut(
        owner=merchant_id,
        currency=code,
        available=found.available.amount_minor,
        held=found.held.amount_minor,
    ).model_dump(mode="json")


# --- customers and wallets -----------------------------------------------------------------------
@router.post("/customers", status_code=201, response_model=CustomerOut, tags=["customers"])
def create_customer(
    body: CustomerCreate,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.CUSTOMERS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        customer = customer_store.Customer(
            principal.tenant,
            derived_id("cus", principal, idempotency_key),
            body.name,
            body.phone,
            body.email,
            platform.clock.now_ns(),
        )
        with platform.ledger.transaction() as tx:
            customer_store.insert_customer(tx.conn, platform.cipher, customer)
        return 201, _customer_out(customer)

    return respond(
        *platform.command(
            principal, idempotency_key, body.model_dump(), effect, instance="/v1/customers"
        )
    )


@router.get("/customers/{customer_id}", response_model=CustomerOut, tags=["customers"])
def get_customer(customer_id: str, platform: PlatformDep, principal: CustomerReader) -> Any:
    with platform.read() as conn:
        found = customer_store.load_customer(conn, platform.cipher, principal.tenant, customer_id)
    return _customer_out(found)


@router.get("/customers", response_model=Page[CustomerOut], tags=["customers"])
def list_customers(
    platform: PlatformDep,
    principal: CustomerReader,
    limit: Limit = 10,
    starting_after: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    with platform.read() as conn:
        found, more = customer_store.list_customers(
            conn, platform.cipher, principal.tenant, limit, starting_after
        )
    return {"object": "list", "data": [_customer_out(c) for c in found], "has_more": more}


@router.get("/customers/{customer_id}/balance", response_model=BalanceOut, tags=["customers"])
def customer_balance(
    customer_id: str,
    platform: PlatformDep,
    principal: CustomerReader,
    currency: Annotated[str, Query(pattern=r"^[A-Z]{3}$")],
) -> Any:
    _require_customer(platform, principal, customer_id)
    found = platform.wallets(principal.tenant).balance("buyer", customer_id, currency)
    return BalanceOut(
        owner=customer_id,
        currency=currency,
        available=found.available.amount_minor,
        held=found.held.amount_minor,
    ).model_dump(mode="json")


@router.post(
    "/customers/{customer_id}/top_ups",
    status_code=201,
    response_model=WalletMovementOut,
    tags=["customers"],
)
def top_up(
    customer_id: str,
    body: TopUpCreate,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.WALLETS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        _require_customer(platform, principal, customer_id)
        moved = platform.wallets(principal.tenant).top_up(
            customer_id,
            Money(body.amount, body.currency),
            body.channel,
            request_id(principal, idempotency_key),
        )
        return 201, _movement_out(moved)

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"customer": customer_id, **body.model_dump()},
            effect,
            instance=f"/v1/customers/{customer_id}/top_ups",
        )
    )


@router.post(
    "/customers/{customer_id}/withdrawals",
    status_code=201,
    response_model=WalletMovementOut,
    tags=["customers"],
)
def withdraw(
    customer_id: str,
    body: WithdrawalCreate,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.WALLETS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        _require_customer(platform, principal, customer_id)
        moved = platform.wallets(principal.tenant).withdraw(
            "buyer",
            customer_id,
            Money(body.amount, body.currency),
            body.bank_token,
            body.bank_last4,
            request_id(principal, idempotency_key),
        )
        return 201, _movement_out(moved)

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"customer": customer_id, **body.model_dump()},
            effect,
            instance=f"/v1/customers/{customer_id}/withdrawals",
        )
    )


# --- orders --------------------------------------------------------------------------------------
def _place(platform: Platform, principal: Principal, body: OrderCreate, order_id: str) -> Order:
    _require_customer(platform, principal, body.customer)
    visible_merchant(platform, principal, body.merchant)
    return platform.checkout(principal.tenant).place_order(
        order_id,
        buyer_id=body.customer,
        merchant_id=body.merchant,
        currency_code=body.currency,
        lines=[OrderLine(li.sku, li.quantity, li.unit_price) for li in body.lines],
        goods_kind=body.goods_kind,
    )


@router.post("/orders", status_code=201, response_model=OrderOut, tags=["orders"])
def create_order(
    body: OrderCreate,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.ORDERS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        order = _place(platform, principal, body, derived_id("ord", principal, idempotency_key))
        return 201, _order_out(order)

    return respond(
        *platform.command(
            principal, idempotency_key, body.model_dump(), effect, instance="/v1/orders"
        )
    )


def _pay(
    platform: Platform,
    principal: Principal,
    order_id: str,
    method: str,
    channel_kind: str | None,
    wallet_amount: int | None,
    key: str | None,
    fx_quote: str | None = None,
) -> tuple[Order, str | None]:
    checkout = platform.checkout(principal.tenant)
    if method == "wallet":
        if channel_kind is not None or wallet_amount is not None:
            raise InvalidInput("a wallet payment takes neither channel_kind nor wallet_amount")
        if fx_quote is not None:
            return platform.cross_border(principal.tenant).pay(order_id, fx_quote), None
        return checkout.pay_with_wallet(order_id), None
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
    paid = platform.channel_payments(principal.tenant).pay_order(
        order_id,
        request_id(principal, key),
        ChannelKind(channel_kind) if channel_kind else None,
        wallet_part=part,
    )
    return paid.order, paid.channel


@router.get("/orders/{order_id}", response_model=OrderOut, tags=["orders"])
def get_order(order_id: str, platform: PlatformDep, principal: Reader) -> Any:
    return _order_out(visible_order(platform, principal, order_id))


@router.get("/orders", response_model=Page[OrderOut], tags=["orders"])
def list_orders_route(
    platform: PlatformDep,
    principal: Reader,
    limit: Limit = 10,
    starting_after: Annotated[str | None, Query(max_length=64)] = None,
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
    return {"object": "list", "data": [_order_out(o) for o in found], "has_more": more}


def _order_action(
    platform: Platform,
    principal: Principal,
    order_id: str,
    action: str,
    params: dict[str, Any],
    key: str | None,
    run: Any,
    *,
    atomic: bool = True,
    audited: bool = False,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        visible_order(platform, principal, order_id)
        result = run()
        order, channel = result if isinstance(result, tuple) else (result, None)
        if audited:
            platform.audit(principal, f"order.{action}", order_id, params)
        return 200, _order_out(order, channel)

    return respond(
        *platform.command(
            principal,
            key,
            {"order": order_id, "action": action, **params},
            effect,
            instance=f"/v1/orders/{order_id}/{action}",
            atomic=atomic,
        )
    )


@router.post("/orders/{order_id}/pay", response_model=OrderOut, tags=["orders"])
def pay_order(
    order_id: str,
    body: OrderPay,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.ORDERS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return _order_action(
        platform,
        principal,
        order_id,
        "pay",
        body.model_dump(),
        idempotency_key,
        lambda: _pay(
            platform,
            principal,
            order_id,
            body.method,
            body.channel_kind,
            body.wallet_amount,
            idempotency_key,
            body.fx_quote,
        ),
        atomic=body.method == "wallet",
    )


@router.post(
    "/orders/{order_id}/fx_quote", status_code=201, response_model=FxQuoteOut, tags=["orders"]
)
def quote_order(
    order_id: str,
    body: OrderFxQuoteCreate,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.ORDERS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """The order's price in the buyer's currency, locked: pay with it
    (``POST /v1/orders/{id}/pay`` with ``fx_quote``) before it expires."""

    def effect() -> tuple[int, dict[str, Any]]:
        visible_order(platform, principal, order_id)
        return 201, _quote_out(
            platform.cross_border(principal.tenant).price(order_id, body.currency)
        )

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"order": order_id, **body.model_dump()},
            effect,
            instance=f"/v1/orders/{order_id}/fx_quote",
        )
    )


@router.post("/orders/{order_id}/ship", response_model=OrderOut, tags=["orders"])
def ship_order(
    order_id: str,
    body: ShipIn,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.FULFIL))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    checkout = platform.checkout(principal.tenant)
    return _order_action(
        platform,
        principal,
        order_id,
        "ship",
        body.model_dump(),
        idempotency_key,
        lambda: checkout.ship(order_id, body.tracking),
    )


@router.post("/orders/{order_id}/confirm", response_model=OrderOut, tags=["orders"])
def confirm_order(
    order_id: str,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.ORDERS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """The buyer confirms receipt: escrow is released to the merchant minus commission."""
    checkout = platform.checkout(principal.tenant)
    return _order_action(
        platform,
        principal,
        order_id,
        "confirm",
        {},
        idempotency_key,
        lambda: checkout.confirm_receipt(order_id),
    )


@router.post("/orders/{order_id}/cancel", response_model=OrderOut, tags=["orders"])
def cancel_order(
    order_id: str,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.FULFIL))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    refunds = platform.refunds(principal.tenant)
    return _order_action(
        platform,
        principal,
        order_id,
        "cancel",
        {},
        idempotency_key,
        lambda: refunds.cancel(order_id),
        atomic=False,  # a paid order's money may go back through a channel between commits
    )


@router.post("/orders/{order_id}/refunds", response_model=OrderOut, tags=["orders"])
def refund_order(
    order_id: str,
    body: RefundIn,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.FULFIL))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Refund to where the money came from: a financed order's loan first, then the channel
    that took the payment (up to what it took), then the buyer's wallet. Before release out of
    escrow; after it the merchant pays its net share and the platform the commission on it."""
    refunds = platform.refunds(principal.tenant)
    return _order_action(
        platform,
        principal,
        order_id,
        "refunds",
        body.model_dump(),
        idempotency_key,
        lambda: refunds.refund(
            order_id, Money(body.amount, body.currency), request_id(principal, idempotency_key)
        ),
        atomic=False,  # a channel is called between the commits
        audited=True,
    )


@router.post("/orders/{order_id}/extend", response_model=OrderOut, tags=["orders"])
def extend_order(
    order_id: str,
    body: ExtendIn,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.ORDERS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """The buyer extends the auto-confirm period (goods late in the post)."""
    checkout = platform.checkout(principal.tenant)
    return _order_action(
        platform,
        principal,
        order_id,
        "extend",
        body.model_dump(),
        idempotency_key,
        lambda: checkout.extend_auto_confirm(order_id, body.days),
    )


@router.post("/orders/{order_id}/disputes", response_model=OrderOut, tags=["orders"])
def open_dispute(
    order_id: str,
    body: DisputeIn,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.DISPUTES))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    checkout = platform.checkout(principal.tenant)
    return _order_action(
        platform,
        principal,
        order_id,
        "disputes",
        body.model_dump(),
        idempotency_key,
        lambda: checkout.open_dispute(order_id, body.reason),
        audited=True,
    )


@router.post("/orders/{order_id}/disputes/resolve", response_model=OrderOut, tags=["orders"])
def resolve_dispute(
    order_id: str,
    body: DisputeResolve,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.DISPUTES))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    refunds = platform.refunds(principal.tenant)
    return _order_action(
        platform,
        principal,
        order_id,
        "disputes/resolve",
        body.model_dump(),
        idempotency_key,
        lambda: refunds.resolve_dispute(order_id, body.outcome),
        atomic=False,  # resolved for the buyer, the money may go back through a channel
        audited=True,
    )


@router.post("/orders/{order_id}/delivered", response_model=OrderOut, tags=["orders"])
def order_delivered(
    order_id: str,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.FULFIL))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """The carrier confirmed delivery."""
    after = platform.aftersales(principal.tenant)
    return _order_action(
        platform,
        principal,
        order_id,
        "delivered",
        {},
        idempotency_key,
        lambda: after.mark_delivered(order_id),
    )


@router.post("/orders/{order_id}/returns", response_model=OrderOut, tags=["orders"])
def request_return(
    order_id: str,
    body: ReturnIn,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.ORDERS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """The buyer asks to return the goods: escrow stays frozen until the merchant decides."""
    after = platform.aftersales(principal.tenant)

    def run() -> Order:
        after.request_return(order_id, body.reason)
        return platform.checkout(principal.tenant).get_order(order_id)

    return _order_action(
        platform, principal, order_id, "returns", body.model_dump(), idempotency_key, run
    )


@router.post("/orders/{order_id}/returns/receive", response_model=OrderOut, tags=["orders"])
def receive_return(
    order_id: str,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.FULFIL))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """The merchant has the goods back: refunded to the original payment method."""
    after = platform.aftersales(principal.tenant)
    return _order_action(
        platform,
        principal,
        order_id,
        "returns/receive",
        {},
        idempotency_key,
        lambda: after.receive_return(order_id),
        atomic=False,
        audited=True,
    )


@router.post("/orders/{order_id}/returns/reject", response_model=OrderOut, tags=["orders"])
def reject_return(
    order_id: str,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.FULFIL))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    after = platform.aftersales(principal.tenant)
    return _order_action(
        platform,
        principal,
        order_id,
        "returns/reject",
        {},
        idempotency_key,
        lambda: after.reject_return(order_id),
        audited=True,
    )


@router.post("/orders/{order_id}/reviews", response_model=OrderOut, tags=["orders"])
def post_review(
    order_id: str,
    body: ReviewIn,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.ORDERS_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """One review per completed order (rating 1-5)."""
    after = platform.aftersales(principal.tenant)

    def run() -> Order:
        after.post_review(order_id, body.rating, body.text)
        return platform.checkout(principal.tenant).get_order(order_id)

    return _order_action(
        platform, principal, order_id, "reviews", body.model_dump(), idempotency_key, run
    )


# --- fx ------------------------------------------------------------------------------------------
@router.post("/fx_quotes", status_code=201, response_model=FxQuoteOut, tags=["fx"])
def create_fx_quote(
    body: FxQuoteCreate,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.FX))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        _require_customer(platform, principal, body.customer)
        quote = platform.fx(principal.tenant).quote(
            "buyer", body.customer, Money(body.sell_amount, body.sell_currency), body.buy_currency
        )
        return 201, _quote_out(quote)

    return respond(
        *platform.command(
            principal, idempotency_key, body.model_dump(), effect, instance="/v1/fx_quotes"
        )
    )


@router.post("/fx_quotes/{quote_id}/convert", response_model=FxQuoteOut, tags=["fx"])
def convert_fx_quote(
    quote_id: str,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.FX))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        return 200, _quote_out(platform.fx(principal.tenant).convert(quote_id))

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"quote": quote_id},
            effect,
            instance=f"/v1/fx_quotes/{quote_id}/convert",
        )
    )
