"""Tamper-evident audit log of privileged actions (hash chain).

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical JSON, so
changing, removing or reordering any entry breaks every hash after it; ``verify`` recomputes the
chain and names the first entry that does not match. Entries are written inside the unit of work
of the action they record: the action and its audit entry commit together or not at all.
Appends are serialised (SQLite writers are; on PostgreSQL a transaction-scoped advisory lock).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, text

from embedfin.db.tables import audit_log

GENESIS = "0" * 64
_LOCK_KEY = 0x656D626564666E01  # "embedfn\x01": the audit chain's advisory lock


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    tenant: str
    actor: str
    action: str
    target: str
    detail: Mapping[str, object]
    at_ns: int
    prev_hash: str
    hash: str


def entry_hash(
    prev_hash: str,
    seq: int,
    tenant: str,
    actor: str,
    action: str,
    target: str,
    detail: str,
    at_ns: int,
) -> str:
    body = json.dumps(
        [seq, tenant, actor, action, target, detail, at_ns], separators=(",", ":")
    ).encode()
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


def record(
    conn: Connection,
    *,
    tenant: str,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, object],
    at_ns: int,
) -> AuditEntry:
    """Append one entry to the chain inside the caller's transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    body = json.dumps(dict(detail), sort_keys=True, separators=(",", ":"), default=str)
    digest = entry_hash(prev, seq, tenant, actor, action, target, body, at_ns)
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            tenant=tenant,
            actor=actor,
            action=action,
            target=target,
            detail=body,
            at=at_ns,
            prev_hash=prev,
            hash=digest,
        )
    )
    return AuditEntry(seq, tenant, actor, action, target, detail, at_ns, prev, digest)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    entries: int
    ok: bool
    first_bad_seq: int | None
    reason: str


def _rows(conn: Connection, batch: int = 5_000) -> Iterator[Row[Any]]:
    after = 0
    while True:
        rows = conn.execute(
            select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def verify(conn: Connection) -> VerifyReport:
    """Recompute the whole chain; report the first entry that breaks it."""
    prev, expected_seq, count = GENESIS, 1, 0
    for row in _rows(conn):
        r = row
        seq = r.seq
        if seq != expected_seq:
            return VerifyReport(count, False, expected_seq, f"entry {expected_seq} is missing")
        if r.prev_hash != prev:
            return VerifyReport(count, False, seq, "prev_hash does not match the entry before")
        digest = entry_hash(
            prev,
            seq,
            r.tenant,
            r.actor,
            r.action,
            r.target,
            r.detail,
            r.at,
        )
        if digest != r.hash:
            return VerifyReport(count, False, seq, "hash does not match the entry's content")
        prev, expected_seq, count = digest, seq + 1, count + 1
    return VerifyReport(count, True, None, "chain intact")


def list_entries(
    conn: Connection, tenant: str | None, limit: int, starting_after: int | None
) -> tuple[list[AuditEntry], bool]:
    """Newest first; ``tenant=None`` lists every tenant."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit + 1)
    if tenant is not None:
        query = query.where(audit_log.c.tenant == tenant)
    if starting_after is not None:
        query = query.where(audit_log.c.seq < starting_after)
    rows = conn.execute(query).all()
    entries = [
        AuditEntry(
            r.seq,
            r.tenant,
            r.actor,
            r.action,
            r.target,
            json.loads(r.detail),
            r.at,
            r.prev_hash,
            r.hash,
        )
        for r in rows[:limit]
    ]
    return entries, len(rows) > limit


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
