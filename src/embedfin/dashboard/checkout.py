"""The storefront's checkout: the form, the installment offers, and placing the order (wallet,
a payment channel, or installments) through the API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from embedfin.api.schemas import BalanceOut, CustomerOut, MerchantOut, OrderOut
from embedfin.client import ApiError, Client
from embedfin.dashboard.pages import PageError, form, new_idempotency_key, page
from embedfin.dashboard.signin import Session, SessionDep
from embedfin.dashboard.storefront import Product, product

CHANNEL_KINDS = {
    "card": "Card",
    "bank_transfer": "Bank transfer",
    "e_wallet": "E-wallet",
    "qr_code": "QR code",
}

router = APIRouter()


@router.get("/shop/checkout", response_class=HTMLResponse)
def checkout_page(
    request: Request, current: SessionDep, sku: str, merchant: str, customer: str
) -> HTMLResponse:
    item = product(sku)
    with current.client(request) as client:
        try:
            seller = client.get_merchant(merchant)
            shopper = client.get_customer(customer)
            balance = client.customer_balance(customer, seller.settlement_currency)
        except ApiError as error:
            raise PageError(404, error.detail) from error
    return _checkout_page(request, current, item, seller, shopper, balance)


def _checkout_page(
    request: Request,
    current: Session,
    item: Product,
    seller: MerchantOut,
    shopper: CustomerOut,
    balance: BalanceOut,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    """The checkout form, with a new Idempotency-Key: a double submit is one order."""
    return page(
        request,
        "checkout.html",
        status,
        session=current,
        product=item,
        seller=seller,
        shopper=shopper,
        balance=balance,
        kinds=CHANNEL_KINDS,
        idempotency_key=new_idempotency_key(),
        error=error,
    )


@router.get("/shop/offers", response_class=HTMLResponse)
def installment_offers(
    request: Request, current: SessionDep, sku: str, merchant: str, customer: str, key: str
) -> HTMLResponse:
    """The credit decision for this purchase, asked of the API when the checkout page opens."""
    item = product(sku)
    with current.client(request) as client:
        seller = client.get_merchant(merchant)
        try:
            decision = client.credit_decision(
                customer,
                item.price,
                seller.settlement_currency,
                item.category,
                idempotency_key=f"offers-{key}",
            )
        except ApiError as error:
            return page(request, "offers.html", decision=None, error=error.detail, price=0)
    return page(request, "offers.html", decision=decision, error=None, price=item.price)


@router.post("/shop/checkout", response_class=HTMLResponse)
async def checkout(request: Request, current: SessionDep) -> Response:
    fields = await form(request)
    return await run_in_threadpool(_checkout, request, current, fields)


def _checkout(request: Request, current: Session, fields: dict[str, str]) -> Response:
    try:
        item = product(fields.get("sku", ""))
        merchant, customer = fields["merchant"], fields["customer"]
        method, key = fields.get("method", "wallet"), fields["idempotency_key"]
    except KeyError as error:
        raise PageError(400, f"missing form field {error}") from error
    if not (method == "wallet" or method in CHANNEL_KINDS or method.startswith("plan:")):
        raise PageError(400, f"unknown payment method {method[:40]!r}")
    with current.client(request) as client:
        try:
            seller = client.get_merchant(merchant)
            shopper = client.get_customer(customer)
        except ApiError as error:
            raise PageError(404, error.detail) from error
        body: dict[str, Any] = {
            "customer": customer,
            "merchant": merchant,
            "currency": seller.settlement_currency,
            "lines": [{"sku": item.sku, "quantity": 1, "unit_price": item.price}],
            "risk_context": _browser_context(request),
        }
        try:
            order = _place(client, method, key, body, fields.get("decision", ""))
        except ApiError as error:  # refused: the same page, the reason, nothing paid
            if error.code == "challenge_required":
                return _challenge_page(request, current, client, error, fields)
            balance = client.customer_balance(customer, seller.settlement_currency)
            message = f"{error.detail} ({error.code})"
            return _checkout_page(
                request, current, item, seller, shopper, balance, error.status, message
            )
    return RedirectResponse(f"/dashboard/shop/bills/{quote(order.id)}", status_code=303)


def _browser_context(request: Request) -> dict[str, str]:
    """What the storefront knows about the buyer's browser, for the risk check."""
    context: dict[str, str] = {}
    if request.client is not None and request.client.host:
        context["ip"] = request.client.host
    agent = "".join(c for c in request.headers.get("user-agent", "") if c.isprintable())
    if agent.strip():
        context["user_agent"] = agent[:512]
    return context


