"""Request bodies have a size limit: a larger one is refused with 413 before any route reads it.

Every body is limited to :data:`DEFAULT_LIMIT` bytes (far above any command's body), except the
paths in :data:`LIMITS` that carry files (a sanctions list). A declared ``Content-Length`` over
the limit is refused at once; a chunked body is read up to the limit and refused when it goes
past it (uvicorn already holds a ``Content-Length`` body to its declared length).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from embedfin.api.problems import problem

DEFAULT_LIMIT = 1 << 20  # 1 MiB
#: Paths whose bodies may be larger (the API schema caps the content itself).
LIMITS = {"/v1/aml/watchlists": 4 << 20}


def limit_of(path: str) -> int:
    return LIMITS.get(path, DEFAULT_LIMIT)


class BodyLimit:
    """ASGI middleware: 413 ``payload_too_large`` for a body over its path's limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_of(scope["path"])
        headers = dict(scope.get("headers", ()))
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await self._refuse(scope, receive, send, limit)
                return
            await self.app(scope, receive, send)
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        detail = f"the request body is larger than {limit:,} bytes"
        response = problem(413, "payload_too_large", detail, scope["path"])
        await response(scope, receive, send)
