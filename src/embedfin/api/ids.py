"""Object ids with a type prefix (``ord_…``, ``cus_…``): time-ordered, so newest-first listings
page by id alone."""

from __future__ import annotations

import re

from embedfin.core.ids import new_id

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_ID = re.compile(r"^[a-z]{2,5}_[0-9a-hjkmnp-tv-z]{26}$")


def object_id(prefix: str) -> str:
    value = new_id()
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and bool(_ID.match(value))
