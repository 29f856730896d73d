"""Webhook signatures: ``Embedfin-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]``.

``v1`` is HMAC-SHA256 under an endpoint secret of ``"<t>." + body``. While a secret is being
rotated every live secret signs, so a receiver holding either one verifies. Receivers reject a
timestamp more than ``tolerance_s`` (300 s) away from their clock: a captured delivery cannot be
replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

HEADER = "Embedfin-Signature"
TOLERANCE_S = 300


class SignatureError(Exception):
    """The payload is not signed by a secret we hold, or the timestamp is out of tolerance."""


def compute(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header_value(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={compute(s, timestamp, body)}" for s in secrets)])


def verify(
    body: bytes,
    header: str,
    secrets: str | Sequence[str],
    *,
    tolerance_s: int = TOLERANCE_S,
    now: float | None = None,
) -> int:
    """Check a delivery; returns its timestamp or raises ``SignatureError``."""
    held = [secrets] if isinstance(secrets, str) else list(secrets)
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("malformed timestamp") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("header needs t= and at least one v1=")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError("timestamp outside the tolerance")
    for secret in held:
        expected = compute(secret, timestamp, body)
        if any(hmac.compare_digest(expected, s) for s in signatures):
            return timestamp
    raise SignatureError("no signature matches a secret we hold")
