"""The ledger service: one database transaction per batch around the pure engine.

    with engine.begin():                      # BEGIN IMMEDIATE on SQLite
        expire due pending transfers
        load (and lock, on PostgreSQL) every account and pending transfer the batch names
        results = engine.create_transfers(...)   # pure
        write transfers, balances, pending states, history; commit

Transfer ids are looked up only when needed: the batch is first decided as if every id were
new; ids of events that failed are then checked against the store (a retry must answer
``exists``), and an id that already exists for an event that succeeded is caught by the primary
key, which rolls the batch back and re-runs it with every id looked up. On SQLite, accounts are
cached between batches and the cache is trusted only while ``ledger_meta.last_timestamp`` shows
that no other process has written since.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from embedfin.core.clock import Clock, SystemClock
from embedfin.core.errors import InvalidInput
from embedfin.core.events import Event
from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade
from embedfin.db.outbox import append_events
from embedfin.ledger import account_rules, queries
from embedfin.ledger import engine as rules
from embedfin.ledger.expiry import expire_pending
from embedfin.ledger.records import PendingInfo, Snapshot
from embedfin.ledger.store import store_for
from embedfin.ledger.types import (
    BATCH_MAX,
    U128_MAX,
    Account,
    AccountBalance,
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    Transfer,
    TransferFlags,
)

_POST_OR_VOID = int(TransferFlags.POST_PENDING_TRANSFER | TransferFlags.VOID_PENDING_TRANSFER)
_CACHE_MAX = 1_000_000
_RETRIES = 20
_RETRYABLE_PG = {"40001", "40P01", "55P03"}
T = TypeVar("T")


class BatchTooLarge(InvalidInput):
    """More events than one batch may hold; nothing was done."""

    code = "batch_too_large"


@dataclass(frozen=True, slots=True)
class Page:
    """A page of results, newest first; pass ``next_cursor`` back to get the next one."""

    items: list[Transfer]
    has_more: bool

    @property
    def next_cursor(self) -> int | None:
        return self.items[-1].id if self.has_more and self.items else None


class Ledger:
    """Create accounts and transfers in batches; look them up. Safe for many processes.

    Timestamps are unique and increasing per database on SQLite (writers are serialised) and
    per ``Ledger`` object on PostgreSQL, where concurrent writers may interleave; listings order
    by (timestamp, id), which is total either way.
    """

    def __init__(self, db: Engine | str | None = None, clock: Clock | None = None) -> None:
        self.engine = db if isinstance(db, Engine) else make_engine(db)
        self.clock = clock or SystemClock()
        self.dialect = self.engine.dialect.name
        self.store = store_for(self.dialect)
        self._cache: dict[int, Account] = {}
        self._cache_version = -1
        self._last_ts = 0
        self._after_commit: Callable[[], None] | None = None
        # One writer at a time per object (the cache and timestamps are shared state); the
        # open unit of work of each thread, so that a command run inside it joins it.
        self._write_lock = threading.RLock()
        self._local = threading.local()
        #: Ids of accounts known to exist in committed state (accounts are never deleted).
        self.known_accounts: set[int] = set()

    @classmethod
    def open(cls, url: str | None = None, clock: Clock | None = None) -> Ledger:
        """Open a database, bringing its schema up to date first."""
        db = make_engine(url)
        upgrade(db)
        return cls(db, clock)

    def close(self) -> None:
        self.engine.dispose()

    # --- commands -----------------------------------------------------------------------------
    def create_accounts(self, batch: Sequence[Account]) -> list[CreateAccountResult]:
        _check_size(batch)
        if not batch:
            return []
        return self._transaction(lambda conn, _slow: self._accounts_batch(conn, batch))

    @contextmanager
    def transaction(self) -> Iterator[LedgerTransaction]:
        """One unit of work spanning ledger batches and the caller's own tables and events.

        Everything done through the yielded object and its ``conn`` commits or rolls back
        together. Transfer ids are always looked up (no optimistic path), so a retry inside
        the unit of work answers ``exists`` without needing a rollback.
        """
        outer: LedgerTransaction | None = getattr(self._local, "unit", None)
        if outer is not None:  # a command called inside a unit of work joins it
            yield outer
            return
        unit: LedgerTransaction | None = None
        with self._write_lock:
            try:
                with self.engine.begin() as conn:
                    unit = LedgerTransaction(self, conn)
                    self._local.unit = unit
                    yield unit
            finally:
                self._local.unit = None
                self._invalidate()  # balances changed in a transaction the cache did not follow
        for callback in unit.committed if unit else ():
            callback()

    @property
    def in_transaction(self) -> bool:
        """Whether this thread is inside a unit of work of this ledger."""
        return getattr(self._local, "unit", None) is not None

    def create_transfers(self, batch: Sequence[Transfer]) -> list[CreateTransferResult]:
        """Apply a batch; one result per transfer. Business failures are results, not errors."""
        _check_size(batch)
        if not batch:
            return []
        return self._transaction(lambda conn, slow: self._transfers(conn, batch, slow))

    def expire_pending(self) -> int:
        """Expire every pending transfer whose timeout has passed; returns how many."""

        def run(conn: Connection, _slow: bool) -> int:
            self._next_timestamp(conn, 0)
            _, _, expired, count = self._prepare(conn, set(), set())
            self._finish(conn, self._last_ts)
            self._after_commit = lambda: self._remember(expired.values())
            return count

        return self._transaction(run)

    # --- queries ------------------------------------------------------------------------------
    def lookup_accounts(self, ids: Sequence[int]) -> list[Account]:
        with self.reader() as conn:
            found = self.store.load_accounts(conn, [i for i in ids if _valid(i)])
        return [found[i] for i in ids if i in found]

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]:
        with self.reader() as conn:
            found = self.store.load_transfers(conn, [i for i in ids if _valid(i)])
        return [found[i] for i in ids if i in found]

    def get_account_transfers(
        self,
        account_id: int,
        *,
        limit: int = 10,
        starting_after: int | None = None,
        debits: bool = True,
        credits: bool = True,
    ) -> Page:
        """Transfers of an account, newest first, cursor-paginated by transfer id."""
        with self.reader() as conn:
            items, has_more = queries.account_transfers(
                conn, self.store, account_id, limit, starting_after, debits, credits
            )
        return Page(items, has_more)

    def get_account_balances(
        self, account_id: int, *, limit: int = 10, before_timestamp: int | None = None
    ) -> list[AccountBalance]:
        """Balance history of a ``HISTORY`` account, newest first."""
        with self.reader() as conn:
            return queries.account_balances(conn, self.store, account_id, limit, before_timestamp)

    # --- internals ----------------------------------------------------------------------------
    @contextmanager
    def current(self) -> Iterator[Connection]:
        """The connection of this thread's open unit of work (it sees its own writes), or a
        read-only connection when there is none."""
        unit: LedgerTransaction | None = getattr(self._local, "unit", None)
        if unit is not None:
            yield unit.conn
            return
        with self.reader() as conn:
            yield conn

    def reader(self) -> Connection:
        """A read-only connection that never takes the SQLite write lock."""
        conn = self.engine.connect()
        if self.dialect == "sqlite":
            conn = conn.execution_options(sqlite_begin="DEFERRED")
        return conn

    def _transaction(self, run: Callable[[Connection, bool], T]) -> T:
        """Run ``run(conn, slow)`` in one transaction, retrying what a retry can fix.

        A duplicate key means an id already exists: re-run with every id looked up ("slow").
        Serialisation failures, deadlocks and a busy SQLite database are retried with backoff.
        """
        outer: LedgerTransaction | None = getattr(self._local, "unit", None)
        if outer is not None:
            return run(outer.conn, True)
        with self._write_lock:
            return self._retrying(run)

    def _retrying(self, run: Callable[[Connection, bool], T]) -> T:
        slow = False
        for attempt in range(_RETRIES):
            self._after_commit = None
            try:
                with self.engine.begin() as conn:
                    result = run(conn, slow)
            except Exception as error:
                self._invalidate()
                kind = _classify(error)
                if kind == "duplicate" and not (slow and attempt >= 2):
                    slow = True
                    continue
                if kind == "transient" and attempt < _RETRIES - 1:
                    time.sleep(min(0.001 * 2**attempt, 0.1))
                    continue
                raise
            except BaseException:
                self._invalidate()
                raise
            if self._after_commit is not None:
                self._after_commit()
            return result
        raise RuntimeError("unreachable")

    def _accounts_batch(
        self, conn: Connection, batch: Sequence[Account]
    ) -> list[CreateAccountResult]:
        ids = [a.id for a in batch if _valid(a.id)]
        self.store.lock_new_account_ids(conn, ids)  # a concurrent creator commits first
        base = self._next_timestamp(conn, len(batch))
        stored = self.store.load_accounts(conn, ids)
        outcome = account_rules.create_accounts(batch, stored, base)
        self.store.insert_accounts(conn, outcome.created)
        self._finish(conn, outcome.last_timestamp)
        self._after_commit = lambda: self._remember(outcome.created)
        return outcome.results

    def _transfers(
        self, conn: Connection, batch: Sequence[Transfer], slow: bool
    ) -> list[CreateTransferResult]:
        store = self.store
        base = self._next_timestamp(conn, len(batch))
        account_ids = {t.debit_account_id for t in batch} | {t.credit_account_id for t in batch}
        pending_ids = {
            t.pending_id for t in batch if t.flags & _POST_OR_VOID and _valid(t.pending_id)
        }
        accounts, pendings, expired, _ = self._prepare(conn, account_ids, pending_ids)
        base = self._after_history(conn, accounts, base, len(batch))
        # A post/void naming a transfer that is not pending must learn that it is not.
        lookup = pending_ids - pendings.keys()
        if slow:
            lookup |= {t.id for t in batch if _valid(t.id)}
        stored = store.load_transfers(conn, list(lookup)) if lookup else {}
        outcome = rules.create_transfers(batch, Snapshot(accounts, stored, pendings), base)
        if not slow:
            failed = [
                t.id
                for t, r in zip(batch, outcome.results, strict=True)
                if r is not CreateTransferResult.OK and _valid(t.id) and t.id not in stored
            ]
            found = store.load_transfers(conn, failed) if failed else {}
            if found:
                stored = {**stored, **found}
                outcome = rules.create_transfers(batch, Snapshot(accounts, stored, pendings), base)
        store.insert_transfers(conn, outcome.created)
        store.update_balances(conn, outcome.accounts.values())
        store.insert_pendings(conn, outcome.new_pendings)
        store.resolve_pendings(conn, outcome.resolved)
        store.insert_history(conn, outcome.history)
        self._finish(conn, outcome.last_timestamp)
        touched = {**expired, **outcome.accounts}
        self._after_commit = lambda: self._remember(touched.values())
        return outcome.results

    def _prepare(
        self, conn: Connection, account_ids: set[int], pending_ids: set[int]
    ) -> tuple[dict[int, Account], dict[int, PendingInfo], dict[int, Account], int]:
        """Load (on PostgreSQL: lock) what a batch needs, expiring due pending transfers first.

        Returns the accounts, the pending transfers named by the batch, the accounts the expiry
        changed and how many pending transfers expired.
        """
        store = self.store
        lock = self.dialect == "postgresql"
        now = self.clock.now_ns()
        pendings = store.load_pendings(conn, list(pending_ids)) if pending_ids else {}
        due = store.due_pending_ids(conn, now)
        due_infos = store.load_pendings(conn, due) if due else {}
        for info in (*pendings.values(), *due_infos.values()):
            account_ids.add(info.transfer.debit_account_id)
            account_ids.add(info.transfer.credit_account_id)
        accounts = self._accounts(conn, [i for i in account_ids if _valid(i)], lock)
        if lock:  # re-read under the account locks: another writer may have moved them
            if pending_ids:
                pendings = store.load_pendings(conn, list(pending_ids), lock=True)
            if due:
                due_infos = store.load_pendings(conn, due, lock=True)
        if not due_infos:
            return accounts, pendings, {}, 0
        expired, changes, history = expire_pending(accounts, list(due_infos.values()), now)
        store.update_balances(conn, expired.values())
        store.resolve_pendings(conn, changes)
        store.insert_history(conn, history)
        accounts.update(expired)
        for change in changes:
            old = pendings.get(change.pending_id)
            if old is not None:
                pendings[change.pending_id] = PendingInfo(
                    old.transfer, change.status, old.expires_at
                )
        return accounts, pendings, expired, len(changes)

    def _accounts(self, conn: Connection, ids: list[int], lock: bool) -> dict[int, Account]:
        if lock or self.dialect != "sqlite":
            return self.store.load_accounts(conn, ids, lock=lock)
        cache = self._cache
        missing = [i for i in ids if i not in cache]
        if missing:
            cache.update(self.store.load_accounts(conn, missing))
        return {i: cache[i] for i in ids if i in cache}

    def _after_history(
        self, conn: Connection, accounts: dict[int, Account], base: int, count: int
    ) -> int:
        """On PostgreSQL each process draws timestamps from its own clock, so two processes can
        draw the same one; a ``history`` account keeps one balance row per timestamp. The batch
        holds the row locks of its accounts (the writer before it has committed), so starting
        after their newest history row keeps every account's history unique and in order."""
        if self.dialect != "postgresql":
            return base
        ids = [a.id for a in accounts.values() if a.flags & AccountFlags.HISTORY]
        floor = self.store.history_floor(conn, ids) if ids else 0
        if floor < base:
            return base
        self._last_ts = max(self._last_ts, floor + count)
        return floor + 1

    def _next_timestamp(self, conn: Connection, count: int) -> int:
        """First timestamp for ``count`` events: after the clock and every earlier event."""
        if self.dialect == "sqlite":
            last = self.store.last_timestamp(conn)
            if last != self._cache_version:
                self._cache.clear()
            self._cache_version = last
        else:
            last = self._last_ts
        base = max(self.clock.now_ns(), last + 1)
        self._last_ts = base + max(count - 1, 0)
        return base

    def _finish(self, conn: Connection, last_timestamp: int) -> None:
        self._last_ts = max(self._last_ts, last_timestamp)
        if self.dialect == "sqlite":
            self.store.set_last_timestamp(conn, self._last_ts)

    def _remember(self, accounts: Iterable[Account]) -> None:
        if self.dialect != "sqlite":
            return
        if len(self._cache) > _CACHE_MAX:
            self._cache.clear()
        for a in accounts:
            self._cache[a.id] = a
        self._cache_version = self._last_ts

    def _invalidate(self) -> None:
        self._cache.clear()
        self._cache_version = -1


