"""Opening the chart's ledger accounts and recording who owns them (idempotent); which accounts
an owner kind has (the read other contexts use instead of ``payment_accounts``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, insert, select

from embedfin.core.errors import LedgerRejected
from embedfin.db.tables import payment_accounts
from embedfin.ledger.chart import ChartAccountCode
from embedfin.ledger.service import LedgerTransaction
from embedfin.ledger.types import CreateAccountResult
from embedfin.payments.chart import AccountKey


def open_accounts(tx: LedgerTransaction, keys: Sequence[AccountKey]) -> None:
    """Make sure every key's ledger account exists and is registered; safe to repeat."""
    known = tx.ledger.known_accounts
    unique = [k for k in {k.account_id: k for k in keys}.values() if k.account_id not in known]
    if not unique:
        return
    results = tx.create_accounts([k.account() for k in unique])
    for key, result in zip(unique, results, strict=True):
        if result not in (CreateAccountResult.OK, CreateAccountResult.EXISTS):
            raise LedgerRejected(f"account {key} could not be opened: {result}")
    registered = set(
        tx.conn.execute(
            select(payment_accounts.c.account_id).where(
                payment_accounts.c.account_id.in_(bindparam("ids", expanding=True))
            ),
            {"ids": [k.account_id for k in unique]},
        ).scalars()
    )
    fresh = [k for k in unique if k.account_id not in registered]
    if fresh:
        tx.conn.execute(
            insert(payment_accounts),
            [
                {
                    "account_id": k.account_id,
                    "tenant": k.tenant,
                    "owner_kind": k.owner_kind,
                    "owner_id": k.owner_id,
                    "currency": k.currency,
                    "code": int(k.code),
                }
                for k in fresh
            ],
        )
    ids = [k.account_id for k in unique]
    tx.after_commit(lambda: known.update(ids))


def owned_accounts(
    conn: Connection, tenant: str, owner_kind: str, code: ChartAccountCode
) -> list[AccountKey]:
    """Every opened account of ``owner_kind`` at chart position ``code`` in the tenant, by owner
    and currency."""
    pa = payment_accounts.c
    rows = conn.execute(
        select(pa.owner_id, pa.currency)
        .where(pa.tenant == tenant, pa.owner_kind == owner_kind, pa.code == int(code))
        .order_by(pa.owner_id, pa.currency)
    ).all()
    return [AccountKey(tenant, owner_kind, str(owner), str(cur), code) for owner, cur in rows]


class RegisteredAccount(NamedTuple):
    """An opened account as the registry records it (its code a bare number)."""

    owner_kind: str
    owner_id: str
    currency: str
    code: int
    account_id: int


def tenant_accounts(conn: Connection, tenant: str) -> list[RegisteredAccount]:
    """Every opened account of the tenant (any owner, any chart position), for read models
    that walk the whole book (the exposure network of ``systemic``)."""
    pa = payment_accounts.c
    rows = conn.execute(
        select(pa.owner_kind, pa.owner_id, pa.currency, pa.code, pa.account_id)
        .where(pa.tenant == tenant)
        .order_by(pa.owner_kind, pa.owner_id, pa.currency, pa.code)
    ).all()
    return [
        RegisteredAccount(str(kind), str(owner), str(cur), int(code), int(account_id))
        for kind, owner, cur, code, account_id in rows
    ]
