"""The live dashboard: server-rendered pages (Jinja2), live panels (HTMX polling), Plotly charts.

Mounted under ``/dashboard`` of the API app. People sign in with an API key of the tenant (the
same keys as the API: an operator, risk or regulator key sees the operator view, a merchant key
its own merchant's view). The browser gets a server-side session (``sessions.py``: an HttpOnly,
SameSite=Strict cookie with a random id, never the key); the key behind it is checked on every
request exactly as a Bearer key is, so revoking it ends the session.

The storefront pages show the embedded checkout as a marketplace would build it: its server
calls the embedfin API with the SDK (`embedfin.client.Client`) — nothing here writes to the
database directly. JavaScript (htmx, Plotly) is served from this package; nothing is loaded
from a CDN.
"""

from __future__ import annotations

import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs, quote

import plotly
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from embedfin.api.auth import Principal, Role, Unauthenticated
from embedfin.api.platform import Platform
from embedfin.api.schemas import BalanceOut, CustomerOut, MerchantOut
from embedfin.client import ApiError, Client
from embedfin.core.money import Money, format_money
from embedfin.dashboard import charts, queries, sessions
from embedfin.ledger.check import CheckReport

T = TypeVar("T")
COOKIE = "embedfin_session"
POLL_S = 3
_HERE = Path(str(resources.files("embedfin.dashboard")))
_PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
_STATIC = {
    "htmx.min.js": (_HERE / "static" / "htmx.min.js", "text/javascript"),
    "dashboard.js": (_HERE / "static" / "dashboard.js", "text/javascript"),
    "dashboard.css": (_HERE / "static" / "dashboard.css", "text/css"),
    "plotly.min.js": (_PLOTLY_JS, "text/javascript"),
}
CHANNEL_KINDS = {
    "card": "Card",
    "bank_transfer": "Bank transfer",
    "e_wallet": "E-wallet",
    "qr_code": "QR code",
}

templates = Jinja2Templates(directory=str(_HERE / "templates"))
router = APIRouter(prefix="/dashboard", include_in_schema=False)


def _money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency))


def _when(ns: int) -> str:
    if not ns:
        return "—"
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["money"] = _money
templates.env.filters["when"] = _when


@dataclass(frozen=True, slots=True)
class Product:
    category: str
    sku: str
    name: str
    price: int


@lru_cache(maxsize=1)
def catalogue() -> tuple[Product, ...]:
    """The demo storefront's products (shipped with the package)."""
    data = tomllib.loads((_HERE / "storefront.toml").read_text())
    return tuple(Product(**p) for p in data["product"])


# --- sessions ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Session:
    platform: Platform
    principal: Principal
    key: str

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    @property
    def is_merchant(self) -> bool:
        return self.principal.role is Role.MERCHANT

    @contextmanager
    def client(self, request: Request) -> Iterator[Client]:
        """The SDK, calling this server's own API with the signed-in key."""
        with Client(self.key, str(request.base_url).rstrip("/"), max_retries=1) as client:
            yield client


class SignInRequired(Exception):
    """No valid session: the page redirects to the sign-in form."""


class PageError(Exception):
    """A page that cannot be shown: answered with an HTML error page and this status."""

    def __init__(self, status: int, message: str = "not found") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def session(request: Request) -> Session:
    platform: Platform = request.app.state.platform
    key = sessions.resume(platform, request.cookies.get(COOKIE, ""))
    if key is None:
        raise SignInRequired
    try:
        principal = platform.keys.verify(platform.read, key)
    except Unauthenticated as error:
        raise SignInRequired from error
    return Session(platform, principal, key)


SessionDep = Annotated[Session, Depends(session)]


async def _to_sign_in(request: Request, _: Exception) -> Response:
    if request.headers.get("HX-Request"):  # a live panel: htmx follows HX-Redirect
        return Response(status_code=401, headers={"HX-Redirect": "/dashboard/login"})
    return RedirectResponse("/dashboard/login", status_code=303)


