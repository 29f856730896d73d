"""The rows of wallet movements: read by request id, sum a day's withdrawals, insert.

Only ``wallets.Wallets`` calls these, inside its unit of work; each takes the connection and
the tenant, so that the service reads as the steps of a command and the SQL stays here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select

from embedfin.core.money import Money
from embedfin.db.outbox import append_events
from embedfin.db.tables import wallet_movements
from embedfin.payments.wallet_records import WalletMovement, movement_event

#: request ids per ``IN`` list
_CHUNK = 500


def movement_of(row: Any) -> WalletMovement | None:
    """A stored row as the movement it recorded (marked as a replay), or None."""
    if row is None:
        return None
    return WalletMovement(
        row["transfer_id"],
        row["request_id"],
        row["kind"],
        row["owner_kind"],
        row["owner_id"],
        Money(row["amount_minor"], row["currency"]),
        row["channel"],
        row["bank_last4"],
        row["created_at"],
        replayed=True,
    )


def stored_movements(conn: Connection, tenant: str, request_ids: list[str]) -> dict[str, Any]:
    """The recorded movements of these request ids, by request id (500 per query)."""
    cols = wallet_movements.c
    stored: dict[str, Any] = {}
    for start in range(0, len(request_ids), _CHUNK):
        for row in conn.execute(
            select(wallet_movements).where(
                cols.tenant == tenant,
                cols.request_id.in_(request_ids[start : start + _CHUNK]),
            )
        ).mappings():
            stored[row["request_id"]] = row
    return stored


def stored_movement(conn: Connection, tenant: str, request_id: str) -> Any:
    """The row recorded under one request id, or None."""
    m = wallet_movements.c
    return (
        conn.execute(select(wallet_movements).where(m.tenant == tenant, m.request_id == request_id))
        .mappings()
        .first()
    )


def withdrawn_since(conn: Connection, tenant: str, request: WalletMovement, since: int) -> int:
    """What the owner of ``request``'s wallet has withdrawn in its currency since ``since``."""
    m = wallet_movements.c
    so_far = conn.execute(
        select(func.coalesce(func.sum(m.amount_minor), 0)).where(
            m.tenant == tenant,
            m.owner_id == request.owner_id,
            m.owner_kind == request.owner_kind,
            m.kind == "withdrawal",
            m.currency == request.amount.currency,
            m.created_at >= since,
        )
    ).scalar_one()
    return int(so_far)


def record_movements(
    conn: Connection,
    tenant: str,
    requests: Sequence[WalletMovement],
    sealed_tokens: Sequence[str | None],
) -> None:
    """The movements' rows and events (one statement each); ``sealed_tokens`` are the
    encrypted bank tokens, one per movement (None for none)."""
    if not requests:
        return
    conn.execute(
        insert(wallet_movements),
        [
            {
                "transfer_id": r.transfer_id,
                "tenant": tenant,
                "request_id": r.request_id,
                "owner_kind": r.owner_kind,
                "owner_id": r.owner_id,
                "kind": r.kind,
                "amount_minor": r.amount.amount_minor,
                "currency": r.amount.currency,
                "channel": r.channel,
                "bank_token": token,
                "bank_last4": r.bank_last4,
                "created_at": r.created_at_ns,
            }
            for r, token in zip(requests, sealed_tokens, strict=True)
        ],
    )
    append_events(conn, [movement_event(tenant, r) for r in requests])
