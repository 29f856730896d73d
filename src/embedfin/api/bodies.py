"""Requests read strictly: one JSON decode that refuses what ``json.loads`` lets through.

``json.loads`` keeps the last of two equal keys (``{"amount": 1, "amount": 100000}`` is a
top-up of 100,000 to a reader that keeps the first) and reads ``NaN`` and ``Infinity``, which
are not JSON (RFC 8259 §6). ``StrictJsonRoute`` is the route class of every ``/v1`` router
(``routes.common.v1_router``): FastAPI decodes the body through its request's ``json()``, so
the strict decode replaces the ordinary one instead of running a second time. It also refuses
control characters in path and query parameters, before an id such as ``ord_%00`` reaches a
database that cannot store it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from embedfin.api.schemas.common import control_character

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class MalformedBody(HTTPException):
    """A body that is JSON to a lenient parser but ambiguous: answered 400 with ``code``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(400, detail)
        self.code = code


class DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return found


def _not_json(constant: str) -> Any:
    raise json.JSONDecodeError(f"{constant} is not JSON", constant, 0)


def loads_strict(data: bytes | str) -> Any:
    """``json.loads`` that refuses repeated keys (``DuplicateKey``) and NaN / Infinity
    (``json.JSONDecodeError``)."""
    return json.loads(data, object_pairs_hook=_unique_pairs, parse_constant=_not_json)


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = loads_strict(await self.body())
            except DuplicateKey as repeated:
                name = json.dumps(str(repeated)[:64])
                raise MalformedBody(
                    "duplicate_json_key", f"the key {name} appears twice in one JSON object"
                ) from None
        return self._json


def _refuse_control_characters(request: Request) -> None:
    issues = []
    params = [("path", k, v) for k, v in request.path_params.items()]
    params += [("query", k, v) for k, v in request.query_params.multi_items()]
    for where, name, value in params:
        found = control_character(value) if isinstance(value, str) else None
        if found is not None:
            message = f"control character {found} is not allowed"
            issues.append({"type": "value_error", "loc": (where, name), "msg": message})
    if issues:
        raise RequestValidationError(issues)


class StrictJsonRoute(APIRoute):
    """An API route whose body is decoded by ``loads_strict`` and whose path and query
    parameters carry no control characters."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            _refuse_control_characters(request)
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict
