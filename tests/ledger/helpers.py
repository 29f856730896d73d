"""Small builders for ledger tests."""

from __future__ import annotations

from sqlalchemy import Engine

from embedfin.ledger.types import AMOUNT_MAX, Transfer, TransferFlags

USD = 840
EUR = 978


def pay(tid: int, dr: int, cr: int, amount: int, ledger: int = USD, **kw: int) -> Transfer:
    return Transfer(tid, dr, cr, amount, ledger, kw.pop("code", 1), **kw)


def post(tid: int, pending_id: int, amount: int = AMOUNT_MAX, **kw: int) -> Transfer:
    flags = TransferFlags.POST_PENDING_TRANSFER | kw.pop("flags", 0)
    return Transfer(tid, 0, 0, amount, 0, 0, flags, pending_id=pending_id, **kw)


def void(tid: int, pending_id: int) -> Transfer:
    return Transfer(tid, 0, 0, 0, 0, 0, TransferFlags.VOID_PENDING_TRANSFER, pending_id=pending_id)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())
            for table in ("accounts", "transfers", "pending_transfers", "account_history")
        }
