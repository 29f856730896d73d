"""Posting and voiding a pending transfer (pure): the second phase of a two-phase transfer.

A post moves up to the held amount from pending to posted on both accounts; a void releases
the whole hold (and reopens an account a closing transfer had closed). Either resolves the
pending transfer once: a later post, void or expiry of it fails. Expiry itself is
``ledger.expiry``.
"""

from __future__ import annotations

from embedfin.ledger.batch_state import BatchState
from embedfin.ledger.records import PendingChange, WorkingBalances
from embedfin.ledger.types import (
    AccountFlags,
    CreateTransferResult,
    PendingStatus,
    Transfer,
    TransferFlags,
)
from embedfin.ledger.validation import (
    I64_MAX,
    check_against_pending,
    check_post_or_void_fields,
    compare_existing_post_or_void,
    resolved_amount,
)

R = CreateTransferResult

_POST = int(TransferFlags.POST_PENDING_TRANSFER)
_CLOSE_DR = int(TransferFlags.CLOSING_DEBIT)
_CLOSE_CR = int(TransferFlags.CLOSING_CREDIT)
_CLOSED = int(AccountFlags.CLOSED)


def post_or_void(batch: BatchState, t: Transfer, flags: int, ts: int) -> CreateTransferResult:
    """Every check of a post or void in TigerBeetle's order, then the resolution."""
    failure = check_post_or_void_fields(t, flags)
    if failure is not None:
        return failure
    p = batch.find_pending(t.pending_id)
    if p is None:
        return R.PENDING_TRANSFER_NOT_FOUND
    post = flags & _POST
    failure = check_against_pending(t, p, post)
    if failure is not None:
        return failure
    found = batch.existing(t.id)
    if found is not None:
        return compare_existing_post_or_void(t, found)
    status, expires_at = batch.pending_state(t.pending_id)
    if status is PendingStatus.POSTED:
        return R.PENDING_TRANSFER_ALREADY_POSTED
    if status is PendingStatus.VOIDED:
        return R.PENDING_TRANSFER_ALREADY_VOIDED
    if status is PendingStatus.EXPIRED or (expires_at and ts >= expires_at):
        return R.PENDING_TRANSFER_EXPIRED
    dr_acc = batch.accounts.get(p.debit_account_id)
    cr_acc = batch.accounts.get(p.credit_account_id)
    if dr_acc is None:
        return R.DEBIT_ACCOUNT_NOT_FOUND
    if cr_acc is None:
        return R.CREDIT_ACCOUNT_NOT_FOUND
    dr = batch.work(dr_acc)
    cr = batch.work(cr_acc)
    amount = resolved_amount(t, p, post)
    if post:
        if dr.dpo + amount > I64_MAX:
            return R.OVERFLOWS_DEBITS_POSTED
        if cr.cpo + amount > I64_MAX:
            return R.OVERFLOWS_CREDITS_POSTED
    _resolve(batch, t, p, flags, amount, dr, cr, ts)
    return R.OK


def _resolve(
    batch: BatchState,
    t: Transfer,
    p: Transfer,
    flags: int,
    amount: int,
    dr: WorkingBalances,
    cr: WorkingBalances,
    ts: int,
) -> None:
    """Release the hold, post ``amount`` (if a post), and record the resolving transfer."""
    post = flags & _POST
    dr.dp -= p.amount
    cr.cp -= p.amount
    if post:
        dr.dpo += amount
        cr.cpo += amount
    else:
        if p.flags & _CLOSE_DR:
            dr.flags &= ~_CLOSED
        if p.flags & _CLOSE_CR:
            cr.flags &= ~_CLOSED
    final = PendingStatus.POSTED if post else PendingStatus.VOIDED
    batch.resolved.append(PendingChange(t.pending_id, final, t.id, ts))
    batch.resolved_by_id[t.pending_id] = final
    resolved = t._replace(
        debit_account_id=p.debit_account_id,
        credit_account_id=p.credit_account_id,
        amount=amount,
        ledger=p.ledger,
        code=p.code,
        flags=flags,
        timestamp=ts,
    )
    batch.record(resolved, dr, cr, ts)