class LedgerTransaction:
    """The ledger inside a caller's unit of work (see ``Ledger.transaction``).

    Domain events are emitted here (``emit``): they reach the outbox in this transaction, so
    an event exists exactly when the change it describes was committed.

    Attributes:
        conn: the open connection; the caller writes its own tables through it.
    """

    def __init__(self, ledger: Ledger, conn: Connection) -> None:
        self.ledger = ledger
        self.conn = conn
        self.committed: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the unit of work has committed (never if it rolls back)."""
        self.committed.append(callback)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the unit of work that an exception undoes alone (SQL SAVEPOINT).

        Its after-commit callbacks are dropped with it. The ledger's account cache needs no
        care: it is only trusted while the stored last timestamp is the one it was filled at,
        and rolling back restores exactly that.
        """
        mark = len(self.committed)
        nested = self.conn.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            del self.committed[mark:]
            raise
        nested.commit()

    def emit(
        self,
        tenant: str | None,
        event_type: str,
        aggregate: str,
        aggregate_id: str,
        payload: Mapping[str, object],
    ) -> Event:
        """Append one event, stamped with the ledger's clock, to the outbox of this unit of
        work; returns it."""
        event = Event(
            event_type, aggregate, aggregate_id, payload, self.ledger.clock.now_ns(), tenant
        )
        append_events(self.conn, [event])
        return event

    def emit_all(self, events: Sequence[Event]) -> None:
        """Append events a command built itself (a batch's, stamped when it decided) in one
        statement."""
        append_events(self.conn, events)

    def create_accounts(self, batch: Sequence[Account]) -> list[CreateAccountResult]:
        _check_size(batch)
        return self.ledger._accounts_batch(self.conn, batch) if batch else []

    def create_transfers(self, batch: Sequence[Transfer]) -> list[CreateTransferResult]:
        _check_size(batch)
        return self.ledger._transfers(self.conn, batch, slow=True) if batch else []

    def lookup_accounts(self, ids: Sequence[int]) -> list[Account]:
        found = self.ledger.store.load_accounts(self.conn, [i for i in ids if _valid(i)])
        return [found[i] for i in ids if i in found]

    def lookup_transfers(self, ids: Sequence[int]) -> list[Transfer]:
        found = self.ledger.store.load_transfers(self.conn, [i for i in ids if _valid(i)])
        return [found[i] for i in ids if i in found]


def _valid(some_id: int) -> bool:
    """Ids worth looking up: the rest cannot exist and cannot be encoded."""
    return 0 < some_id < U128_MAX


def _check_size(batch: Sequence[object]) -> None:
    if len(batch) > BATCH_MAX:
        raise BatchTooLarge(f"a batch holds at most {BATCH_MAX} events, got {len(batch)}")


def _classify(error: Exception) -> str | None:
    """'duplicate' (unique key), 'transient' (worth a retry) or None, for either driver."""
    orig = error.orig if isinstance(error, DBAPIError) else error
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == "23505" or isinstance(error, IntegrityError) and "UNIQUE" in str(orig):
        return "duplicate"
    if sqlstate in _RETRYABLE_PG or "database is locked" in str(orig):
        return "transient"
    return None
