"""Unexpected errors logged by where they happened, never by what they carry.

An exception's message holds the data that provoked it: a SQLAlchemy error quotes the statement's
parameters (review text, buyer ids), a PostgreSQL ``UniqueViolation`` the duplicate key's
value, a ``ValueError`` the input it refused. Logs must never hold request bodies or personal
data, so an unexpected error is logged as its type, the route, the request id and the frames of
its traceback (file, line, function, source line) — the same for each exception it was raised
from. That is enough to find the bug; the data to reproduce it stays in the database.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

#: How many chained exceptions (``raise … from``, errors during handling) are followed.
MAX_CHAIN = 8


def type_name(error: BaseException) -> str:
    kind = type(error)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def scrubbed_traceback(error: BaseException) -> str:
    """The traceback of ``error`` and of the exceptions it came from, each exception named by
    its type only (no message, no arguments, no locals)."""
    parts: list[str] = []
    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen and len(parts) < MAX_CHAIN:
        seen.add(id(current))
        frames = "".join(
            traceback.StackSummary.extract(traceback.walk_tb(current.__traceback__)).format()
        )
        parts.append(f"Traceback (most recent call last):\n{frames}{type_name(current)}")
        if current.__cause__ is not None:
            current = current.__cause__
        else:
            current = None if current.__suppress_context__ else current.__context__
    return "\n\nwhich was raised from:\n\n".join(parts)


def log_failure(logger: logging.Logger, what: str, error: BaseException, **fields: Any) -> None:
    """Log ``what`` failed with ``error`` at ERROR: type and frames only, plus ``fields``
    (route template, request id — never values from the request)."""
    logger.error(
        "%s: %s",
        what,
        type_name(error),
        extra={
            "fields": {
                "error": type_name(error),
                "traceback": scrubbed_traceback(error),
                **fields,
            }
        },
    )
