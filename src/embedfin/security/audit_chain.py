"""The audit chain's rules: how an entry's hash is made and how one entry is checked (pure).

Two schemes share one chain, told apart by the row's ``key_id``:

* **keyed** (``key_id`` set): ``hash = HMAC-SHA256(key, "embedfin-audit-v2" ‖ prev_hash ‖
  JSON[seq, key_id, tenant, actor, action, target, detail, at_ns])``. The key is held outside the
  database, so a database writer who edits, renumbers or appends entries cannot make hashes that
  verify; the sequence number and the key id are inside the MAC, so neither renumbering nor
  relabelling an entry with another key goes unnoticed. Several keys may verify (rotation: a new
  key signs new entries, old entries keep verifying under the key their row names).
* **legacy** (``key_id`` NULL): ``hash = SHA-256(prev_hash ‖ JSON[seq, tenant, actor, action,
  target, detail, at_ns])``, the unkeyed scheme of entries written before migration
  ``0022_audit_key_id``. Anyone can recompute it, so it is accepted only as a *prefix*: the chain
  may start with legacy entries, and the first keyed entry's MAC covers the legacy head as its
  ``prev_hash``; a legacy entry after any keyed entry is refused (that is what a forged append
  or a recomputed edit in the old scheme looks like). Rewriting the *whole* chain in the legacy
  scheme changes the head hash, which the signed checkpoints (``audit_checkpoints``) catch.

``step`` checks one entry against the state the entries before it left; the store
(``audit.verify``) feeds it rows in ``seq`` order and stops at the first ``Break``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

GENESIS = "0" * 64
_DOMAIN = b"embedfin-audit-v2\n"


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """One stored entry as the chain sees it.

    Attributes:
        detail: the canonical JSON text exactly as stored (the hash covers these bytes).
        key_id: the audit key whose HMAC ``hash`` is; ``None`` for a legacy SHA-256 entry.
    """

    seq: int
    tenant: str
    actor: str
    action: str
    target: str
    detail: str
    at_ns: int
    prev_hash: str
    hash: str
    key_id: str | None


@dataclass(frozen=True, slots=True)
class ChainState:
    """What the entries checked so far leave: the last seq, its hash, and whether any was keyed."""

    seq: int = 0
    head: str = GENESIS
    keyed: bool = False
    legacy_entries: int = 0


@dataclass(frozen=True, slots=True)
class Break:
    """The first entry that does not verify, and why (for a person reading ``audit verify``)."""

    seq: int
    reason: str


def legacy_hash(
    prev_hash: str,
    seq: int,
    tenant: str,
    actor: str,
    action: str,
    target: str,
    detail: str,
    at_ns: int,
) -> str:
    """The unkeyed SHA-256 of entries written before keying (kept to verify them)."""
    body = json.dumps(
        [seq, tenant, actor, action, target, detail, at_ns], separators=(",", ":")
    ).encode()
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


def keyed_hash(
    key: bytes,
    key_id: str,
    prev_hash: str,
    seq: int,
    tenant: str,
    actor: str,
    action: str,
    target: str,
    detail: str,
    at_ns: int,
) -> str:
    """HMAC-SHA256 of one entry under the audit key ``key_id``."""
    body = json.dumps(
        [seq, key_id, tenant, actor, action, target, detail, at_ns], separators=(",", ":")
    ).encode()
    message = _DOMAIN + prev_hash.encode() + b"\n" + body
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def expected_hash(entry: ChainEntry, key: bytes | None) -> str:
    """The hash ``entry`` must carry: keyed under ``key``, or legacy when it names no key."""
    fields = (entry.tenant, entry.actor, entry.action, entry.target, entry.detail, entry.at_ns)
    if entry.key_id is None:
        return legacy_hash(entry.prev_hash, entry.seq, *fields)
    if key is None:
        raise ValueError("a keyed entry needs its key")
    return keyed_hash(key, entry.key_id, entry.prev_hash, entry.seq, *fields)


def step(state: ChainState, entry: ChainEntry, keys: Mapping[str, bytes]) -> ChainState | Break:
    """Check ``entry`` as the successor of ``state``; the new state, or the reason it breaks."""
    expected_seq = state.seq + 1
    if entry.seq != expected_seq:
        return Break(expected_seq, f"entry {expected_seq} is missing (next stored is {entry.seq})")
    if entry.prev_hash != state.head:
        return Break(entry.seq, "prev_hash does not match the entry before")
    if entry.key_id is None:
        if state.keyed:
            return Break(entry.seq, "unkeyed (legacy) entry after keyed entries")
        if not _same(expected_hash(entry, None), entry.hash):
            return Break(entry.seq, "hash does not match the entry's content (legacy SHA-256)")
        return ChainState(entry.seq, entry.hash, False, state.legacy_entries + 1)
    key = keys.get(entry.key_id)
    if key is None:
        return Break(entry.seq, f"entry is keyed with {entry.key_id!r}, not in the audit key ring")
    if not _same(expected_hash(entry, key), entry.hash):
        return Break(entry.seq, f"HMAC does not match the entry's content (key {entry.key_id!r})")
    return ChainState(entry.seq, entry.hash, True, state.legacy_entries)


def _same(expected: str, stored: str) -> bool:
    """Constant-time, and a stored hash of any characters is just a mismatch, never an error."""
    return hmac.compare_digest(expected.encode(), stored.encode("utf-8", "surrogatepass"))
