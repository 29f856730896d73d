"""Strict checks for the free text a caller hands the risk context.

Device ids, user agents, addresses and string features come from browsers and SDKs the platform
does not control. They end up in counters' keys, case evidence and the risk officer's pages, so
they are refused — not cleaned — when they could smuggle something in: control characters (a
newline splitting a log line, a NUL truncating a key), Unicode format characters (a bidi override
making ``evil.com`` read as ``moc.live``), lone surrogates, or a length that would blow up a key.
"""

from __future__ import annotations

import unicodedata

from embedfin.core.errors import InvalidInput

#: Unicode categories refused anywhere: controls, format characters, surrogates, and the line and
#: paragraph separators that split a line just as ``\n`` does.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def checked_text(field: str, value: object, max_length: int, *, multiline: bool = False) -> str:
    """``value`` if it is a non-blank string of at most ``max_length`` characters without control
    or format characters (``multiline``: line breaks and tabs allowed, as in a note); otherwise
    :class:`InvalidInput` naming ``field`` and the problem."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInput(f"{field} is blank; leave it out instead")
    if len(value) > max_length:
        raise InvalidInput(f"{field} is {len(value)} characters long; at most {max_length}")
    for position, char in enumerate(value):
        if multiline and char in "\n\r\t":  # as the API's multi-line fields take them
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            raise InvalidInput(
                f"{field} contains the control character U+{ord(char):04X} at {position}"
            )
    return value
