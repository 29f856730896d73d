"""What every body shares: money and text fields, timestamps, the error answers, pages.

Amounts are integer minor units with an ISO 4217 currency; timestamps are RFC 3339 UTC; every
object names its type in ``object``.

Request bodies are strict, because a lenient parser silently changes what a client meant:
``"25.00"`` read as 25 minor units is €0.25. So every integer of a request is a JSON integer
(no strings, booleans or floats: ``Strict()``), no string of a request carries a control
character (``Model`` checks every field; see ``control_character``), and names are never blank
(whitespace, no-break spaces and invisible format characters alone do not make a name).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.money import MAX_AMOUNT_MINOR

T = TypeVar("T")

#: C0 and C1 controls, DEL, the Unicode line and paragraph separators, the bidirectional
#: embeddings, overrides and isolates (they reorder what a reader sees), and lone surrogates
#: (no encoding can store them: PostgreSQL answers an error).
_CONTROLS = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_ANY_CONTROL = re.compile(f"[\\x00-\\x1f{_CONTROLS}]")
#: Multi-line text (a review, a statement file) may hold tabs and line breaks, nothing else.
_LINE_CONTROL = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f{_CONTROLS}]")


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first control character in ``text`` (as ``U+XXXX``), or None if it has none."""
    found = (_LINE_CONTROL if multiline else _ANY_CONTROL).search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def _no_controls(text: str) -> str:
    found = control_character(text)
    if found is not None:
        raise ValueError(f"control character {found} is not allowed")
    return text


def _not_blank(text: str) -> str:
    """A name needs one visible character: spaces of any kind (U+00A0, U+3000, …) and
    invisible format characters (U+200B, U+FEFF, …) alone are blank."""
    for char in text:
        if not char.isspace() and unicodedata.category(char) != "Cf":
            return text
    raise ValueError("must not be blank")


Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[int, Strict(), Field(gt=0, le=MAX_AMOUNT_MINOR, description="minor units")]
#: A non-negative amount (a price of 0, a fee of 0, a limit lowered to 0).
AmountOrZero = Annotated[int, Strict(), Field(ge=0, le=MAX_AMOUNT_MINOR, description="minor units")]
#: One line of text a person reads (a name, a reason, a SKU): never blank.
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_no_controls),
    AfterValidator(_not_blank),
]
Text200 = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_no_controls),
    AfterValidator(_not_blank),
]
ObjectId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


def _decimal_digits(value: object) -> object:
    """A number of a path or query arrives as text: only plain decimal digits are a number
    (pydantic's lax mode would read ``2.0``, ``+1``, ``01`` or `` 1`` as one)."""
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ValueError("a whole number in decimal digits, no sign, point or leading zero")
    return value


#: An integer of a path or query: decimal digits only.
Whole = Annotated[int, BeforeValidator(_decimal_digits)]
Limit = Annotated[Whole, Field(ge=1, le=100)]  # a query parameter: arrives as text


def ts(ns: int) -> datetime | None:
    """Nanoseconds since the epoch → aware UTC datetime (None for "not yet")."""
    if ns <= 0:
        return None
    return datetime.fromtimestamp(ns / NS_PER_SECOND, tz=UTC)


class Model(BaseModel):
    """A request body: unknown fields refused, no control character in any string.

    ``multiline_fields`` names the fields that may hold tabs and line breaks."""

    model_config = ConfigDict(extra="forbid")
    multiline_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        multiline = info.field_name in cls.multiline_fields
        for text in value if isinstance(value, list) else (value,):
            if isinstance(text, str):
                found = control_character(text, multiline=multiline)
                if found is not None:
                    raise ValueError(f"control character {found} is not allowed")
        return value


class Problem(BaseModel):
    """RFC 9457 problem details; ``code`` is stable, match on it."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str
    errors: list[dict[str, Any]] | None = None
    request_id: str | None = None  # on a 500: quote it to find the error in the logs
    decision_id: str | None = None  # a risk refusal: the decision it rests on
    reasons: list[str] | None = None  # … its reason codes
    challenge_id: str | None = None  # challenge_required: answer it, then retry
    case_id: str | None = None  # held_for_review: the case a person decides


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
    413: _problem("the request body is larger than the route takes (1 MiB; 4 MiB for a list)"),
    422: _problem("invalid request, or the Idempotency-Key was used with other parameters"),
    429: _problem("rate limited; see Retry-After"),
    500: _problem("internal error"),
    503: _problem("a payment channel is unreachable; nothing moved, retry the same request"),
}


class Page(BaseModel, Generic[T]):
    object: Literal["list"] = "list"
    data: list[T]
    has_more: bool