async def _error_page(request: Request, error: Exception) -> Response:
    assert isinstance(error, PageError)
    return _page(request, "error.html", error.status, message=error.message, code=error.status)


def install(app: FastAPI) -> None:
    """Mount the dashboard on the API app."""
    app.include_router(router)
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(PageError, _error_page)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, max_num_fields=50).items()}


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


# --- static files --------------------------------------------------------------------------------
@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    found = _STATIC.get(name)
    if found is None:
        raise PageError(404)
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=3600"})


# --- sign in -------------------------------------------------------------------------------------
@router.get("", response_class=HTMLResponse)
def home(request: Request) -> Response:
    try:
        current = session(request)
    except SignInRequired:
        return RedirectResponse("/dashboard/login", status_code=303)
    if current.principal.merchant_id is not None:
        return RedirectResponse(
            f"/dashboard/merchants/{quote(current.principal.merchant_id)}", status_code=303
        )
    return RedirectResponse("/dashboard/operator", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _page(request, "login.html", error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    key = (await _form(request)).get("key", "").strip()
    try:
        principal = await run_in_threadpool(platform.keys.verify, platform.read, key)
    except Unauthenticated:
        return _page(request, "login.html", 401, error="That key is unknown, revoked or malformed.")
    token = await run_in_threadpool(sessions.open_session, platform, principal, key)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/dashboard",
        max_age=sessions.SESSION_TTL_NS // 1_000_000_000,
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    token = request.cookies.get(COOKIE)
    if token:
        sessions.close_session(platform, token)
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(COOKIE, path="/dashboard")
    return response


def live_channels(platform: Platform) -> dict[str, tuple[int, int]]:
    """(approved, attempts) per channel in the router's window of recent outcomes (copied at
    once: the routing thread appends to the windows while a page is drawn)."""
    windows = {name: seen.copy() for name, seen in list(platform.router.outcomes.items())}
    return {name: (sum(seen), len(seen)) for name, seen in windows.items()}


class TtlCache:
    """Computed values kept for ``ttl_s`` seconds, shared by every viewer of the process: a
    room full of dashboards polling every few seconds costs one computation per period."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._values: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, compute: Callable[[], T]) -> tuple[T, float]:
        """The value and its age in seconds (computed now if missing or stale)."""
        now = time.monotonic()
        with self._lock:
            found = self._values.get(key)
            if found is not None and now - found[0] < self.ttl_s:
                return found[1], now - found[0]
        value = compute()
        with self._lock:
            self._values[key] = (time.monotonic(), value)
        return value, 0.0

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


#: The full invariant check reads every account and transfer: at most once per 30 s.
INVARIANTS = TtlCache(30.0)
#: The operator figures: at most once per poll period and tenant.
FIGURES = TtlCache(POLL_S - 0.5)


# --- operator view -------------------------------------------------------------------------------
def _operator_context(current: Session) -> dict[str, Any]:
    database = str(current.platform.engine.url)
    figures, _ = FIGURES.get(f"{database} {current.tenant}", lambda: _operator_figures(current))
    report, age = INVARIANTS.get(database, lambda: _check(current.platform))
    return {
        **figures,
        "report": report,
        "report_age_s": round(age),
        "channel_chart": charts.channel_success(
            figures["channels"], live_channels(current.platform)
        ),
        "poll_s": POLL_S,
    }


def _check(platform: Platform) -> CheckReport:
    with platform.read() as conn:
        return queries.invariants(conn)


def _operator_figures(current: Session) -> dict[str, Any]:
    with current.platform.read() as conn:
        figures = queries.overview(conn, current.tenant)
        main = figures[0].currency if figures else "EUR"
        points = queries.daily(conn, current.tenant, main)
        return {
            "figures": figures,
            "main": main,
            "channels": queries.channels(conn, current.tenant),
            "events": queries.recent_events(conn, current.tenant),
            "merchants": queries.merchants_by_sales(conn, current.tenant, main),
            "lending": queries.lending(conn, current.tenant),
            "sales_chart": charts.sales(points, main),
            "settlement_chart": charts.settlement(points),
        }


@router.get("/operator", response_class=HTMLResponse)
def operator(request: Request, current: SessionDep) -> HTMLResponse:
    if current.is_merchant:
        raise PageError(403, "a merchant key sees its own merchant only")
    return _page(request, "operator.html", session=current, **_operator_context(current))


@router.get("/operator/panels", response_class=HTMLResponse)
def operator_panels(request: Request, current: SessionDep) -> HTMLResponse:
    if current.is_merchant:
        raise PageError(403, "a merchant key sees its own merchant only")
    return _page(request, "operator_panels.html", session=current, **_operator_context(current))


# --- merchant view -------------------------------------------------------------------------------
def _merchant_context(current: Session, merchant_id: str) -> dict[str, Any]:
    if not current.principal.may_see_merchant(merchant_id):
        raise PageError(404, "no such merchant")
    with current.platform.read() as conn:
        found = queries.merchant_figures(conn, current.tenant, merchant_id)
        if found is None:
            raise PageError(404, "no such merchant")
        recent = queries.recent_orders(conn, current.tenant, merchant_id)
        points = queries.daily(conn, current.tenant, found.currency, merchant_id)
    return {
        "merchant": found,
        "orders": recent,
        "idempotency_key": str(uuid.uuid4()),
        "sales_chart": charts.sales(points, found.currency, "Sales and orders per day"),
        "poll_s": POLL_S,
    }


@router.get("/merchants/{merchant_id}", response_class=HTMLResponse)
def merchant(request: Request, merchant_id: str, current: SessionDep) -> HTMLResponse:
    return _page(
        request, "merchant.html", session=current, **_merchant_context(current, merchant_id)
    )


@router.get("/merchants/{merchant_id}/panels", response_class=HTMLResponse)
def merchant_panels(request: Request, merchant_id: str, current: SessionDep) -> HTMLResponse:
    return _page(
        request,
        "merchant_panels.html",
        session=current,
        **_merchant_context(current, merchant_id),
    )


# --- storefront ----------------------------------------------------------------------------------
def _shop_context(current: Session, request: Request) -> dict[str, Any]:
    if current.is_merchant:
        raise PageError(403, "the storefront acts for buyers: sign in with an operator key")
    with current.client(request) as client:
        shoppers = list(islice(client.list_customers(), 20))
        sellers = list(islice(client.list_merchants(), 20))
    return {"shoppers": shoppers, "sellers": sellers}


@router.get("/shop", response_class=HTMLResponse)
def shop(request: Request, current: SessionDep) -> HTMLResponse:
    context = _shop_context(current, request)
    products = catalogue()
    offers = [
        (seller, product)
        for seller in context["sellers"]
        for product in products
        if product.category == seller.category
    ][:12]
    return _page(request, "shop.html", session=current, offers=offers, **context)


def _product(sku: str) -> Product:
    for product in catalogue():
        if product.sku == sku:
            return product
    raise PageError(404, "no such product")


@router.get("/shop/checkout", response_class=HTMLResponse)
def checkout_page(
    request: Request, current: SessionDep, sku: str, merchant: str, customer: str
) -> HTMLResponse:
    product = _product(sku)
    with current.client(request) as client:
        try:
            seller = client.get_merchant(merchant)
            shopper = client.get_customer(customer)
            balance = client.customer_balance(customer, seller.settlement_currency)
        except ApiError as error:
            raise PageError(404, error.detail) from error
    return _checkout_page(request, current, product, seller, shopper, balance)


def _checkout_page(
    request: Request,
    current: Session,
    product: Product,
    seller: MerchantOut,
    shopper: CustomerOut,
    balance: BalanceOut,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    """The checkout form, with a new Idempotency-Key: a double submit is one order."""
    return _page(
        request,
        "checkout.html",
        status,
        session=current,
        product=product,
        seller=seller,
        shopper=shopper,
        balance=balance,
        kinds=CHANNEL_KINDS,
        idempotency_key=str(uuid.uuid4()),
        error=error,
    )


@router.get("/shop/offers", response_class=HTMLResponse)
def installment_offers(
    request: Request, current: SessionDep, sku: str, merchant: str, customer: str, key: str
) -> HTMLResponse:
    """The credit decision for this purchase, asked of the API when the checkout page opens."""
    product = _product(sku)
    with current.client(request) as client:
        seller = client.get_merchant(merchant)
        try:
            decision = client.credit_decision(
                customer,
                product.price,
                seller.settlement_currency,
                product.category,
                idempotency_key=f"offers-{key}",
            )
        except ApiError as error:
            return _page(request, "offers.html", decision=None, error=error.detail, price=0)
    return _page(request, "offers.html", decision=decision, error=None, price=product.price)


@router.post("/shop/checkout", response_class=HTMLResponse)
async def checkout(request: Request, current: SessionDep) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_checkout, request, current, form)


def _checkout(request: Request, current: Session, form: dict[str, str]) -> Response:
    try:
        product = _product(form.get("sku", ""))
        merchant, customer = form["merchant"], form["customer"]
        method, key = form.get("method", "wallet"), form["idempotency_key"]
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
            "lines": [{"sku": product.sku, "quantity": 1, "unit_price": product.price}],
        }
        try:
            if method.startswith("plan:"):
                order = client.create_order(idempotency_key=f"{key}:order", **body)
                client.finance(
                    order.id, form.get("decision", ""), method[5:], idempotency_key=f"{key}:fin"
                )
            elif method in CHANNEL_KINDS:
                order = client.checkout(
                    idempotency_key=key, payment_method="channel", channel_kind=method, **body
                )
            else:
                order = client.checkout(idempotency_key=key, payment_method="wallet", **body)
        except ApiError as error:  # refused: the same page, the reason, nothing paid
            balance = client.customer_balance(customer, seller.settlement_currency)
            message = f"{error.detail} ({error.code})"
            return _checkout_page(
                request, current, product, seller, shopper, balance, error.status, message
            )
    return RedirectResponse(f"/dashboard/shop/bills/{quote(order.id)}", status_code=303)


@router.post("/merchants/{merchant_id}/orders/{order_id}/ship")
async def ship(request: Request, merchant_id: str, order_id: str, current: SessionDep) -> Response:
    """The merchant ships a paid order (through the API, as the merchant's key)."""
    form = await _form(request)
    tracking = form.get("tracking", "").strip() or f"TRK-{order_id[-12:]}"
    key = form.get("idempotency_key") or str(uuid.uuid4())
    await run_in_threadpool(_order_action, request, current, order_id, "ship", key, tracking)
    return RedirectResponse(f"/dashboard/merchants/{quote(merchant_id)}", status_code=303)


@router.post("/shop/bills/{order_id}/confirm")
async def confirm_receipt(request: Request, order_id: str, current: SessionDep) -> Response:
    """The buyer confirms the parcel arrived: escrow pays the merchant (through the API)."""
    form = await _form(request)
    key = form.get("idempotency_key") or str(uuid.uuid4())
    await run_in_threadpool(_order_action, request, current, order_id, "confirm", key, None)
    return RedirectResponse(f"/dashboard/shop/bills/{quote(order_id)}", status_code=303)


def _order_action(
    request: Request,
    current: Session,
    order_id: str,
    action: str,
    key: str,
    tracking: str | None,
) -> None:
    body = {"tracking": tracking[:64]} if tracking is not None else {}
    with current.client(request) as client:
        try:
            client.order_action(order_id, action, body, idempotency_key=f"{key}:{action}")
        except ApiError as error:
            raise PageError(error.status, f"{error.detail} ({error.code})") from error


@router.get("/shop/bills/{order_id}", response_class=HTMLResponse)
def bill_page(request: Request, order_id: str, current: SessionDep) -> HTMLResponse:
    with current.platform.read() as conn:
        found = queries.bill(conn, current.tenant, order_id)
    if found is None or not current.principal.may_see_merchant(found.merchant_id):
        raise PageError(404, "no such order")
    return _page(
        request, "bill.html", session=current, bill=found, idempotency_key=str(uuid.uuid4())
    )
