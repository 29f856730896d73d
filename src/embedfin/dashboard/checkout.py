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
        }
        try:
            order = _place(client, method, key, body, fields.get("decision", ""))
        except ApiError as error:  # refused: the same page, the reason, nothing paid
            balance = client.customer_balance(customer, seller.settlement_currency)
            message = f"{error.detail} ({error.code})"
            return _checkout_page(
                request, current, item, seller, shopper, balance, error.status, message
            )
    return RedirectResponse(f"/dashboard/shop/bills/{quote(order.id)}", status_code=303)


def _place(client: Client, method: str, key: str, body: dict[str, Any], decision: str) -> OrderOut:
    """Place and pay the order: financed on a plan of the decision, through a channel, or from
    the buyer's wallet."""
    if method.startswith("plan:"):
        order = client.create_order(idempotency_key=f"{key}:order", **body)
        client.finance(order.id, decision, method[5:], idempotency_key=f"{key}:fin")
        return order
    if method in CHANNEL_KINDS:
        return client.checkout(
            idempotency_key=key, payment_method="channel", channel_kind=method, **body
        )
    return client.checkout(idempotency_key=key, payment_method="wallet", **body)
