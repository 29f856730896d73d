"""Signing in and out, and the session every page depends on.

People sign in with an API key of the tenant; ``sessions`` stores the session server-side and
the browser holds only its random id in an HttpOnly, SameSite=Strict cookie. Every request
resumes the session and verifies the key behind it exactly as a Bearer key is verified, so
revoking the key ends the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from embedfin.api.auth import Principal, Role, Unauthenticated
from embedfin.api.platform import Platform
from embedfin.client import Client
from embedfin.dashboard import sessions
from embedfin.dashboard.pages import form, page

COOKIE = "embedfin_session"
SIGN_IN = "/dashboard/login"

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Session:
    """Who is signed in, on which platform, with which key."""

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


def session(request: Request) -> Session:
    """The signed-in session of the request (its key verified again), or SignInRequired."""
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


async def to_sign_in(request: Request, _: Exception) -> Response:
    if request.headers.get("HX-Request"):  # a live panel: htmx follows HX-Redirect
        return Response(status_code=401, headers={"HX-Redirect": SIGN_IN})
    return RedirectResponse(SIGN_IN, status_code=303)


@router.get("", response_class=HTMLResponse)
def home(request: Request) -> Response:
    try:
        current = session(request)
    except SignInRequired:
        return RedirectResponse(SIGN_IN, status_code=303)
    if current.principal.merchant_id is not None:
        return RedirectResponse(
            f"/dashboard/merchants/{quote(current.principal.merchant_id)}", status_code=303
        )
    return RedirectResponse("/dashboard/operator", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return page(request, "login.html", error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    key = (await form(request)).get("key", "").strip()
    try:
        principal = await run_in_threadpool(platform.keys.verify, platform.read, key)
    except Unauthenticated:
        return page(request, "login.html", 401, error="That key is unknown, revoked or malformed.")
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
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(COOKIE, path="/dashboard")
    return response
