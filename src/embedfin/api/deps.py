"""Request plumbing shared by the routes: the caller, the platform, responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from embedfin.api.auth import Principal, Scope, Unauthenticated
from embedfin.api.platform import Platform
from embedfin.api.problems import IDEMPOTENCY_HEADER, PROBLEM_JSON

bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer efk_…`")


async def platform_of(request: Request) -> Platform:
    """Async on purpose: a sync dependency would cost every request a thread-pool hop."""
    found: Platform = request.app.state.platform
    return found


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            raise Unauthenticated("send your API key as Authorization: Bearer <key>")
        platform: Platform = request.app.state.platform
        secret = credentials.credentials
        cached = platform.keys.cached(secret)  # the common case: no I/O, stay on the loop
        if cached is not None:
            principal = platform.charge(cached)
        else:
            principal = await run_in_threadpool(platform.authenticate, secret)
        request.state.principal = principal
        principal.require(scope)
        return principal

    return dependency


PlatformDep = Annotated[Platform, Depends(platform_of)]
#: Every POST must send it (``problems`` answers a missing one 400 ``idempotency_key_required``):
#: without it a retry after a lost answer would charge twice.
IdempotencyKey = Annotated[
    str,
    Header(
        alias=IDEMPOTENCY_HEADER,
        description="Required. Retry-safe key: the first response is stored 48 h and replayed.",
        max_length=255,
    ),
]


def respond(status: int, body: dict[str, Any], replayed: bool) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    media_type = PROBLEM_JSON if status >= 400 else "application/json"
    return JSONResponse(body, status_code=status, headers=headers, media_type=media_type)
