"""Tamper-evident audit log of privileged actions: a keyed hash chain, anchored outside.

Each entry's ``hash`` is an HMAC-SHA256, under a key held outside the database
(``audit_keys``), over the previous entry's hash, its sequence number, its key id and its
content (``audit_chain``), so a database writer can neither change, remove, renumber, reorder
nor append an entry without ``verify`` naming the first one that no longer matches. Cutting off
the newest entries leaves a valid chain; the signed checkpoints of the head written outside the
database (``audit_checkpoints``) name a seq and hash that then no longer exist.

Entries written before keying (``key_id`` NULL) verify in the old, unkeyed SHA-256 scheme as a
prefix of the chain, up to the first keyed entry; see ``audit_chain``.

Entries are written inside the unit of work of the action they record: the action and its audit
entry commit together or not at all. Appends are serialised (SQLite writers are; on PostgreSQL a
transaction-scoped advisory lock).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Row, func, insert, select, text

from embedfin.db.tables import audit_log
from embedfin.security.audit_chain import (
    GENESIS,
    Break,
    ChainEntry,
    ChainState,
    keyed_hash,
    step,
)
from embedfin.security.audit_keys import AuditKeys, load_audit_keys

__all__ = ["GENESIS", "AuditEntry", "VerifyReport", "count", "list_entries", "record", "verify"]

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
    key_id: str | None = None


def record(
    conn: Connection,
    *,
    tenant: str,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, object],
    at_ns: int,
    keys: AuditKeys | None = None,
) -> AuditEntry:
    """Append one entry to the chain inside the caller's transaction, keyed by the primary key
    of ``keys`` (default: the configured ring, ``audit_keys.load_audit_keys``)."""
    ring = keys or load_audit_keys()
    assert ring is not None  # load_audit_keys creates a development ring when none is set
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    body = json.dumps(dict(detail), sort_keys=True, separators=(",", ":"), default=str)
    digest = keyed_hash(
        ring.primary_key, ring.primary, prev, seq, tenant, actor, action, target, body, at_ns
    )
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
            key_id=ring.primary,
        )
    )
    return AuditEntry(seq, tenant, actor, action, target, detail, at_ns, prev, digest, ring.primary)


class Anchor(Protocol):
    """A head recorded outside the database (a signed checkpoint): seq, its hash, when."""

    @property
    def seq(self) -> int: ...
    @property
    def head(self) -> str: ...
    @property
    def at_ns(self) -> int: ...


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What ``verify`` found.

    Attributes:
        entries: entries verified (from the start, or after the anchor ``verify`` resumed at).
        first_bad_seq: the first entry that breaks the chain (for a truncation: the first
            missing one); ``None`` when intact.
        legacy_entries: entries of the unkeyed scheme from before keying (a prefix).
        head_seq, head_hash: the last verified entry (0 and ``GENESIS`` for an empty log).
        checkpoints: anchors (checkpoints) whose head was found in the chain.
    """

    entries: int
    ok: bool
    first_bad_seq: int | None
    reason: str
    legacy_entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    checkpoints: int = 0


def _rows(conn: Connection, after: int = 0, batch: int = 5_000) -> Iterator[Row[Any]]:
    while True:
        rows = conn.execute(
            select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def _entry(r: Row[Any]) -> ChainEntry:
    return ChainEntry(
        r.seq, r.tenant, r.actor, r.action, r.target, r.detail, r.at, r.prev_hash, r.hash, r.key_id
    )


def _resume(conn: Connection, after: Anchor) -> ChainState | Break:
    """The state at a trusted anchor, when the entry it names is still there unchanged."""
    if after.seq == 0:
        return ChainState()
    row = conn.execute(select(audit_log).where(audit_log.c.seq == after.seq)).first()
    if row is None:
        return Break(after.seq, f"entry {after.seq} named by the latest checkpoint is missing")
    if row.hash != after.head:
        return Break(after.seq, f"entry {after.seq} differs from the latest checkpoint's head")
    return ChainState(row.seq, row.hash, row.key_id is not None)


def _anchor_break(anchor: Anchor, state: ChainState) -> Break | None:
    """``anchor`` (at or before the state's seq) against the chain; a break when it differs."""
    if anchor.seq == state.seq and anchor.head == state.head:
        return None
    return Break(
        anchor.seq,
        f"the checkpoint at entry {anchor.seq} (at_ns {anchor.at_ns}) names head "
        f"{anchor.head[:16]}…, the log has {state.head[:16]}…: entries up to {anchor.seq} "
        "were rewritten",
    )


def verify(
    conn: Connection,
    keys: Mapping[str, bytes] | None = None,
    checkpoints: Sequence[Anchor] = (),
    *,
    after: Anchor | None = None,
) -> VerifyReport:
    """Recompute the chain (from the start, or after the trusted anchor ``after``) and check
    every checkpoint's head against it; report the first entry that breaks it.

    ``keys`` defaults to the configured audit key ring; a keyed entry whose key is not there
    fails (it cannot be verified), so verify where the writer's key is available.
    """
    if keys is None:
        ring = load_audit_keys(create=False)
        keys = ring.keys if ring is not None else {}
    pending = deque(sorted(checkpoints, key=lambda c: c.seq))
    state = _resume(conn, after) if after is not None else ChainState()
    if isinstance(state, Break):
        return VerifyReport(0, False, state.seq, state.reason)
    first_seq, checked = state.seq, 0
    while pending and pending[0].seq <= state.seq:  # the empty log's, or before ``after``
        anchor = pending.popleft()
        if anchor.seq == state.seq:
            if (found := _anchor_break(anchor, state)) is not None:
                return _broken(state, first_seq, found, checked)
            checked += 1
    for row in _rows(conn, state.seq):
        result = step(state, _entry(row), keys)
        if isinstance(result, Break):
            return _broken(state, first_seq, result, checked)
        state = result
        while pending and pending[0].seq <= state.seq:
            if (found := _anchor_break(pending.popleft(), state)) is not None:
                return _broken(state, first_seq, found, checked)
            checked += 1
    if pending:
        newest = pending[-1]
        gone = Break(
            state.seq + 1,
            f"entries {state.seq + 1}..{newest.seq} named by a checkpoint (at_ns "
            f"{newest.at_ns}) are missing: the newest entries were removed",
        )
        return _broken(state, first_seq, gone, checked)
    return VerifyReport(
        state.seq - first_seq,
        True,
        None,
        "chain intact",
        state.legacy_entries,
        state.seq,
        state.head,
        checked,
    )


def _broken(state: ChainState, first_seq: int, found: Break, checked: int) -> VerifyReport:
    return VerifyReport(
        state.seq - first_seq,
        False,
        found.seq,
        found.reason,
        state.legacy_entries,
        state.seq,
        state.head,
        checked,
    )


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
            r.key_id,
        )
        for r in rows[:limit]
    ]
    return entries, len(rows) > limit


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
