"""SQL for the ledger's tables, one class per database.

The service calls these inside one transaction per batch. Reads of accounts on PostgreSQL take
row locks in ascending id order (``FOR UPDATE``), so concurrent writers serialise on the accounts
they share and never deadlock on each other; on SQLite the whole database is locked by
``BEGIN IMMEDIATE``. Writes go through the driver's executemany (SQLite) or single
``unnest``-array statements (PostgreSQL): one round trip per table per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

from embedfin.db.types import id_to_bytes
from embedfin.ledger.codec import (
    ACCOUNT_COLUMNS,
    STATUS_BY_CODE,
    STATUS_CODES,
    TRANSFER_COLUMNS,
    account_from_row,
    account_row,
    encoder,
    transfer_from_row,
    transfer_rows,
)
from embedfin.ledger.records import PendingChange, PendingInfo
from embedfin.ledger.types import Account, AccountBalance, PendingStatus, Transfer

_CHUNK = 500
_UUID_COLUMNS = {"id", "debit_account_id", "credit_account_id", "pending_id", "user_data_128"}
_COPY_TYPES = ["bytea"] * 3 + ["int8", "bytea", "bytea", "int8"] + ["int4"] * 5 + ["int8"]
_PENDING = STATUS_CODES[PendingStatus.PENDING]
_ACCOUNT_LOCK_CLASS = 0x4C41  # "LA": ledger account creation


def _fold32(account_id: int) -> int:
    """A 128-bit id folded to a signed 32-bit lock key (collisions only serialise more)."""
    folded = 0
    while account_id:
        folded ^= account_id & 0xFFFFFFFF
        account_id >>= 32
    return folded - (1 << 31)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class LedgerStore:
    """Dialect-neutral part; subclasses fill in placeholders, id encoding and locking."""

    dialect = "sqlite"
    ph = "?"

    def __init__(self) -> None:
        self.enc = encoder(self.dialect)

    def read_columns(self, columns: str, prefix: str = "") -> str:
        """The select list for ``columns`` (of ``prefix`` table alias) in this database."""
        return ", ".join(f"{prefix}{c.strip()}" for c in columns.split(","))

    # --- reads --------------------------------------------------------------------------------
    def _select_in(
        self, conn: Connection, sql: str, ids: Sequence[int], suffix: str = ""
    ) -> list[Any]:
        rows: list[Any] = []
        for chunk in _chunks(sorted(set(ids))):
            marks = ", ".join([self.ph] * len(chunk))
            params = tuple(self.enc(i) for i in chunk)
            rows.extend(conn.exec_driver_sql(f"{sql} IN ({marks}){suffix}", params).all())
        return rows

    def load_accounts(
        self, conn: Connection, ids: Sequence[int], *, lock: bool = False
    ) -> dict[int, Account]:
        columns = self.read_columns(ACCOUNT_COLUMNS)
        rows = self._select_in(
            conn, f"SELECT {columns} FROM accounts WHERE id", ids, self.lock_suffix(lock)
        )
        return {a.id: a for a in map(account_from_row, rows)}

    def load_transfers(self, conn: Connection, ids: Sequence[int]) -> dict[int, Transfer]:
        columns = self.read_columns(TRANSFER_COLUMNS)
        rows = self._select_in(conn, f"SELECT {columns} FROM transfers WHERE id", ids)
        return {t.id: t for t in map(transfer_from_row, rows)}

    def load_pendings(
        self, conn: Connection, ids: Sequence[int], *, lock: bool = False
    ) -> dict[int, PendingInfo]:
        if not ids:
            return {}
        columns = self.read_columns(TRANSFER_COLUMNS, "t.")
        rows = self._select_in(
            conn,
            f"SELECT {columns}, p.status, p.expires_at FROM pending_transfers p"
            " JOIN transfers t ON t.id = p.id WHERE p.id",
            ids,
            self.lock_suffix(lock, of="p"),
        )
        return {
            info.transfer.id: info
            for info in (
                PendingInfo(transfer_from_row(row), STATUS_BY_CODE[row[13]], row[14])
                for row in rows
            )
        }

    def due_pending_ids(self, conn: Connection, now_ns: int, limit: int = 10_000) -> list[int]:
        rows = conn.exec_driver_sql(
            "SELECT id FROM pending_transfers WHERE status = 1 AND expires_at > 0"
            f" AND expires_at <= {self.ph} ORDER BY expires_at LIMIT {int(limit)}",
            (now_ns,),
        ).all()
        from embedfin.db.types import decode_id

        return [decode_id(r[0]) or 0 for r in rows]

    def lock_suffix(self, lock: bool, of: str = "") -> str:
        return ""

    def last_timestamp(self, conn: Connection) -> int:
        value = conn.exec_driver_sql(
            "SELECT value FROM ledger_meta WHERE key = 'last_timestamp'"
        ).scalar_one()
        return int(value)

    def set_last_timestamp(self, conn: Connection, value: int) -> None:
        conn.exec_driver_sql(
            f"UPDATE ledger_meta SET value = {self.ph} WHERE key = 'last_timestamp'"
            f" AND value < {self.ph}",
            (value, value),
        )

    def history_floor(self, conn: Connection, ids: Sequence[int]) -> int:
        """The newest balance-history timestamp of these accounts, 0 if none (PostgreSQL: other
        processes draw timestamps from their own clocks; see ``Ledger._transfers``)."""
        return 0

    def lock_new_account_ids(self, conn: Connection, ids: Sequence[int]) -> None:
        """Serialise the creation of these account ids with other transactions (PostgreSQL):
        two processes creating one account must not both find it absent. SQLite writers are
        serialised already."""

    # --- writes -------------------------------------------------------------------------------
    def insert_accounts(self, conn: Connection, created: Sequence[Account]) -> None:
        if created:
            marks = ", ".join([self.ph] * 12)
            conn.exec_driver_sql(
                f"INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES ({marks})",
                [account_row(a, self.enc) for a in created],
            )

    def insert_transfers(self, conn: Connection, created: Sequence[Transfer]) -> None:
        if created:
            marks = ", ".join([self.ph] * 13)
            conn.exec_driver_sql(
                f"INSERT INTO transfers ({TRANSFER_COLUMNS}) VALUES ({marks})",
                transfer_rows(created, self.enc),
            )

    def update_balances(self, conn: Connection, changed: Iterable[Account]) -> None:
        enc = self.enc
        rows = [
            (
                a.flags,
                a.debits_pending,
                a.debits_posted,
                a.credits_pending,
                a.credits_posted,
                enc(a.id),
            )
            for a in changed
        ]
        if rows:
            p = self.ph
            conn.exec_driver_sql(
                f"UPDATE accounts SET flags = {p}, debits_pending = {p}, debits_posted = {p},"
                f" credits_pending = {p}, credits_posted = {p} WHERE id = {p}",
                rows,
            )

    def insert_pendings(self, conn: Connection, new: Sequence[tuple[int, int]]) -> None:
        if new:
            p = self.ph
            conn.exec_driver_sql(
                f"INSERT INTO pending_transfers (id, status, expires_at) VALUES ({p}, 1, {p})",
                [(self.enc(pid), expires_at) for pid, expires_at in new],
            )

    def resolve_pendings(self, conn: Connection, changes: Sequence[PendingChange]) -> None:
        if changes:
            p = self.ph
            enc = self.enc
            conn.exec_driver_sql(
                f"UPDATE pending_transfers SET status = {p}, resolved_by = {p},"
                f" resolved_at = {p} WHERE id = {p} AND status = 1",
                [
                    (
                        STATUS_CODES[c.status],
                        enc(c.resolved_by) if c.resolved_by else None,
                        c.resolved_at,
                        enc(c.pending_id),
                    )
                    for c in changes
                ],
            )

    def insert_history(self, conn: Connection, rows: Sequence[AccountBalance]) -> None:
        if rows:
            marks = ", ".join([self.ph] * 6)
            conn.exec_driver_sql(
                "INSERT INTO account_history (account_id, timestamp, debits_pending,"
                f" debits_posted, credits_pending, credits_posted) VALUES ({marks})",
                [
                    (
                        self.enc(r.account_id),
                        r.timestamp,
                        r.debits_pending,
                        r.debits_posted,
                        r.credits_pending,
                        r.credits_posted,
                    )
                    for r in rows
                ],
            )


class SqliteLedgerStore(LedgerStore):
    dialect = "sqlite"
    ph = "?"


class PostgresLedgerStore(LedgerStore):
    """PostgreSQL: row locks in id order, COPY for new transfers, array statements otherwise.

    Statements run on psycopg cursors in binary mode (inside the SQLAlchemy transaction): text
    dumping of large arrays costs more client time than the server spends on them.
    """

    dialect = "postgresql"
    ph = "%s"

    def history_floor(self, conn: Connection, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        rows = self._select_in(
            conn, "SELECT coalesce(max(timestamp), 0) FROM account_history WHERE account_id", ids
        )
        return int(rows[0][0]) if rows else 0

    def lock_new_account_ids(self, conn: Connection, ids: Sequence[int]) -> None:
        # transaction-scoped advisory locks in ascending order (no deadlock between creators),
        # in their own class (the first key) so they never meet the other advisory locks
        keys = sorted({_fold32(i) for i in ids})
        if keys:
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(%s, k) FROM"
                " (SELECT unnest(%s::int4[]) AS k ORDER BY 1) AS ordered",
                (_ACCOUNT_LOCK_CLASS, keys),
            )

    @staticmethod
    def _rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor(binary=True) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def _select_in(
        self, conn: Connection, sql: str, ids: Sequence[int], suffix: str = ""
    ) -> list[Any]:
        # One bytea of 16-byte ids, split by the server: far cheaper to send than an array.
        unique = sorted(set(ids))
        blob = b"".join([i.to_bytes(16, "big") for i in unique])
        return self._rows(
            conn,
            f"{sql} IN (SELECT encode(substring(%s::bytea FROM g * 16 + 1 FOR 16), 'hex')::uuid"
            f" FROM generate_series(0, %s - 1) AS g){suffix}",
            (blob, len(unique)),
        )

    def read_columns(self, columns: str, prefix: str = "") -> str:
        """Ids come back as their 16 bytes (``uuid_send``): cheaper to decode than UUIDs."""
        return ", ".join(
            f"uuid_send({prefix}{c})" if c in _UUID_COLUMNS else f"{prefix}{c}"
            for c in (c.strip() for c in columns.split(","))
        )

    def lock_suffix(self, lock: bool, of: str = "") -> str:
        if not lock:
            return ""
        return f" ORDER BY {of + '.' if of else ''}id FOR UPDATE" + (f" OF {of}" if of else "")

    def insert_transfers(self, conn: Connection, created: Sequence[Transfer]) -> None:
        if not created:
            return
        driver = conn.connection.driver_connection
        assert driver is not None
        # Binary COPY: a uuid's binary form is its 16 bytes, so ids go over as bytea fields.
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY transfers ({TRANSFER_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(_COPY_TYPES)
            for row in transfer_rows(created, id_to_bytes):
                copy.write_row(row)

    def update_balances(self, conn: Connection, changed: Iterable[Account]) -> None:
        """COPY the new balances into a session-temporary table, then one joined UPDATE."""
        items = list(changed)
        if not items:
            return
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS ledger_balance_updates (id uuid, flags int,"
                " dp bigint, dpo bigint, cp bigint, cpo bigint) ON COMMIT DELETE ROWS"
            )
            # Several batches can share one transaction (units of work): start empty, or an
            # earlier batch's row for the same account could win the join below.
            cursor.execute("TRUNCATE ledger_balance_updates")
            with cursor.copy("COPY ledger_balance_updates FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["bytea", "int4", "int8", "int8", "int8", "int8"])
                for a in items:
                    copy.write_row(
                        (
                            id_to_bytes(a.id),
                            a.flags,
                            a.debits_pending,
                            a.debits_posted,
                            a.credits_pending,
                            a.credits_posted,
                        )
                    )
            cursor.execute(
                "UPDATE accounts AS a SET flags = v.flags, debits_pending = v.dp,"
                " debits_posted = v.dpo, credits_pending = v.cp, credits_posted = v.cpo"
                " FROM ledger_balance_updates AS v WHERE a.id = v.id"
            )

    def insert_pendings(self, conn: Connection, new: Sequence[tuple[int, int]]) -> None:
        if new:
            self._rows(
                conn,
                "INSERT INTO pending_transfers (id, status, expires_at)"
                " SELECT id, 1, e FROM unnest(%s::text[]::uuid[], %s::bigint[]) AS v(id, e)",
                ([self.enc(pid) for pid, _ in new], [e for _, e in new]),
            )


def store_for(dialect: str) -> LedgerStore:
    if dialect == "postgresql":
        return PostgresLedgerStore()
    if dialect == "sqlite":
        return SqliteLedgerStore()
    raise ValueError(f"unsupported database: {dialect}")
