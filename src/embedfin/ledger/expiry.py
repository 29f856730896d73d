"""Expiry of pending transfers (pure): release what a timed-out hold reserved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from embedfin.ledger.records import PendingChange, PendingInfo, WorkingBalances
from embedfin.ledger.types import (
    Account,
    AccountBalance,
    AccountFlags,
    PendingStatus,
    TransferFlags,
)

_CLOSE_DR = int(TransferFlags.CLOSING_DEBIT)
_CLOSE_CR = int(TransferFlags.CLOSING_CREDIT)
_CLOSED = int(AccountFlags.CLOSED)
_HISTORY = int(AccountFlags.HISTORY)


def expire_pending(
    accounts: Mapping[int, Account], due: Sequence[PendingInfo], now_ns: int
) -> tuple[dict[int, Account], list[PendingChange], list[AccountBalance]]:
    """Release every pending transfer in ``due`` whose expiry is at or before ``now_ns``.

    Expired transfers can be neither posted nor voided afterwards; a closing transfer that
    expires reopens its account.
    """
    working: dict[int, WorkingBalances] = {}
    changes: list[PendingChange] = []
    history: list[AccountBalance] = []
    for info in sorted(due, key=lambda i: (i.expires_at, i.transfer.id)):
        p = info.transfer
        if info.status is not PendingStatus.PENDING or not 0 < info.expires_at <= now_ns:
            continue
        dr = working.get(p.debit_account_id) or working.setdefault(
            p.debit_account_id, WorkingBalances(accounts[p.debit_account_id])
        )
        cr = working.get(p.credit_account_id) or working.setdefault(
            p.credit_account_id, WorkingBalances(accounts[p.credit_account_id])
        )
        dr.dp -= p.amount
        cr.cp -= p.amount
        if p.flags & _CLOSE_DR:
            dr.flags &= ~_CLOSED
        if p.flags & _CLOSE_CR:
            cr.flags &= ~_CLOSED
        changes.append(PendingChange(p.id, PendingStatus.EXPIRED, 0, info.expires_at))
        for w in (dr, cr):
            if w.flags & _HISTORY:
                history.append(
                    AccountBalance(w.account.id, info.expires_at, w.dp, w.dpo, w.cp, w.cpo)
                )
    return {k: w.freeze() for k, w in working.items()}, changes, history
