"""What every page shares: the templates and their filters, the error page, form bodies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from embedfin.core.money import Money, format_money

#: How often the live panels ask for fresh figures (seconds).
POLL_S = 3
HERE = Path(str(resources.files("embedfin.dashboard")))

templates = Jinja2Templates(directory=str(HERE / "templates"))


def _money(amount: int, currency: str) -> str:
    if currency == NO_CURRENCY:  # a case that holds no money (a sanctions hit)
        return "—"
    return format_money(Money(amount, currency))


def _when(ns: int) -> str:
    if not ns:
        return "—"
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


#: ISO 4217's "no currency": what a case involving no money carries.
NO_CURRENCY = "XXX"
templates.env.filters["money"] = _money
templates.env.filters["when"] = _when
templates.env.filters["epoch"] = lambda seconds: _when(int(seconds) * 1_000_000_000)


class PageError(Exception):
    """A page that cannot be shown: answered with an HTML error page and this status."""

    def __init__(self, status: int, message: str = "not found") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


async def error_page(request: Request, error: Exception) -> Response:
    assert isinstance(error, PageError)
    return page(request, "error.html", error.status, message=error.message, code=error.status)


async def form(request: Request) -> dict[str, str]:
    """The fields of a url-encoded form (the first value of each, at most 50 fields)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, max_num_fields=50).items()}


def new_idempotency_key() -> str:
    """For a form: submitting it twice is one command."""
    return str(uuid.uuid4())
