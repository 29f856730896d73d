"""The store of Idempotency-Key answers: what a retry of a POST gets back.

A key belongs to an API key (the *slot* is ``(api key id, Idempotency-Key)``); its row keeps the
hash of the first request (a retry must repeat it exactly) and that request's answer. The
platform's command runner (``api/platform.py``) and the checkout group commit
(``api/group_commit.py``) both use these functions, so neither needs the other.

A row is ``done`` (it holds the answer) or ``running``: a command that talks to a payment channel
between its own commits first *claims* its key in the database (``claim``), so the same key sent
to several processes at once runs once — the others get 409 while the claim's lease runs, the
stored answer after. The claim names its owner and carries a lease: a claim left by a process
that died is taken over once the lease has passed (the effect itself is de-duplicated by its
request id, so running it again finishes what the dead process started).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, text, update

from embedfin.core.errors import IdempotencyMismatch, InvalidInput
from embedfin.db.statements import insert_if_absent
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


class KeyInFlight(Exception):
    """Another request holds this key's claim and its lease has not run out."""


def _slot_row(conn: Connection, slot: Slot) -> Row[Any] | None:
    return conn.execute(
        select(idempotency_keys).where(
            idempotency_keys.c.api_key_id == slot[0],
            idempotency_keys.c.idempotency_key == slot[1],
        )
    ).first()


def _answer(row: Row[Any], digest: str, now_ns: int) -> tuple[int, Body] | None:
    """The stored answer of a row; None for a claim whose lease has run out (take it over)."""
    if row.request_hash != digest:
        raise IdempotencyMismatch(
            "this Idempotency-Key was used with other parameters; use a new key"
        )
    if row.state == "running":
        if row.lease_until is not None and row.lease_until > now_ns:
            raise KeyInFlight
        return None
    body: Body = json.loads(row.response_body)
    return row.status_code, body


def stored_response(
    conn: Connection, slot: Slot, digest: str, now_ns: int
) -> tuple[int, Body] | None:
    """The stored answer of a key, if any; a different request under the key is refused, a
    live claim raises ``KeyInFlight`` and a claim left by a dead process is dropped."""
    row = _slot_row(conn, slot)
    if row is None:
        return None
    answer = _answer(row, digest, now_ns)
    if answer is None:
        _drop_claim(conn, slot, row.owner)
    return answer


def claim(
    conn: Connection, slot: Slot, digest: str, owner: str, now_ns: int, lease_ns: int
) -> tuple[int, Body] | None:
    """Claim a key for ``owner`` (None: claimed, run the effect) or give its stored answer.

    Raises ``KeyInFlight`` while another owner's lease runs and ``IdempotencyMismatch`` for
    other parameters. Commit the claim before the effect: other processes must see it."""
    values = {
        "api_key_id": slot[0],
        "idempotency_key": slot[1],
        "request_hash": digest,
        "state": "running",
        "owner": owner,
        "lease_until": now_ns + lease_ns,
        "created_at": now_ns,
    }
    if insert_if_absent(conn, idempotency_keys, values):
        return None
    row = _slot_row(conn, slot)
    if row is None:  # the holder gave it up meanwhile: try once more
        if insert_if_absent(conn, idempotency_keys, values):
            return None
        raise KeyInFlight
    answer = _answer(row, digest, now_ns)
    if answer is not None:
        return answer
    taken = conn.execute(
        update(idempotency_keys)
        .where(*_owned(slot, row.owner), idempotency_keys.c.state == "running")
        .values(owner=owner, lease_until=now_ns + lease_ns)
    ).rowcount
    if taken != 1:
        raise KeyInFlight
    return None


def finish(conn: Connection, slot: Slot, owner: str, status: int, body: Body) -> bool:
    """Store the answer of a claimed key; False when the claim was taken over meanwhile."""
    done = conn.execute(
        update(idempotency_keys)
        .where(*_owned(slot, owner), idempotency_keys.c.state == "running")
        .values(
            state="done",
            owner=None,
            lease_until=None,
            status_code=status,
            response_body=json.dumps(body, separators=(",", ":"), default=str),
        )
    ).rowcount
    return done == 1


def release(conn: Connection, slot: Slot, owner: str) -> None:
    """Give a claim up without an answer (the effect failed unexpectedly: a retry runs it)."""
    _drop_claim(conn, slot, owner)


def _drop_claim(conn: Connection, slot: Slot, owner: str | None) -> None:
    conn.execute(
        delete(idempotency_keys).where(*_owned(slot, owner), idempotency_keys.c.state == "running")
    )


def _owned(slot: Slot, owner: str | None) -> tuple[Any, ...]:
    t = idempotency_keys.c
    mine = t.owner.is_(None) if owner is None else t.owner == owner
    return (t.api_key_id == slot[0], t.idempotency_key == slot[1], mine)


def stale_claims(conn: Connection, now_ns: int) -> int:
    """How many claims have outlived their lease (a process died holding them)."""
    t = idempotency_keys.c
    return int(
        conn.execute(
            select(func.count()).where(t.state == "running", t.lease_until <= now_ns)
        ).scalar_one()
    )


def stored_responses(conn: Connection, slots: Sequence[Slot]) -> dict[Slot, Row[Any]]:
    """The rows of many keys at once, by key (``stored_answer`` reads one)."""
    found: dict[Slot, Row[Any]] = {}
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
                found[(api_key, row.idempotency_key)] = row
    return found


def stored_answer(
    conn: Connection, slot: Slot, row: Row[Any], digest: str, now_ns: int
) -> tuple[int, Body] | None:
    """The answer a row of ``stored_responses`` holds for this request (as ``stored_response``)."""
    answer = _answer(row, digest, now_ns)
    if answer is None:
        _drop_claim(conn, slot, row.owner)
    return answer


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
                "state": "done",
                "created_at": now_ns,
            }
            for slot, digest, status, body in answers
        ],
    )


def purge_responses(conn: Connection, cutoff_ns: int) -> int:
    """Forget the answers stored before the cut-off; how many were dropped."""
    t = idempotency_keys.c
    gone = conn.execute(delete(idempotency_keys).where(t.created_at < cutoff_ns, t.state == "done"))
    return int(gone.rowcount or 0)
