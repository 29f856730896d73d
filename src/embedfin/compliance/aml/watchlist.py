"""Watchlists in the FollowTheMoney format: one JSON entity per line, as OpenSanctions publishes
its ``entities.ftm.json`` (https://www.opensanctions.org/docs/bulk/json).

Each line is ``{"id": …, "schema": …, "properties": {name: [values…]}, "datasets": […]}``.
People and organisations (``Person``, ``Organization``, ``Company``, ``LegalEntity``,
``PublicBody``) are read with their ``name``, ``alias`` and ``previousName`` (``weakAlias`` is
left out, as too weak to screen on), ``birthDate``, ``country`` / ``nationality`` /
``citizenship`` / ``jurisdiction`` and ``topics``; other entities of the graph (sanctions,
addresses, identifications) are skipped. A line that is not such an object is refused with its
number and reason, and nothing of the file is used.

``SHIPPED`` is a small synthetic list (made-up people and companies, no real person's name):
the real lists' licences are for their users to obtain. Pure but for ``read_file``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from embedfin.compliance.aml.screening import (
    ORGANIZATION_SCHEMAS,
    PERSON_SCHEMAS,
    WatchEntry,
)
from embedfin.core.errors import InvalidInput

SHIPPED = Path(__file__).with_name("data") / "synthetic_watchlist.ftm.json"
NAME_PROPERTIES = ("name", "alias", "previousName")
COUNTRY_PROPERTIES = ("country", "nationality", "citizenship", "jurisdiction")
#: A list larger than this is refused (about the size of OpenSanctions' default collection
#: times four).
MAX_ENTITIES = 5_000_000


class WatchlistInvalid(InvalidInput):
    code = "watchlist_invalid"


@dataclass(frozen=True, slots=True)
class ParsedList:
    """The entries of a list, the digest of its text (its identity), and what was skipped."""

    entries: tuple[WatchEntry, ...]
    digest: str
    skipped: int


def _strings(props: dict[str, object], key: str, line: int) -> tuple[str, ...]:
    values = props.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise WatchlistInvalid(f"line {line}: property {key} must be a list of strings")
    return tuple(v.strip() for v in values if v.strip())


def _entry(obj: object, line: int) -> WatchEntry | None:
    if not isinstance(obj, dict):
        raise WatchlistInvalid(f"line {line}: not a JSON object")
    entity_id, schema, props = obj.get("id"), obj.get("schema"), obj.get("properties", {})
    if not isinstance(entity_id, str) or not entity_id.strip() or len(entity_id) > 200:
        raise WatchlistInvalid(f"line {line}: id must be a non-empty string of 200 at most")
    if not isinstance(schema, str):
        raise WatchlistInvalid(f"line {line}: schema must be a string")
    if not isinstance(props, dict):
        raise WatchlistInvalid(f"line {line}: properties must be an object")
    if schema not in PERSON_SCHEMAS | ORGANIZATION_SCHEMAS:
        return None
    names = tuple(dict.fromkeys(n for key in NAME_PROPERTIES for n in _strings(props, key, line)))
    if not names:
        raise WatchlistInvalid(f"line {line}: {schema} {entity_id} has no name")
    datasets = obj.get("datasets", [])
    if not isinstance(datasets, list) or not all(isinstance(d, str) for d in datasets):
        raise WatchlistInvalid(f"line {line}: datasets must be a list of strings")
    countries = tuple(
        dict.fromkeys(c.lower() for key in COUNTRY_PROPERTIES for c in _strings(props, key, line))
    )
    caption = obj.get("caption")
    return WatchEntry(
        entity_id.strip(),
        schema,
        caption if isinstance(caption, str) and caption.strip() else names[0],
        names,
        birth_dates=_strings(props, "birthDate", line),
        countries=countries,
        topics=_strings(props, "topics", line),
        datasets=tuple(datasets),
    )


def read_ftm(lines: Iterable[str]) -> ParsedList:
    """The people and organisations of a FollowTheMoney file, or ``WatchlistInvalid``."""
    digest = hashlib.sha256()
    entries: dict[str, WatchEntry] = {}
    skipped = 0
    for number, text in enumerate(lines, start=1):
        digest.update(text.rstrip("\n").encode() + b"\n")
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except ValueError as error:
            raise WatchlistInvalid(f"line {number}: not JSON ({error})") from None
        entry = _entry(obj, number)
        if entry is None:
            skipped += 1
            continue
        if entry.entity_id in entries:
            raise WatchlistInvalid(f"line {number}: entity {entry.entity_id} appears twice")
        entries[entry.entity_id] = entry
        if len(entries) > MAX_ENTITIES:
            raise WatchlistInvalid(f"more than {MAX_ENTITIES:,} entities")
    if not entries:
        raise WatchlistInvalid("the list holds no person or organisation")
    return ParsedList(tuple(entries.values()), digest.hexdigest(), skipped)


def read_file(path: Path) -> ParsedList:
    try:
        with path.open(encoding="utf-8") as f:
            return read_ftm(f)
    except (OSError, UnicodeDecodeError) as error:
        raise WatchlistInvalid(f"{path}: cannot be read ({error})") from None
