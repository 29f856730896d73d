"""What every body shares: money and text fields, timestamps, the error answers, pages.

Amounts are integer minor units with an ISO 4217 currency; timestamps are RFC 3339 UTC; every
object names its type in ``object``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.money import MAX_AMOUNT_MINOR

T = TypeVar("T")

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[int, Field(gt=0, le=MAX_AMOUNT_MINOR, description="minor units")]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Text200 = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
ObjectId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Limit = Annotated[int, Field(ge=1, le=100)]


def ts(ns: int) -> datetime | None:
    """Nanoseconds since the epoch → aware UTC datetime (None for "not yet")."""
    if ns <= 0:
        return None
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details; ``code`` is stable, match on it."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str
    errors: list[dict[str, Any]] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
    }


#: Error answers every /v1 operation may give, documented once.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("the body is not valid JSON"),
    401: _problem("missing, unknown or revoked API key"),
    402: _problem("insufficient funds or payment declined"),
    403: _problem("the key's role lacks the scope"),
    404: _problem("no such object for this caller (also another tenant's ids)"),
    409: _problem("state conflict, or the Idempotency-Key is in flight"),
    422: _problem("invalid request, or the Idempotency-Key was used with other parameters"),
    429: _problem("rate limited; see Retry-After"),
    500: _problem("internal error"),
    503: _problem("a payment channel is unreachable; nothing moved, retry the same request"),
}


class Page(BaseModel, Generic[T]):
    object: Literal["list"] = "list"
    data: list[T]
    has_more: bool
