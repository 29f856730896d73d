"""Errors as RFC 9457 problem details (``application/problem+json``) with a stable ``code``.

Every typed error of the service layer maps to one HTTP status here, in one place; anything
else is a 500 whose body says nothing about the internals (the log has the traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from embedfin.api.auth import Forbidden, Unauthenticated
from embedfin.api.failures import log_failure
from embedfin.core import errors
from embedfin.payments.fx import QuoteExpired, QuoteUsed
from embedfin.payments.refunds.service import ChannelUnavailable
from embedfin.transparency.witnesses import WitnessConflict

log = logging.getLogger("embedfin.api")

PROBLEM_JSON = "application/problem+json"
#: The header every POST must send (``deps.IdempotencyKey``).
IDEMPOTENCY_HEADER = "Idempotency-Key"


class IdempotencyInFlight(errors.EmbedfinError):
    """A request with this Idempotency-Key is still being processed."""

    code = "idempotency_in_flight"


class RateLimited(errors.EmbedfinError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


#: Most specific class first; the first match decides the status.
STATUS: list[tuple[type[errors.EmbedfinError], int]] = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (errors.NotFound, 404),
    (IdempotencyInFlight, 409),
    (errors.IdempotencyMismatch, 422),
    (RateLimited, 429),
    (errors.InsufficientFunds, 402),
    (errors.PaymentDeclined, 402),
    (errors.RiskRefused, 402),
    (errors.RiskUnavailable, 503),
    (errors.ComplianceHold, 409),
    (errors.LimitExceeded, 422),
    (QuoteExpired, 409),
    (QuoteUsed, 409),
    (WitnessConflict, 409),
    (errors.InvalidStateTransition, 409),
    (errors.LedgerRejected, 409),
    (errors.InvalidInput, 422),
    (ChannelUnavailable, 503),
    (errors.ConfigurationError, 500),
]

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def status_of(error: errors.EmbedfinError) -> int:
    if isinstance(error, errors.BatchItemRefused):
        return status_of(error.error)
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 400


def problem_body(
    status: int, code: str, detail: str, instance: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": f"https://embedfin.dev/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        "instance": instance,
        **extra,
    }


def problem(status: int, code: str, detail: str, instance: str, **extra: Any) -> JSONResponse:
    body = problem_body(status, code, detail, instance, **extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _extra(error: errors.EmbedfinError) -> dict[str, Any]:
    if isinstance(error, errors.RiskRefused | errors.BatchItemRefused):
        return error.details()
    return {}


def error_body(error: errors.EmbedfinError, instance: str) -> tuple[int, dict[str, Any]]:
    status = status_of(error)
    return status, problem_body(status, error.code, str(error), instance, **_extra(error))


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.EmbedfinError)
    async def _typed(request: Request, error: errors.EmbedfinError) -> JSONResponse:
        response = problem(
            status_of(error), error.code, str(error), request.url.path, **_extra(error)
        )
        if isinstance(error, RateLimited):
            response.headers["Retry-After"] = str(error.retry_after_s)
        elif isinstance(error, ChannelUnavailable | errors.RiskUnavailable):
            response.headers["Retry-After"] = "30"
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        if _lacks_idempotency_key(error):
            return problem(
                400,
                "idempotency_key_required",
                "send an Idempotency-Key header with every POST (a retry reuses it)",
                request.url.path,
            )
        issues = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in error.errors()
        ]
        detail = "; ".join(f"{'.'.join(i['loc'])}: {i['msg']}" for i in issues[:5])
        return problem(422, "invalid_request", detail, request.url.path, errors=issues)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        codes = {400: "malformed_request", 404: "not_found", 405: "method_not_allowed"}
        code = getattr(error, "code", None) or codes.get(error.status_code, "http_error")
        return problem(error.status_code, code, str(error.detail), request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        """Only reached by errors of the middleware itself (``ErrorShield`` answers the
        routes'): logged by type and frames, never by message."""
        return unexpected(request.scope, error)


def route_of(scope: Mapping[str, Any]) -> str:
    """The route template of a request (``/v1/orders/{order_id}``), never its concrete path."""
    return str(getattr(scope.get("route"), "path", "unmatched"))


def request_id_of(scope: Mapping[str, Any]) -> str | None:
    found = scope.get("state", {}).get("request_id")
    return None if found is None else str(found)


def unexpected(scope: Mapping[str, Any], error: BaseException) -> JSONResponse:
    """The 500 answer to an error nobody expected, and its log record (type, route, request
    id and frames: no message, body or SQL parameter)."""
    request_id = request_id_of(scope)
    route = route_of(scope)
    log_failure(
        log,
        f"unhandled error on {scope.get('method', '?')} {route}",
        error,
        route=route,
        request_id=request_id,
    )
    extra = {} if request_id is None else {"request_id": request_id}
    return problem(500, "internal_error", "internal error", route, **extra)


def _lacks_idempotency_key(error: RequestValidationError) -> bool:
    return any(
        e.get("type") == "missing"
        and [str(p).lower() for p in e.get("loc", ())] == ["header", IDEMPOTENCY_HEADER.lower()]
        for e in error.errors()
    )
