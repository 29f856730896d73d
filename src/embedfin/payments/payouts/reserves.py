"""The rolling reserve's holds: what each T+1 settlement of a risky merchant held back, until when.

A settlement run moves a merchant's pending balance to available; with a reserve (risk's
``ReservePolicy`` port answers how much and how long) it moves a share into the merchant's
reserve account instead, in the same linked chain, and records a hold. The first settlement run
at or after a hold's ``release_at`` moves what is left of it to available. A refund after
release that the merchant's pending and available balances cannot cover draws on the reserve,
oldest hold first (``draw``): the reserve is there to pay for what a risky merchant's sales
cost afterwards. At every commit the open holds (held − drawn) of a merchant and currency sum
to its reserve account's balance (``reserves_match_ledger``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select, text, update

from embedfin.db.tables import reserve_holds
from embedfin.ledger.check import CheckReport
from embedfin.payments.chart import AccountCode

_H = reserve_holds.c


@dataclass(frozen=True, slots=True)
class ReserveHold:
    hold_id: str
    merchant_id: str
    currency: str
    amount_minor: int
    drawn_minor: int
    reserve_bp: int
    batch_id: str
    held_at: int
    release_at: int
    released_at: int | None

    @property
    def open_minor(self) -> int:
        """What the hold still keeps in the reserve (nothing once released)."""
        return 0 if self.released_at is not None else self.amount_minor - self.drawn_minor


def hold_id_of(tenant: str, batch_id: str, merchant_id: str, currency: str) -> str:
    material = f"{tenant}\x00{batch_id}\x00{merchant_id}\x00{currency}".encode()
    return "rh_" + hashlib.blake2b(material, digest_size=12).hexdigest()


def record_hold(conn: Connection, tenant: str, hold: ReserveHold) -> None:
    conn.execute(
        insert(reserve_holds).values(
            tenant=tenant,
            hold_id=hold.hold_id,
            merchant_id=hold.merchant_id,
            currency=hold.currency,
            amount_minor=hold.amount_minor,
            drawn_minor=0,
            reserve_bp=hold.reserve_bp,
            batch_id=hold.batch_id,
            held_at=hold.held_at,
            release_at=hold.release_at,
        )
    )


def _hold(row: Any) -> ReserveHold:
    return ReserveHold(
        row.hold_id,
        row.merchant_id,
        row.currency,
        int(row.amount_minor),
        int(row.drawn_minor),
        int(row.reserve_bp),
        row.batch_id,
        int(row.held_at),
        int(row.release_at),
        None if row.released_at is None else int(row.released_at),
    )


def due_holds(conn: Connection, tenant: str, as_of: int) -> list[ReserveHold]:
    """Unreleased holds whose term ended by ``as_of``, locked for the release."""
    query = (
        select(reserve_holds)
        .where(_H.tenant == tenant, _H.released_at.is_(None), _H.release_at <= as_of)
        .order_by(_H.release_at, _H.hold_id)
        .with_for_update()
    )
    return [_hold(row) for row in conn.execute(query)]


def mark_released(conn: Connection, tenant: str, hold_id: str, at: int) -> None:
    conn.execute(
        update(reserve_holds)
        .where(_H.tenant == tenant, _H.hold_id == hold_id, _H.released_at.is_(None))
        .values(released_at=at)
    )


def lock_open_holds(conn: Connection, tenant: str, merchant_id: str, currency: str) -> None:
    """Lock the merchant's open holds before reading what its reserve can give: a release
    running at the same time (it locks the holds it releases first) then either waits for
    this refund or has moved the money to available before the balances are read — never
    between the read and the draw, which would refuse a refund the merchant can pay."""
    conn.execute(_open_holds(tenant, merchant_id, currency)).all()


def _open_holds(tenant: str, merchant_id: str, currency: str) -> Select[Any]:
    """The merchant's unreleased holds in ``currency``, oldest first, locked."""
    return (
        select(reserve_holds)
        .where(
            _H.tenant == tenant,
            _H.merchant_id == merchant_id,
            _H.currency == currency,
            _H.released_at.is_(None),
        )
        .order_by(_H.release_at, _H.hold_id)
        .with_for_update()
    )


def draw(conn: Connection, tenant: str, merchant_id: str, currency: str, amount: int) -> None:
    """Take ``amount`` a refund drew from the reserve off the open holds, oldest first (the
    caller checked the reserve account holds it; the ledger refuses more)."""
    left = amount
    for hold in (_hold(row) for row in conn.execute(_open_holds(tenant, merchant_id, currency))):
        if left <= 0:
            break
        part = min(left, hold.open_minor)
        if part:
            conn.execute(
                update(reserve_holds)
                .where(_H.tenant == tenant, _H.hold_id == hold.hold_id)
                .values(drawn_minor=_H.drawn_minor + part)
            )
            left -= part


def list_holds(
    conn: Connection, tenant: str, merchant_id: str | None = None, *, limit: int = 100
) -> list[ReserveHold]:
    query = select(reserve_holds).where(_H.tenant == tenant)
    if merchant_id is not None:
        query = query.where(_H.merchant_id == merchant_id)
    query = query.order_by(_H.held_at.desc(), _H.hold_id).limit(limit)
    return [_hold(row) for row in conn.execute(query)]


def open_totals(conn: Connection, tenant: str) -> dict[tuple[str, str], int]:
    """(merchant, currency) → what the reserve still holds for it."""
    query = (
        select(_H.merchant_id, _H.currency, func.sum(_H.amount_minor - _H.drawn_minor))
        .where(_H.tenant == tenant, _H.released_at.is_(None))
        .group_by(_H.merchant_id, _H.currency)
    )
    return {(m, c): int(total) for m, c, total in conn.execute(query)}


def reserves_match_ledger(conn: Connection, report: CheckReport) -> None:
    """Every merchant's reserve account holds exactly its open holds (held − drawn)."""
    holds: dict[tuple[str, str, str], int] = defaultdict(int)
    for tenant, merchant, currency, total in conn.execute(
        select(_H.tenant, _H.merchant_id, _H.currency, func.sum(_H.amount_minor - _H.drawn_minor))
        .where(_H.released_at.is_(None))
        .group_by(_H.tenant, _H.merchant_id, _H.currency)
    ):
        holds[(tenant, merchant, currency)] += int(total)
    balances: dict[tuple[str, str, str], int] = defaultdict(int)
    for tenant, merchant, currency, debits, credits in conn.execute(
        text(
            "SELECT pa.tenant, pa.owner_id, pa.currency, SUM(a.debits_posted),"
            " SUM(a.credits_posted) FROM accounts a JOIN payment_accounts pa"
            " ON pa.account_id = a.id WHERE pa.code = :code"
            " GROUP BY pa.tenant, pa.owner_id, pa.currency"
        ),
        {"code": int(AccountCode.MERCHANT_RESERVE)},
    ):
        balances[(tenant, merchant, currency)] += int(credits) - int(debits)
    for key in sorted(set(holds) | set(balances)):
        if holds[key] != balances[key]:
            tenant, merchant, currency = key
            report.fail(
                "reserves_match_ledger",
                f"tenant {tenant}, merchant {merchant}: open reserve holds {holds[key]}"
                f" {currency} != reserve account balance {balances[key]}",
            )
