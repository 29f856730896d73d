"""Countries by their ISO 3166-1 alpha-2 codes, from ``pycountry``'s copy of the standard.

A code is a country's only if the standard assigns it (``ZZ``, ``XX`` and the other
user-assigned codes are refused), except ``XK``: user-assigned, but the code the European
Commission, SWIFT and the sanctions lists (OpenSanctions' FollowTheMoney data) use for Kosovo.
Pure: no I/O beyond reading the package's data once.
"""

from __future__ import annotations

from functools import cache

import pycountry

from embedfin.core.errors import InvalidInput

#: user-assigned codes in common use as countries
EXTRA = frozenset({"XK"})


@cache
def codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries) | EXTRA


def check_country(value: object, label: str = "country") -> str:
    """``value`` as an upper-case ISO 3166-1 alpha-2 code of a country, or ``InvalidInput``."""
    if not isinstance(value, str) or len(value) != 2 or value.upper() not in codes():
        raise InvalidInput(f"{label} must be an ISO 3166-1 alpha-2 country code, got {value!r}")
    return value.upper()
