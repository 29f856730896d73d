"""The demo storefront: a marketplace's shop built on the embedded checkout.

Its pages act as the marketplace's own server would: they call the embedfin API with the SDK
(`embedfin.client.Client`) and the signed-in key; nothing here writes to the database. This
module holds the catalogue and the shop window; ``checkout`` takes the order, ``bill`` shows
what was bought and how it is paid.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from embedfin.dashboard.pages import HERE, PageError, page
from embedfin.dashboard.signin import Session, SessionDep

#: How many shoppers and sellers the shop window offers.
WINDOW = 20
#: How many offers (seller × product) it shows.
OFFERS = 12

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Product:
    category: str
    sku: str
    name: str
    price: int


@lru_cache(maxsize=1)
def catalogue() -> tuple[Product, ...]:
    """The demo storefront's products (shipped with the package)."""
    data = tomllib.loads((HERE / "storefront.toml").read_text())
    return tuple(Product(**p) for p in data["product"])


def product(sku: str) -> Product:
    for found in catalogue():
        if found.sku == sku:
            return found
    raise PageError(404, "no such product")


def _shop_context(current: Session, request: Request) -> dict[str, Any]:
    if current.is_merchant:
        raise PageError(403, "the storefront acts for buyers: sign in with an operator key")
    with current.client(request) as client:
        shoppers = list(islice(client.list_customers(), WINDOW))
        sellers = list(islice(client.list_merchants(), WINDOW))
    return {"shoppers": shoppers, "sellers": sellers}


@router.get("/shop", response_class=HTMLResponse)
def shop(request: Request, current: SessionDep) -> HTMLResponse:
    context = _shop_context(current, request)
    products = catalogue()
    offers = [
        (seller, item)
        for seller in context["sellers"]
        for item in products
        if item.category == seller.category
    ][:OFFERS]
    return page(request, "shop.html", session=current, offers=offers, **context)
