"""The live dashboard: server-rendered pages (Jinja2), live panels (HTMX polling), Plotly charts.

Mounted under ``/dashboard`` of the API app. People sign in with an API key of the tenant (the
same keys as the API: an operator, risk or regulator key sees the operator view, a merchant key
its own merchant's view). The browser gets a server-side session (``sessions``, ``signin``); the
key behind it is checked on every request exactly as a Bearer key is, so revoking it ends the
session.

This module only assembles the pages: ``operator``, ``risk``, ``aml`` (sanctions screening) and
``merchant`` are the views, over the read model in ``queries`` and the shared figures of
``cache``; ``storefront``, ``checkout`` and ``bill`` show the embedded checkout as a marketplace
would build it, calling the embedfin API with the SDK — nothing here writes to the database
directly. JavaScript (htmx, Plotly) is served from this package (``static``); nothing is loaded
from a CDN.
"""

from __future__ import annotations

from fastapi import FastAPI

from embedfin.dashboard import (
    aml,
    bill,
    cache,
    certificates,
    checkout,
    funds,
    logs,
    merchant,
    operator,
    risk,
    signin,
    static,
    storefront,
    stress,
    verify,
)
from embedfin.dashboard.pages import PageError, error_page

PREFIX = "/dashboard"
ROUTERS = (
    static.router,
    signin.router,
    operator.router,
    merchant.router,
    risk.router,
    aml.router,
    logs.router,
    certificates.router,
    verify.router,
    funds.router,
    stress.router,
    storefront.router,
    checkout.router,
    bill.router,
)


def install(app: FastAPI) -> None:
    """Mount the dashboard on the API app (whose ``state.platform`` is set)."""
    cache.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX, include_in_schema=False)
    app.add_exception_handler(signin.SignInRequired, signin.to_sign_in)
    app.add_exception_handler(PageError, error_page)
