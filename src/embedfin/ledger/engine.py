"""The ledger's rules as pure functions: a batch and a snapshot in, results and new state out.

Nothing here reads a database or a clock. The service hands in a ``Snapshot`` holding every
account, stored transfer and pending transfer the batch can refer to, and the first timestamp
to assign; it gets back one result per event and the state to persist. Validation order and
result codes follow TigerBeetle's ``create_accounts`` / ``create_transfers``.

This module is the write path of one transfer: a fast path for the common valid case and the
full path for anything else. The checks themselves are ``validation``, the batch's state and
its linked-chain savepoints ``batch_state``, posting and voiding ``pending``.
"""

from __future__ import annotations

from collections.abc import Sequence

from embedfin.core.clock import NS_PER_SECOND
from embedfin.ledger.batch_state import BatchState
from embedfin.ledger.chains import run_linked
from embedfin.ledger.pending import post_or_void
from embedfin.ledger.records import Snapshot, TransferOutcome, WorkingBalances
from embedfin.ledger.types import (
    AMOUNT_MAX,
    TIMEOUT_MAX,
    U16_MAX,
    U32_MAX,
    U128_MAX,
    AccountFlags,
    CreateTransferResult,
    Transfer,
    TransferFlags,
)
from embedfin.ledger.validation import (
    I64_MAX,
    bad_user_data,
    balanced_amount,
    check_header,
    check_limits,
    check_new_fields,
    check_overflows,
    check_same_ledger,
    compare_existing,
)

R = CreateTransferResult

_LINKED = int(TransferFlags.LINKED)
_PENDING = int(TransferFlags.PENDING)
_POST = int(TransferFlags.POST_PENDING_TRANSFER)
_VOID = int(TransferFlags.VOID_PENDING_TRANSFER)
_CLOSE_DR = int(TransferFlags.CLOSING_DEBIT)
_CLOSE_CR = int(TransferFlags.CLOSING_CREDIT)
_DMNEC = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CMNED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
_HISTORY = int(AccountFlags.HISTORY)
_CLOSED = int(AccountFlags.CLOSED)
# Flags the fast path leaves to the full validation.
_NOT_FAST = ~(_LINKED | _PENDING)
_OK = CreateTransferResult.OK
_EXCEEDS_CREDITS = CreateTransferResult.EXCEEDS_CREDITS
_EXCEEDS_DEBITS = CreateTransferResult.EXCEEDS_DEBITS


def _new_transfer(fields: tuple[int, ...]) -> Transfer:
    return tuple.__new__(Transfer, fields)


