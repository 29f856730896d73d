"""Row <-> record conversion for the two stores (the hot path, so plain functions)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from embedfin.db.types import decode_id, id_to_bytes, id_to_uuid_text
from embedfin.ledger.types import Account, PendingStatus, Transfer

STATUS_CODES = {
    PendingStatus.PENDING: 1,
    PendingStatus.POSTED: 2,
    PendingStatus.VOIDED: 3,
    PendingStatus.EXPIRED: 4,
}
STATUS_BY_CODE = {code: status for status, code in STATUS_CODES.items()}

ACCOUNT_COLUMNS = (
    "id, ledger, code, flags, user_data_128, user_data_64, user_data_32,"
    " debits_pending, debits_posted, credits_pending, credits_posted, timestamp"
)
TRANSFER_COLUMNS = (
    "id, debit_account_id, credit_account_id, amount, pending_id, user_data_128,"
    " user_data_64, user_data_32, timeout, ledger, code, flags, timestamp"
)


def encoder(dialect: str) -> Callable[[int], Any]:
    return id_to_uuid_text if dialect == "postgresql" else id_to_bytes


def account_from_row(row: Sequence[Any]) -> Account:
    return Account(
        decode_id(row[0]) or 0,
        row[1],
        row[2],
        row[3],
        decode_id(row[4]) or 0,
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
    )


def transfer_from_row(row: Sequence[Any]) -> Transfer:
    return Transfer(
        decode_id(row[0]) or 0,
        decode_id(row[1]) or 0,
        decode_id(row[2]) or 0,
        row[3],
        row[9],
        row[10],
        row[11],
        decode_id(row[4]) or 0,
        row[8],
        decode_id(row[5]) or 0,
        row[6],
        row[7],
        row[12],
    )


def transfer_rows(created: Sequence[Transfer], enc: Callable[[int], Any]) -> list[tuple[Any, ...]]:
    return [
        (
            enc(t.id),
            enc(t.debit_account_id),
            enc(t.credit_account_id),
            t.amount,
            enc(t.pending_id) if t.pending_id else None,
            enc(t.user_data_128) if t.user_data_128 else None,
            t.user_data_64,
            t.user_data_32,
            t.timeout,
            t.ledger,
            t.code,
            t.flags,
            t.timestamp,
        )
        for t in created
    ]


def account_row(a: Account, enc: Callable[[int], Any]) -> tuple[Any, ...]:
    return (
        enc(a.id),
        a.ledger,
        a.code,
        a.flags,
        enc(a.user_data_128) if a.user_data_128 else None,
        a.user_data_64,
        a.user_data_32,
        a.debits_pending,
        a.debits_posted,
        a.credits_pending,
        a.credits_posted,
        a.timestamp,
    )
