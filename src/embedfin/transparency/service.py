"""The transparency log service: appends, signed checkpoints, proofs, witnesses.

* **Logs** are named per tenant (``scf``, ``audit``, or one of the tenant's own); each has an
  origin ``<prefix>/<tenant>/<log>`` that its checkpoints carry, so a checkpoint of one log can
  never pass for another's. A log exists from its first append.
* **Appends** (:meth:`TransparencyLog.append_in`) run in the caller's unit of work — a
  certificate event and its log entry commit together or not at all. The log's row is locked
  (``FOR UPDATE`` on PostgreSQL; SQLite's write lock is the transaction's), the frontier's
  complete nodes read in one query, and the entries and every node they complete written in two
  bulk inserts: a batch costs a few statements, whatever its size.
* **Checkpoints** (:meth:`checkpoint`) are C2SP checkpoint notes signed with the log's Ed25519
  key (``EMBEDFIN_LOG_SIGNING_KEY``, or the development key ``embedfin-data/log-signing-key``),
  one stored per size signed.
* **Proofs** are read, never recomputed: the stored complete nodes a proof needs
  (``merkle.inclusion_plan`` / ``consistency_plan``) in one query, folded. A size beyond the
  tree is refused.
* **Witnesses** (:meth:`add_witness`, :meth:`cosign`; ``witnesses.py``): a party the log's
  owner registered by its verifier key, that checked a checkpoint's consistency with the last
  one it cosigned, adds its signature; the log keeps it beside the checkpoint and serves the
  note with every cosignature. A log with a witness is public (served by origin).
* **The platform's logs** (tenant ``_platform``: ``audit``) are signed as they are appended
  (:meth:`append_signed`) and always public.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, bindparam, insert, select, union_all, update

from embedfin.core.clock import Clock
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import (
    tlog_checkpoints,
    tlog_cosignatures,
    tlog_entries,
    tlog_logs,
    tlog_nodes,
)
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.security.audit_keys import load_signing_key
from embedfin.transparency import checkpoints, merkle, witnesses
from embedfin.transparency.checkpoints import Checkpoint, CheckpointInvalid, Verifier
from embedfin.transparency.witnesses import Witness

#: The platform's own logs (``audit``: the audit log's signed checkpoints) live under this
#: tenant, which no API key belongs to.
PLATFORM = "_platform"
SIGNING_ENV = "EMBEDFIN_LOG_SIGNING_KEY"
SIGNING_FILE = "log-signing-key"
ORIGIN_ENV = "EMBEDFIN_LOG_ORIGIN"
DEFAULT_PREFIX = "embedfin.local"
#: One append may carry this many entries; a larger batch is the caller's to split.
MAX_BATCH = 100_000
MAX_BODY = 64 * 1024
_LOG_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_L = tlog_logs.c
_N = tlog_nodes.c
_E = tlog_entries.c
_C = tlog_checkpoints.c
_W = tlog_cosignatures.c


@functools.lru_cache(maxsize=1024)
def _nodes_query(shape: tuple[int, ...]) -> Any:
    """The nodes of one level per entry of ``shape`` (how many indexes at it), one SELECT per
    level joined by UNION ALL; built and compiled once per shape (proofs have few shapes)."""
    parts = [
        select(_N.level, _N.idx, _N.hash).where(
            _N.log_key == bindparam("key"),
            _N.level == bindparam(f"l{k}"),
            _N.idx == bindparam(f"i{k}_0")
            if count == 1
            else _N.idx.in_([bindparam(f"i{k}_{j}") for j in range(count)]),
        )
        for k, count in enumerate(shape)
    ]
    return parts[0] if len(parts) == 1 else union_all(*parts)


_CHECKPOINT = select(_C.note, _C.signed_at).where(
    _C.log_key == bindparam("key"), _C.size == bindparam("size")
)
_LOG_QUERY = select(_L.log_key, _L.size).where(
    _L.tenant == bindparam("tenant"), _L.log_id == bindparam("log_id")
)


#: Nodes at this level and above (one per 256 leaves or more) are cached once read.
CACHED_LEVEL = 8
#: At most this many cached nodes per tenant's logs (about 100 bytes each): ~25M leaves' worth.
CACHE_LIMIT = 100_000


class BeyondTree(InvalidInput):
    """A proof asked of a size the log has not reached."""

    code = "size_beyond_tree"


@dataclass(frozen=True, slots=True)
class LogSigner:
    """The key every log's checkpoints are signed with, and the origins' prefix."""

    key: Ed25519PrivateKey
    prefix: str = DEFAULT_PREFIX

    @classmethod
    def load(cls, data_dir: Path | None = None) -> LogSigner:
        prefix = os.environ.get(ORIGIN_ENV, DEFAULT_PREFIX)
        if not re.fullmatch(r"[A-Za-z0-9.:-]{1,100}", prefix):
            raise InvalidInput(f"{ORIGIN_ENV} is a host name, got {prefix!r}")
        return cls(load_signing_key(data_dir, SIGNING_ENV, SIGNING_FILE), prefix)


@dataclass(frozen=True, slots=True)
class LogInfo:
    log_id: str
    origin: str
    size: int
    verifier: str


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    body: str
    leaf_hash: bytes
    appended_at: int


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str
    signed_at: int
    witnesses: tuple[str, ...]


def check_log_id(log_id: object) -> str:
    if not isinstance(log_id, str) or not _LOG_ID.match(log_id):
        raise InvalidInput("a log id is 1-32 lowercase letters, digits, '_' or '-'")
    return log_id


def check_body(body: object) -> str:
    if not isinstance(body, str) or not body:
        raise InvalidInput("an entry is non-empty text")
    if len(body.encode()) > MAX_BODY:
        raise InvalidInput(f"an entry is at most {MAX_BODY} bytes")
    return body


class TransparencyLog:
    """One tenant's logs."""

    def __init__(
        self, ledger: Ledger, tenant: str, signer: LogSigner, clock: Clock | None = None
    ) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.signer = signer
        self.clock = clock or ledger.clock
        self._cache: dict[tuple[int, int, int], bytes] = {}

    def origin(self, log_id: str) -> str:
        return f"{self.signer.prefix}/{self.tenant}/{log_id}"

    @property
    def verifier(self) -> Verifier:
        """The key to check this tenant's checkpoints with (one per origin's name)."""
        return checkpoints.verifier_of(self.signer.prefix, self.signer.key)

    # --- appends ---------------------------------------------------------------------------
    def append(self, log_id: str, bodies: Sequence[str]) -> list[int]:
        with self.ledger.transaction() as tx:
            return self.append_in(tx, log_id, bodies)

    def append_signed(self, log_id: str, bodies: Sequence[str]) -> SignedCheckpoint:
        """Append ``bodies`` and sign the new size, in one unit of work: the platform's audit
        log publishes its checkpoints as it grows, not when someone first asks."""
        with self.ledger.transaction() as tx:
            indexes = self.append_in(tx, log_id, bodies)
            return self._sign_in(tx, log_id, indexes[-1] + 1)

    def append_in(self, tx: LedgerTransaction, log_id: str, bodies: Sequence[str]) -> list[int]:
        """Append ``bodies`` in order; their indexes. In the caller's unit of work."""
        check_log_id(log_id)
        if not bodies or len(bodies) > MAX_BATCH:
            raise InvalidInput(f"an append has 1 to {MAX_BATCH:,} entries")
        texts = [check_body(b) for b in bodies]
        conn, now = tx.conn, self.clock.now_ns()
        key, size = self._lock(conn, log_id, now)
        frontier = self._nodes(conn, key, merkle.frontier(size), committed=False)
        hashes = [merkle.leaf_hash(t.encode()) for t in texts]
        made = merkle.append_nodes(size, hashes, frontier.__getitem__)
        conn.execute(
            insert(tlog_entries),
            [{"log_key": key, "idx": size + i, "body": t, "appended_at": now}
             for i, t in enumerate(texts)],
        )  # fmt: skip
        conn.execute(
            insert(tlog_nodes),
            [{"log_key": key, "level": lv, "idx": ix, "hash": h} for (lv, ix), h in made.items()],
        )
        conn.execute(update(tlog_logs).where(_L.log_key == key).values(size=size + len(texts)))
        return list(range(size, size + len(texts)))

    def _lock(self, conn: Connection, log_id: str, now: int) -> tuple[int, int]:
        """The log's key and size, its row locked for this unit of work (made if new)."""
        insert_if_absent(
            conn,
            tlog_logs,
            {"tenant": self.tenant, "log_id": log_id, "origin": self.origin(log_id),
             "size": 0, "created_at": now},
        )  # fmt: skip
        query = select(_L.log_key, _L.size).where(_L.tenant == self.tenant, _L.log_id == log_id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).one()
        return int(row.log_key), int(row.size)

    # --- reads -------------------------------------------------------------------------------
    def _log(self, conn: Connection, log_id: str) -> tuple[int, int]:
        params = {"tenant": self.tenant, "log_id": check_log_id(log_id)}
        row = conn.execute(_LOG_QUERY, params).one_or_none()
        if row is None:
            raise NotFound(f"no log {log_id!r}")
        return int(row.log_key), int(row.size)

    def _nodes(
        self,
        conn: Connection,
        key: int,
        wanted: Sequence[merkle.Node] | set[merkle.Node],
        *,
        committed: bool = True,
    ) -> dict[merkle.Node, bytes]:
        """The stored complete nodes ``wanted``, in one query for those not cached.

        A complete node never changes once written, so the upper levels (``CACHED_LEVEL`` and
        above: one node per 256 leaves or more, shared by every proof) are kept in memory once
        read — but only from ``committed`` reads, never from a unit of work that may roll back.
        """
        if not wanted:
            return {}
        found: dict[merkle.Node, bytes] = {}
        by_level: dict[int, list[int]] = {}
        for level, index in sorted(wanted):
            hit = self._cache.get((key, level, index)) if level >= CACHED_LEVEL else None
            if hit is not None:
                found[(level, index)] = hit
            else:
                by_level.setdefault(level, []).append(index)
        if not by_level:
            return found
        # one SELECT per level, UNION ALL: each a primary-key lookup on (log, level, idx) on
        # both stores (SQLite answers a row-value IN, or an OR of levels, by scanning the log)
        params: dict[str, object] = {"key": key}
        for k, (level, indexes) in enumerate(by_level.items()):
            params[f"l{k}"] = level
            params.update({f"i{k}_{j}": index for j, index in enumerate(indexes)})
        shape = tuple(len(indexes) for indexes in by_level.values())
        for r in conn.execute(_nodes_query(shape), params):
            node, value = (int(r.level), int(r.idx)), bytes(r.hash)
            found[node] = value
            if committed and node[0] >= CACHED_LEVEL:
                if len(self._cache) >= CACHE_LIMIT:
                    self._cache.clear()
                self._cache[(key, *node)] = value
        missing = set(wanted) - set(found)
        if missing:  # the store lost a node: nothing here may vouch for the tree
            raise RuntimeError(f"log {key}: {len(missing)} stored node(s) missing")
        return found

    def logs(self) -> list[LogInfo]:
        with self.ledger.reader() as conn:
            rows = conn.execute(
                select(_L.log_id, _L.origin, _L.size)
                .where(_L.tenant == self.tenant)
                .order_by(_L.log_id)
            )
            return [LogInfo(r.log_id, r.origin, int(r.size), str(self.verifier)) for r in rows]

    def info(self, log_id: str) -> LogInfo:
        with self.ledger.reader() as conn:
            key, size = self._log(conn, log_id)
            origin = self._origin_of(conn, key)
        return LogInfo(log_id, origin, size, str(self.verifier))

    @staticmethod
    def _origin_of(conn: Connection, key: int) -> str:
        """The origin the log was made with (its checkpoints keep it if the prefix changes)."""
        return str(conn.execute(select(_L.origin).where(_L.log_key == key)).scalar_one())

    def entry(self, log_id: str, index: int) -> Entry:
        with self.ledger.reader() as conn:
            key, size = self._log(conn, log_id)
            if not 0 <= index < size:
                raise NotFound(f"log {log_id!r} has no entry {index} (it has {size})")
            row = conn.execute(
                select(_E.body, _E.appended_at).where(_E.log_key == key, _E.idx == index)
            ).one()
            leaf = self._nodes(conn, key, [(0, index)])[(0, index)]
        return Entry(index, row.body, leaf, int(row.appended_at))

    def root(self, log_id: str, size: int | None = None) -> tuple[int, bytes]:
        with self.ledger.reader() as conn:
            key, current = self._log(conn, log_id)
            size = current if size is None else self._within(size, current)
            return size, self._root(conn, key, size)

    def _root(self, conn: Connection, key: int, size: int, *, committed: bool = True) -> bytes:
        plan = merkle.root_plan(size)
        if not plan:
            return merkle.EMPTY_ROOT
        found = self._nodes(conn, key, plan, committed=committed)
        return merkle.fold([found[n] for n in plan])

    @staticmethod
    def _within(size: int, current: int) -> int:
        if size > current:
            raise BeyondTree(f"the log has {current} entries, not {size}")
        return size

    def inclusion(
        self, log_id: str, index: int, size: int | None = None
    ) -> tuple[int, list[bytes]]:
        """The tree size and the audit path of entry ``index`` in it (the current size unless
        ``size`` is given)."""
        with self.ledger.reader() as conn:
            key, current = self._log(conn, log_id)
            size = current if size is None else self._within(size, current)
            if index >= size:
                raise BeyondTree(f"the tree of {size} has no entry {index}")
            plan = merkle.inclusion_plan(index, size)
            return size, merkle.assemble(plan, self._nodes(conn, key, merkle.needed([plan])))

    def consistency(
        self, log_id: str, first: int, second: int | None = None
    ) -> tuple[int, list[bytes]]:
        with self.ledger.reader() as conn:
            key, current = self._log(conn, log_id)
            second = current if second is None else self._within(second, current)
            if first > second:
                raise BeyondTree(f"the first size {first} is past the tree of {second}")
            plan = merkle.consistency_plan(first, second)
            return second, merkle.assemble(plan, self._nodes(conn, key, merkle.needed([plan])))

    # --- checkpoints -------------------------------------------------------------------------
    def checkpoint(self, log_id: str) -> SignedCheckpoint:
        """The signed checkpoint of the log's current size (signed now if not yet): a read
        unless the size is new, so a public reader costs no write. Inside a unit of work it
        is that unit's size (appended but not yet committed), signed in it."""
        if self.ledger.in_transaction:
            with self.ledger.transaction() as tx:
                return self._sign_in(tx, log_id, None)
        with self.ledger.reader() as conn:
            key, size = self._log(conn, log_id)
            row = conn.execute(_CHECKPOINT, {"key": key, "size": size}).one_or_none()
            if row is not None:
                return self._signed(conn, key, size, str(row.note), int(row.signed_at))
        with self.ledger.transaction() as tx:
            return self._sign_in(tx, log_id, None)

    def _sign_in(self, tx: LedgerTransaction, log_id: str, size: int | None) -> SignedCheckpoint:
        """The checkpoint of ``size`` (default: the current), signed in ``tx`` if not yet."""
        key, current = self._log(tx.conn, log_id)
        size = current if size is None else size
        row = tx.conn.execute(_CHECKPOINT, {"key": key, "size": size}).one_or_none()
        if row is None:
            root = self._root(tx.conn, key, size, committed=False)  # maybe the caller's
            head = Checkpoint(self._origin_of(tx.conn, key), size, root)
            note = checkpoints.sign(head, self.signer.prefix, self.signer.key)
            if insert_if_absent(
                tx.conn,
                tlog_checkpoints,
                {"log_key": key, "size": size, "root": head.root, "note": note,
                 "signed_at": self.clock.now_ns()},
            ):  # fmt: skip
                tx.emit(self.tenant, "log_checkpoint_signed", "tlog", log_id,
                        {"size": size, "root": head.root.hex()})  # fmt: skip
            row = tx.conn.execute(_CHECKPOINT, {"key": key, "size": size}).one()
        return self._signed(tx.conn, key, size, str(row.note), int(row.signed_at))

    def latest_checkpoint(self, log_id: str) -> SignedCheckpoint | None:
        """The largest checkpoint signed so far (read-only: nothing is signed here)."""
        with self.ledger.reader() as conn:
            key, _ = self._log(conn, log_id)
            row = conn.execute(
                select(_C.size, _C.note, _C.signed_at)
                .where(_C.log_key == key)
                .order_by(_C.size.desc())
                .limit(1)
            ).one_or_none()
            if row is None:
                return None
            return self._signed(conn, key, int(row.size), str(row.note), int(row.signed_at))

    def checkpoint_at(self, log_id: str, size: int) -> SignedCheckpoint:
        with self.ledger.reader() as conn:
            key, _ = self._log(conn, log_id)
            row = conn.execute(
                select(_C.note, _C.signed_at).where(_C.log_key == key, _C.size == size)
            ).one_or_none()
            if row is None:
                raise NotFound(f"log {log_id!r} has no checkpoint of size {size}")
            return self._signed(conn, key, size, str(row.note), int(row.signed_at))

    def _signed(
        self, conn: Connection, key: int, size: int, note: str, signed_at: int
    ) -> SignedCheckpoint:
        rows = conn.execute(
            select(_W.witness, _W.signature)
            .where(_W.log_key == key, _W.size == size)
            .order_by(_W.witness)
        ).all()
        full = note + "".join(str(r.signature) for r in rows)
        return SignedCheckpoint(
            checkpoints.parse_text(checkpoints.split_note(note)[0]),
            full,
            signed_at,
            tuple(str(r.witness) for r in rows),
        )

    def cosign(self, log_id: str, cosigned_note: str) -> tuple[SignedCheckpoint, list[str]]:
        """Keep the registered witnesses' signatures on one of this log's checkpoints:
        ``cosigned_note`` is the checkpoint with their lines added. The checkpoint as now
        served, and the names newly kept (none: the same lines again, no change).

        Checked on a read first: a note that keeps nothing new (refused, or a replay) never
        takes the write lock, so the public route costs an anonymous caller no write."""
        if not self.ledger.in_transaction:
            with self.ledger.reader() as conn:
                key, size, lines, row = self._cosignatures(conn, log_id, cosigned_note)
                if witnesses.unkept(conn, key, size, lines) == {}:
                    return self._signed(conn, key, size, str(row.note), int(row.signed_at)), []
        with self.ledger.transaction() as tx:
            key, size, lines, row = self._cosignatures(tx.conn, log_id, cosigned_note)
            fresh = witnesses.keep(tx.conn, key, size, lines, self.clock.now_ns())
            for name in fresh:
                tx.emit(self.tenant, "log_checkpoint_cosigned", "tlog", log_id,
                        {"size": size, "witness": name})  # fmt: skip
            return self._signed(tx.conn, key, size, str(row.note), int(row.signed_at)), fresh

    def _cosignatures(
        self, conn: Connection, log_id: str, cosigned_note: str
    ) -> tuple[int, int, dict[str, str], Any]:
        """The log's key, the checkpoint's size, the registered witnesses' good lines on it,
        and the stored checkpoint's row; refused unless the log signed that very checkpoint."""
        key, _ = self._log(conn, log_id)  # another tenant's log: 404 before the note is read
        text, signatures = checkpoints.split_note(cosigned_note)
        head = checkpoints.parse_text(text)
        if head.origin != self._origin_of(conn, key):
            raise CheckpointInvalid(f"the checkpoint is of {head.origin!r}, not this log")
        row = conn.execute(_CHECKPOINT, {"key": key, "size": head.size}).one_or_none()
        if row is None or checkpoints.split_note(str(row.note))[0] != text:
            raise CheckpointInvalid("the log signed no such checkpoint")
        lines = witnesses.cosignature_lines(text, signatures, witnesses.registered(conn, key))
        return key, head.size, lines, row

    # --- witnesses ---------------------------------------------------------------------------
    def witnesses(self, log_id: str) -> list[Witness]:
        with self.ledger.reader() as conn:
            key, _ = self._log(conn, log_id)
            return list(witnesses.registered(conn, key).values())

    def add_witness(self, log_id: str, witness: Verifier) -> tuple[Witness, bool]:
        """Accept cosignatures of ``witness`` on this log (which must exist); the witness as
        registered and whether it is new. Another key under its name is a conflict."""
        with self.ledger.transaction() as tx:
            key, _ = self._log(tx.conn, log_id)
            now = self.clock.now_ns()
            added = witnesses.add(tx.conn, key, witness, self.signer.prefix, now)
            if added:
                tx.emit(self.tenant, "log_witness_added", "tlog", log_id,
                        {"witness": witness.name})  # fmt: skip
            return witnesses.registered(tx.conn, key)[witness.name], added

    def remove_witness(self, log_id: str, name: str) -> None:
        with self.ledger.transaction() as tx:
            key, _ = self._log(tx.conn, log_id)
            witnesses.remove(tx.conn, key, name)
            tx.emit(self.tenant, "log_witness_removed", "tlog", log_id, {"witness": name})


def public_log(ledger: Ledger, origin: str) -> tuple[str, str]:
    """The tenant and log id of a public log (a platform log, or one with a witness)."""
    with ledger.reader() as conn:
        return witnesses.public_log(conn, origin, PLATFORM)
