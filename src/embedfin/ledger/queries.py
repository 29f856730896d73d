"""Read-side queries of the ledger: an account's transfers and balance history, newest first."""

from __future__ import annotations

from sqlalchemy import Connection, literal, select, tuple_

from embedfin.core.errors import InvalidInput
from embedfin.db.tables import account_history, transfers
from embedfin.ledger.codec import transfer_from_row
from embedfin.ledger.store import LedgerStore
from embedfin.ledger.types import AccountBalance, Transfer

LIMIT_MAX = 1000


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {LIMIT_MAX}, got {limit}")


def account_transfers(
    conn: Connection,
    store: LedgerStore,
    account_id: int,
    limit: int,
    starting_after: int | None,
    debits: bool,
    credits: bool,
) -> tuple[list[Transfer], bool]:
    """Up to ``limit`` transfers that debit and/or credit the account, and whether more exist.

    Ordered by (timestamp, id) descending; ``starting_after`` is the id of the last transfer of
    the previous page and must be a transfer of this account.
    """
    _check_limit(limit)
    cursor: tuple[int, int] | None = None
    if starting_after is not None:
        found = store.load_transfers(conn, [starting_after]).get(starting_after)
        if found is None or account_id not in (found.debit_account_id, found.credit_account_id):
            raise InvalidInput(
                f"starting_after {starting_after:x} is not a transfer of this account"
            )
        cursor = (found.timestamp, found.id)
    merged: list[Transfer] = []
    sides = [
        c
        for c, wanted in (
            (transfers.c.debit_account_id, debits),
            (transfers.c.credit_account_id, credits),
        )
        if wanted
    ]
    for side in sides:
        query = select(transfers).where(side == account_id)
        if cursor is not None:
            after = tuple_(
                literal(cursor[0], transfers.c.timestamp.type),
                literal(cursor[1], transfers.c.id.type),
            )
            query = query.where(tuple_(transfers.c.timestamp, transfers.c.id) < after)
        query = query.order_by(transfers.c.timestamp.desc(), transfers.c.id.desc()).limit(limit + 1)
        merged.extend(_from_mapping(row) for row in conn.execute(query))
    merged.sort(key=lambda t: (t.timestamp, t.id), reverse=True)
    return merged[:limit], len(merged) > limit


def _from_mapping(row: object) -> Transfer:
    m = row._mapping  # type: ignore[attr-defined]
    return Transfer(
        m["id"],
        m["debit_account_id"],
        m["credit_account_id"],
        m["amount"],
        m["ledger"],
        m["code"],
        m["flags"],
        m["pending_id"] or 0,
        m["timeout"],
        m["user_data_128"] or 0,
        m["user_data_64"],
        m["user_data_32"],
        m["timestamp"],
    )


def account_balances(
    conn: Connection,
    store: LedgerStore,
    account_id: int,
    limit: int,
    before_timestamp: int | None,
) -> list[AccountBalance]:
    _check_limit(limit)
    query = select(account_history).where(account_history.c.account_id == account_id)
    if before_timestamp is not None:
        query = query.where(account_history.c.timestamp < before_timestamp)
    query = query.order_by(account_history.c.timestamp.desc()).limit(limit)
    return [AccountBalance(*row) for row in conn.execute(query)]


__all__ = ["account_balances", "account_transfers", "transfer_from_row"]
