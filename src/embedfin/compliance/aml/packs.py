"""What every pack of compliance rules shares: a TOML file (shipped by short name, or a path)
validated whole by its Pydantic model, refused with the first place that is wrong (pure)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar
from zoneinfo import available_timezones

from pydantic import BaseModel, ValidationError

from embedfin.core.errors import InvalidInput, UnknownCurrency
from embedfin.core.money import currency
from embedfin.risk.text import checked_text

M = TypeVar("M", bound=BaseModel)


def load_toml(
    name_or_path: str | Path,
    shipped: Mapping[str, Path],
    refused: type[InvalidInput],
    what: str,
) -> tuple[dict[str, object], str]:
    """The TOML of a shipped pack by short name or of a file, and the file's name."""
    path = shipped.get(str(name_or_path), Path(name_or_path))
    if not path.is_file():
        known = ", ".join(sorted(shipped))
        raise refused(f"no {what} {str(name_or_path)!r} (shipped: {known}, or a file)")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), path.name
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise refused(f"{path.name}: not TOML ({error})") from None


def validate(
    model: type[M], data: Mapping[str, object], where: str, refused: type[InvalidInput]
) -> M:
    """``data`` as ``model``, or ``refused`` naming the first field that is wrong."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"]) or "pack"
        raise refused(f"{where}: {place}: {first['msg']}") from None


# --- field checks the packs share (Pydantic validators: ValueError names the problem) --------
def amount(value: object, *, zero: bool = False) -> Decimal:
    """A positive (or, with ``zero``, non-negative) amount below 10^18 with at most 6 decimal
    places (totals are kept in millionths), written as a string or an integer."""
    if isinstance(value, float | bool):
        raise ValueError("write amounts as strings or integers, not floats")
    if not isinstance(value, str | int | Decimal):
        raise ValueError(f"{value!r} is not an amount")
    try:
        found = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not found.is_finite() or found >= 10**18 or found < 0 or (found == 0 and not zero):
        raise ValueError(f"{value!r} must be a positive amount below 10^18")
    if found != found.quantize(Decimal("0.000001"), rounding=ROUND_DOWN):
        raise ValueError(f"{value!r} has more than 6 decimal places")
    return found


def zone(value: str) -> str:
    """An IANA time zone by name (``localtime`` and file paths are not names)."""
    if value in ("localtime", "posixrules", "Factory") or (
        value not in available_timezones() and value != "UTC"
    ):
        raise ValueError(f"{value!r} is not an IANA time zone")
    return value


def currency_code(value: str) -> str:
    """An ISO 4217 code the platform knows."""
    try:
        currency(value)
    except UnknownCurrency:
        raise ValueError(f"{value!r} is not an ISO 4217 currency") from None
    return value


def text(field: str, value: str, max_length: int = 200) -> str:
    """Printable text (no control, format or bidi override characters), as the API takes."""
    try:
        return checked_text(field, value, max_length)
    except InvalidInput as error:
        raise ValueError(str(error)) from None
