"""The store of Idempotency-Key answers: what a retry of a POST gets back.

A key belongs to an API key (the *slot* is ``(api key id, Idempotency-Key)``); its row keeps the
hash of the first request (a retry must repeat it exactly) and that request's answer. The
platform's command runner (``api/platform.py``) and the checkout group commit
(``api/group_commit.py``) both use these functions, so neither needs the other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, text

from embedfin.core.errors import IdempotencyMismatch, InvalidInput
from embedfin.db.tables import idempotency_keys

Body = dict[str, Any]
Slot = tuple[str, str]


def check_idempotency_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not key.isprintable() or not key.isascii():
        raise InvalidInput("Idempotency-Key must be 1-255 printable ASCII characters")


def fingerprint_digest(fingerprint: Body) -> str:
    """What a retry must repeat exactly: a hash of the request's method, path and parameters."""
    canonical = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def holds_key_lock(conn: Connection, slot: Slot) -> bool:
    """On PostgreSQL, take the key's transaction-scoped advisory lock if no other process holds
    it (several API processes may share the database); SQLite has one writer anyway."""
    if conn.dialect.name != "postgresql":
        return True
    lock = int.from_bytes(hashlib.sha256(repr(slot).encode()).digest()[:8], "big") - (1 << 63)
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock}).scalar())


def stored_response(conn: Connection, slot: Slot, digest: str) -> tuple[int, Body] | None:
    """The stored answer of a key, if any; a different request under the key is refused."""
    row = conn.execute(
        select(idempotency_keys).where(
            idempotency_keys.c.api_key_id == slot[0],
            idempotency_keys.c.idempotency_key == slot[1],
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyMismatch(
            "this Idempotency-Key was used with other parameters; use a new key"
        )
    body: Body = json.loads(row.response_body)
    return row.status_code, body


def stored_responses(conn: Connection, slots: Sequence[Slot]) -> dict[Slot, tuple[str, int, Body]]:
    """Stored answers of many keys at once: (request hash, status, body) by key."""
    found: dict[Slot, tuple[str, int, Body]] = {}
    by_api_key: dict[str, list[str]] = {}
    for api_key, key in slots:
        by_api_key.setdefault(api_key, []).append(key)
    t = idempotency_keys
    for api_key, keys in by_api_key.items():
        for start in range(0, len(keys), 500):
            rows = conn.execute(
                select(t).where(
                    t.c.api_key_id == api_key, t.c.idempotency_key.in_(keys[start : start + 500])
                )
            ).all()
            for row in rows:
                found[(api_key, row.idempotency_key)] = (
                    row.request_hash,
                    row.status_code,
                    json.loads(row.response_body),
                )
    return found


def insert_responses(
    conn: Connection, answers: Sequence[tuple[Slot, str, int, Body]], now_ns: int
) -> None:
    """Keep the answers to Idempotency-Keys (one statement for many)."""
    if not answers:
        return
    conn.execute(
        insert(idempotency_keys),
        [
            {
                "api_key_id": slot[0],
                "idempotency_key": slot[1],
                "request_hash": digest,
                "status_code": status,
                "response_body": json.dumps(body, separators=(",", ":"), default=str),
                "created_at": now_ns,
            }
            for slot, digest, status, body in answers
        ],
    )


def purge_responses(conn: Connection, cutoff_ns: int) -> int:
    """Forget the answers stored before the cut-off; how many were dropped."""
    gone = conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff_ns))
    return int(gone.rowcount or 0)