class _TransferBatch(BatchState):
    def execute(self, index: int, t: Transfer) -> CreateTransferResult:
        """Fast path for the common, valid case; anything unusual goes to ``execute_checked``.

        The fast path returns only ``ok``, ``exceeds_credits`` or ``exceeds_debits``, which are
        the last checks in the validation order, so it can never disagree with the full path.
        """
        tid, dr_id, cr_id, amount, ledger, code, flags, pending_id, timeout = t[:9]
        if type(flags) is not int:
            flags = int(flags)
        if (
            flags & _NOT_FAST
            or t.timestamp
            or pending_id
            or not (0 < tid < U128_MAX and 0 < dr_id < U128_MAX and 0 < cr_id < U128_MAX)
            or dr_id == cr_id
            or not 0 < amount <= AMOUNT_MAX
            or not 0 < ledger <= U32_MAX
            or not 0 < code <= U16_MAX
            or (timeout and not (flags & _PENDING and 0 < timeout <= TIMEOUT_MAX))
            or ((t.user_data_128 or t.user_data_64 or t.user_data_32) and bad_user_data(t))
        ):
            return self.execute_checked(index, t)
        dr_acc = self.accounts.get(dr_id)
        cr_acc = self.accounts.get(cr_id)
        if (
            dr_acc is None
            or cr_acc is None
            or dr_acc.ledger != ledger
            or cr_acc.ledger != ledger
            or tid in self.created_by_id
            or tid in self.stored
        ):
            return self.execute_checked(index, t)
        working = self.working
        dr = working.get(dr_id)
        if dr is None:
            dr = working[dr_id] = WorkingBalances(dr_acc)
        cr = working.get(cr_id)
        if cr is None:
            cr = working[cr_id] = WorkingBalances(cr_acc)
        if (dr.flags | cr.flags) & _CLOSED or (
            dr.dp + dr.dpo + amount > I64_MAX or cr.cp + cr.cpo + amount > I64_MAX
        ):
            return self.execute_checked(index, t)
        ts = self.first_timestamp + index
        expires_at = ts + timeout * NS_PER_SECOND if timeout else 0
        if expires_at > I64_MAX:
            return self.execute_checked(index, t)
        if dr.flags & _DMNEC and dr.dp + dr.dpo + amount > dr.cpo:
            return _EXCEEDS_CREDITS
        if cr.flags & _CMNED and cr.cp + cr.cpo + amount > cr.dpo:
            return _EXCEEDS_DEBITS
        self.book_fast(t, flags, dr, cr, ts, expires_at)
        return _OK

    def book_fast(
        self,
        t: Transfer,
        flags: int,
        dr: WorkingBalances,
        cr: WorkingBalances,
        ts: int,
        expires_at: int,
    ) -> None:
        """Book a transfer the fast path accepted (neither balancing, closing nor post/void)."""
        amount = t[3]
        if self.undo is not None:
            self.undo.append((dr, dr.flags, dr.dp, dr.dpo, dr.cp, dr.cpo))
            self.undo.append((cr, cr.flags, cr.dp, cr.dpo, cr.cp, cr.cpo))
        if flags & _PENDING:
            dr.dp += amount
            cr.cp += amount
            tid = t[0]
            self.new_pendings.append((tid, expires_at))
            self.new_expiry[tid] = expires_at
        else:
            dr.dpo += amount
            cr.cpo += amount
        # the fast path took only transfers whose pending_id is 0: t[7:12] is stored as given
        created = _new_transfer((*t[:6], flags, *t[7:12], ts))
        self.created.append(created)
        self.created_by_id[created[0]] = created
        if (dr.flags | cr.flags) & _HISTORY:
            self.record_history(dr, cr, ts)

    def execute_checked(self, index: int, t: Transfer) -> CreateTransferResult:
        """Every check, in TigerBeetle's order, for any transfer."""
        ts = self.first_timestamp + index
        flags = int(t.flags)
        failure = check_header(t, flags)
        if failure is not None:
            return failure
        if flags & (_POST | _VOID):
            return post_or_void(self, t, flags, ts)
        failure = check_new_fields(t, flags)
        if failure is not None:
            return failure
        dr_acc = self.accounts.get(t.debit_account_id)
        cr_acc = self.accounts.get(t.credit_account_id)
        if dr_acc is None:
            return R.DEBIT_ACCOUNT_NOT_FOUND
        if cr_acc is None:
            return R.CREDIT_ACCOUNT_NOT_FOUND
        failure = check_same_ledger(t, dr_acc, cr_acc)
        if failure is not None:
            return failure
        found = self.existing(t.id)
        if found is not None:
            return compare_existing(t, found)
        dr = self.work(dr_acc)
        cr = self.work(cr_acc)
        if dr.flags & _CLOSED:
            return R.DEBIT_ACCOUNT_ALREADY_CLOSED
        if cr.flags & _CLOSED:
            return R.CREDIT_ACCOUNT_ALREADY_CLOSED
        amount = balanced_amount(flags, t.amount, dr, cr)
        pending = flags & _PENDING
        failure = check_overflows(dr, cr, amount, pending)
        if failure is not None:
            return failure
        expires_at = ts + t.timeout * NS_PER_SECOND if pending and t.timeout else 0
        if expires_at > I64_MAX:
            return R.OVERFLOWS_TIMEOUT
        failure = check_limits(dr, cr, amount)
        if failure is not None:
            return failure
        self.book_checked(t, flags, amount, dr, cr, ts, expires_at)
        return R.OK

    def book_checked(
        self,
        t: Transfer,
        flags: int,
        amount: int,
        dr: WorkingBalances,
        cr: WorkingBalances,
        ts: int,
        expires_at: int,
    ) -> None:
        """Book a transfer the full path accepted, closing its accounts if it says so."""
        if flags & _PENDING:
            dr.dp += amount
            cr.cp += amount
            if flags & _CLOSE_DR:
                dr.flags |= _CLOSED
            if flags & _CLOSE_CR:
                cr.flags |= _CLOSED
            self.new_pendings.append((t.id, expires_at))
            self.new_expiry[t.id] = expires_at
        else:
            dr.dpo += amount
            cr.cpo += amount
        self.record(t._replace(amount=amount, flags=flags, timestamp=ts), dr, cr, ts)


def _transfer_linked(t: Transfer) -> bool:
    return int(t.flags) & _LINKED != 0


def create_transfers(
    batch: Sequence[Transfer], snapshot: Snapshot, first_timestamp: int
) -> TransferOutcome:
    """Validate and apply a batch of transfers against ``snapshot``.

    Event ``i`` gets timestamp ``first_timestamp + i`` (whether or not it succeeds), so
    timestamps are unique and ordered.
    """
    run = _TransferBatch(snapshot, first_timestamp)
    results = run_linked(
        batch,
        _transfer_linked,
        run.execute,
        run.savepoint,
        run.rollback,
        run.release,
        R.OK,
        R.LINKED_EVENT_FAILED,
        R.LINKED_EVENT_CHAIN_OPEN,
    )
    return TransferOutcome(
        results,
        run.created,
        run.changed_accounts(),
        run.new_pendings,
        run.resolved,
        run.history,
        first_timestamp + max(len(batch) - 1, 0),
    )