def _challenge_page(
    request: Request,
    current: Session,
    client: Client,
    error: ApiError,
    fields: dict[str, str],
    status: int = 402,
    message: str | None = None,
) -> HTMLResponse:
    """Step-up, as a card issuer's 3-D Secure page would ask: the one-time code. The sandbox
    shows an operator the code it would have sent (a buyer's key never sees it)."""
    challenge = str(error.body.get("challenge_id", fields.get("challenge_id", "")))
    try:
        hint: str | None = client.sandbox_code(challenge)
    except ApiError:
        hint = None
    kept = {k: v for k, v in fields.items() if k not in ("code", "challenge_id")}
    return page(
        request,
        "challenge.html",
        status,
        session=current,
        challenge_id=challenge,
        fields=kept,
        sandbox_code=hint,
        error=message,
    )


@router.post("/shop/challenges", response_class=HTMLResponse)
async def answer_challenge(request: Request, current: SessionDep) -> Response:
    """The buyer's code: passed, the payment goes through again; wrong, the same page."""
    fields = await form(request)
    return await run_in_threadpool(_answer, request, current, fields)


def _answer(request: Request, current: Session, fields: dict[str, str]) -> Response:
    challenge, code = fields.get("challenge_id", ""), fields.get("code", "").strip()
    with current.client(request) as client:
        try:
            answered = client.answer_challenge(challenge, code)
        except ApiError as error:
            return _challenge_page(
                request,
                current,
                client,
                error,
                fields,
                error.status,
                f"{error.detail} ({error.code})",
            )
    if answered.status != "passed":
        with current.client(request) as client:
            message = "wrong code" if answered.status == "pending" else "the challenge failed"
            stub = ApiError(402, {"code": "challenge_required", "challenge_id": challenge})
            return _challenge_page(request, current, client, stub, fields, 402, message)
    key = f"{fields.get('idempotency_key', '')}:stepped-up"
    method = fields.get("method", "wallet")
    with current.client(request) as client:
        try:  # the order the challenge was for is placed already: pay it
            order = _pay(client, answered.reference, method, key, fields.get("decision", ""))
        except ApiError as error:
            raise PageError(error.status, f"{error.detail} ({error.code})") from error
    return RedirectResponse(f"/dashboard/shop/bills/{quote(order.id)}", status_code=303)


def _pay(client: Client, order_id: str, method: str, key: str, decision: str) -> OrderOut:
    """Pay a placed order as the checkout chose: on a plan, through a channel, or the wallet."""
    if method.startswith("plan:"):
        client.finance(order_id, decision, method[5:], idempotency_key=f"{key}:fin")
        return client.get_order(order_id)
    if method in CHANNEL_KINDS:
        body = {"method": "channel", "channel_kind": method}
        return client.order_action(order_id, "pay", body, idempotency_key=key)
    return client.order_action(order_id, "pay", {"method": "wallet"}, idempotency_key=key)


def _place(client: Client, method: str, key: str, body: dict[str, Any], decision: str) -> OrderOut:
    """Place and pay the order: financed on a plan of the decision, through a channel, or from
    the buyer's wallet."""
    if method.startswith("plan:"):
        placed = {k: v for k, v in body.items() if k != "risk_context"}
        order = client.create_order(idempotency_key=f"{key}:order", **placed)
        client.finance(
            order.id,
            decision,
            method[5:],
            idempotency_key=f"{key}:fin",
            risk_context=body.get("risk_context"),
        )
        return order
    if method in CHANNEL_KINDS:
        return client.checkout(
            idempotency_key=key, payment_method="channel", channel_kind=method, **body
        )
    return client.checkout(idempotency_key=key, payment_method="wallet", **body)
