"""What every pack of compliance rules shares: a TOML file (shipped by short name, or a path)
validated whole by its Pydantic model, refused with the first place that is wrong (pure)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from embedfin.core.errors import InvalidInput

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
