"""The ledger's rules as pure functions: a batch and a snapshot in, results and new state out.

Nothing here reads a database or a clock. The service hands in a ``Snapshot`` holding every
account, stored transfer and pending transfer the batch can refer to, and the first timestamp
to assign; it gets back one result per event and the state to persist. Validation order and
result codes follow TigerBeetle's ``create_accounts`` / ``create_transfers``.
"""

from __future__ import annotations

from collections.abc import Sequence

from embedfin.core.clock import NS_PER_SECOND
from embedfin.ledger.chains import run_linked
from embedfin.ledger.records import (
    PendingChange,
    Snapshot,
    TransferOutcome,
    WorkingBalances,
)
from embedfin.ledger.types import (
    AMOUNT_MAX,
    TIMEOUT_MAX,
    U16_MAX,
    U32_MAX,
    U64_MAX,
    U128_MAX,
    Account,
    AccountBalance,
    AccountFlags,
    CreateTransferResult,
    PendingStatus,
    Transfer,
    TransferFlags,
)

R = CreateTransferResult

_LINKED = int(TransferFlags.LINKED)
_PENDING = int(TransferFlags.PENDING)
_POST = int(TransferFlags.POST_PENDING_TRANSFER)
_VOID = int(TransferFlags.VOID_PENDING_TRANSFER)
_BAL_DR = int(TransferFlags.BALANCING_DEBIT)
_BAL_CR = int(TransferFlags.BALANCING_CREDIT)
_CLOSE_DR = int(TransferFlags.CLOSING_DEBIT)
_CLOSE_CR = int(TransferFlags.CLOSING_CREDIT)
_TRANSFER_FLAGS = sum(int(f) for f in TransferFlags)
_DMNEC = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CMNED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
_HISTORY = int(AccountFlags.HISTORY)
_CLOSED = int(AccountFlags.CLOSED)
_I64_MAX = (1 << 63) - 1
# Flags the fast path leaves to the full validation.
_NOT_FAST = ~(_LINKED | _PENDING)
_OK = CreateTransferResult.OK
_EXCEEDS_CREDITS = CreateTransferResult.EXCEEDS_CREDITS
_EXCEEDS_DEBITS = CreateTransferResult.EXCEEDS_DEBITS


def _new_transfer(fields: tuple[int, ...]) -> Transfer:
    return tuple.__new__(Transfer, fields)


def bad_u128(value: int) -> bool:
    return value < 0 or value > U128_MAX


class _TransferBatch:
    def __init__(self, snapshot: Snapshot, first_timestamp: int) -> None:
        self.accounts = snapshot.accounts
        self.stored = snapshot.transfers
        self.pendings = snapshot.pendings
        self.first_timestamp = first_timestamp
        self.working: dict[int, WorkingBalances] = {}
        self.created: list[Transfer] = []
        self.created_by_id: dict[int, Transfer] = {}
        self.new_pendings: list[tuple[int, int]] = []
        self.new_expiry: dict[int, int] = {}
        self.resolved: list[PendingChange] = []
        self.resolved_by_id: dict[int, PendingStatus] = {}
        self.history: list[AccountBalance] = []
        self.undo: list[tuple[WorkingBalances, int, int, int, int, int]] | None = None

    # --- linked-chain savepoints -------------------------------------------------------------
    def savepoint(self) -> object:
        self.undo = []
        return (len(self.created), len(self.new_pendings), len(self.resolved), len(self.history))

    def rollback(self, mark: object) -> None:
        assert isinstance(mark, tuple)
        assert self.undo is not None
        n_created, n_pendings, n_resolved, n_history = mark
        for w, flags, dp, dpo, cp, cpo in reversed(self.undo):
            w.flags, w.dp, w.dpo, w.cp, w.cpo = flags, dp, dpo, cp, cpo
        for t in self.created[n_created:]:
            del self.created_by_id[t.id]
        del self.created[n_created:]
        for pid, _ in self.new_pendings[n_pendings:]:
            del self.new_expiry[pid]
        del self.new_pendings[n_pendings:]
        for change in self.resolved[n_resolved:]:
            del self.resolved_by_id[change.pending_id]
        del self.resolved[n_resolved:]
        del self.history[n_history:]

    def release(self) -> None:
        self.undo = None

    # --- helpers ------------------------------------------------------------------------------
    def work(self, account: Account) -> WorkingBalances:
        w = self.working.get(account.id)
        if w is None:
            w = self.working[account.id] = WorkingBalances(account)
        if self.undo is not None:
            self.undo.append((w, w.flags, w.dp, w.dpo, w.cp, w.cpo))
        return w

    def existing(self, transfer_id: int) -> Transfer | None:
        found = self.created_by_id.get(transfer_id)
        return found if found is not None else self.stored.get(transfer_id)

    def record(self, t: Transfer, dr: WorkingBalances, cr: WorkingBalances, ts: int) -> None:
        self.created.append(t)
        self.created_by_id[t.id] = t
        self.record_history(dr, cr, ts)

    def record_history(self, dr: WorkingBalances, cr: WorkingBalances, ts: int) -> None:
        for w in (dr, cr):
            if w.flags & _HISTORY:
                self.history.append(AccountBalance(w.account.id, ts, w.dp, w.dpo, w.cp, w.cpo))

    # --- create one transfer ------------------------------------------------------------------
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
            dr.dp + dr.dpo + amount > _I64_MAX or cr.cp + cr.cpo + amount > _I64_MAX
        ):
            return self.execute_checked(index, t)
        ts = self.first_timestamp + index
        expires_at = 0
        if timeout:
            expires_at = ts + timeout * NS_PER_SECOND
            if expires_at > _I64_MAX:
                return self.execute_checked(index, t)
        if dr.flags & _DMNEC and dr.dp + dr.dpo + amount > dr.cpo:
            return _EXCEEDS_CREDITS
        if cr.flags & _CMNED and cr.cp + cr.cpo + amount > cr.dpo:
            return _EXCEEDS_DEBITS
        if self.undo is not None:
            self.undo.append((dr, dr.flags, dr.dp, dr.dpo, dr.cp, dr.cpo))
            self.undo.append((cr, cr.flags, cr.dp, cr.dpo, cr.cp, cr.cpo))
        if flags & _PENDING:
            dr.dp += amount
            cr.cp += amount
            self.new_pendings.append((tid, expires_at))
            self.new_expiry[tid] = expires_at
        else:
            dr.dpo += amount
            cr.cpo += amount
        created = _new_transfer(
            (tid, dr_id, cr_id, amount, ledger, code, flags, 0, timeout, *t[9:12], ts)
        )
        self.created.append(created)
        self.created_by_id[tid] = created
        if (dr.flags | cr.flags) & _HISTORY:
            self.record_history(dr, cr, ts)
        return _OK

    def execute_checked(self, index: int, t: Transfer) -> CreateTransferResult:
        """Every check, in TigerBeetle's order, for any transfer."""
        ts = self.first_timestamp + index
        flags = int(t.flags)
        if t.timestamp != 0:
            return R.TIMESTAMP_MUST_BE_ZERO
        if flags & ~_TRANSFER_FLAGS or flags < 0:
            return R.RESERVED_FLAG
        tid = t.id
        if tid == 0:
            return R.ID_MUST_NOT_BE_ZERO
        if tid == U128_MAX:
            return R.ID_MUST_NOT_BE_INT_MAX
        if bad_u128(tid):
            return R.ID_OUT_OF_RANGE
        if flags & (_POST | _VOID):
            return self.post_or_void(t, ts)
        if flags & _PENDING == 0 and flags & (_CLOSE_DR | _CLOSE_CR):
            return R.CLOSING_TRANSFER_MUST_BE_PENDING
        dr_id = t.debit_account_id
        cr_id = t.credit_account_id
        if dr_id == 0:
            return R.DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO
        if dr_id == U128_MAX:
            return R.DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX
        if cr_id == 0:
            return R.CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO
        if cr_id == U128_MAX:
            return R.CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX
        if dr_id == cr_id:
            return R.ACCOUNTS_MUST_BE_DIFFERENT
        if t.pending_id != 0:
            return R.PENDING_ID_MUST_BE_ZERO
        if flags & _PENDING == 0 and t.timeout != 0:
            return R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER
        amount = t.amount
        if amount < 0:
            return R.AMOUNT_MUST_NOT_BE_NEGATIVE
        if amount > AMOUNT_MAX:
            return R.AMOUNT_OUT_OF_RANGE
        if amount == 0 and not flags & (_BAL_DR | _BAL_CR):
            return R.AMOUNT_MUST_NOT_BE_ZERO
        if t.ledger == 0:
            return R.LEDGER_MUST_NOT_BE_ZERO
        if not 0 < t.ledger <= U32_MAX:
            return R.LEDGER_OUT_OF_RANGE
        if t.code == 0:
            return R.CODE_MUST_NOT_BE_ZERO
        if not 0 < t.code <= U16_MAX:
            return R.CODE_OUT_OF_RANGE
        if bad_user_data(t):
            return R.USER_DATA_OUT_OF_RANGE
        if not 0 <= t.timeout <= TIMEOUT_MAX:
            return R.OVERFLOWS_TIMEOUT
        dr_acc = self.accounts.get(dr_id)
        if dr_acc is None:
            return R.DEBIT_ACCOUNT_NOT_FOUND
        cr_acc = self.accounts.get(cr_id)
        if cr_acc is None:
            return R.CREDIT_ACCOUNT_NOT_FOUND
        if dr_acc.ledger != cr_acc.ledger:
            return R.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER
        if t.ledger != dr_acc.ledger:
            return R.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS
        found = self.existing(tid)
        if found is not None:
            return _compare_existing(t, found)
        dr = self.work(dr_acc)
        cr = self.work(cr_acc)
        if dr.flags & _CLOSED:
            return R.DEBIT_ACCOUNT_ALREADY_CLOSED
        if cr.flags & _CLOSED:
            return R.CREDIT_ACCOUNT_ALREADY_CLOSED
        if flags & _BAL_DR:
            amount = max(0, min(amount, dr.cpo - dr.dpo - dr.dp))
        if flags & _BAL_CR:
            amount = max(0, min(amount, cr.dpo - cr.cpo - cr.cp))
        pending = flags & _PENDING
        if pending:
            if dr.dp + amount > _I64_MAX:
                return R.OVERFLOWS_DEBITS_PENDING
            if cr.cp + amount > _I64_MAX:
                return R.OVERFLOWS_CREDITS_PENDING
        else:
            if dr.dpo + amount > _I64_MAX:
                return R.OVERFLOWS_DEBITS_POSTED
            if cr.cpo + amount > _I64_MAX:
                return R.OVERFLOWS_CREDITS_POSTED
        if dr.dp + dr.dpo + amount > _I64_MAX:
            return R.OVERFLOWS_DEBITS
        if cr.cp + cr.cpo + amount > _I64_MAX:
            return R.OVERFLOWS_CREDITS
        expires_at = 0
        if pending and t.timeout:
            expires_at = ts + t.timeout * NS_PER_SECOND
            if expires_at > _I64_MAX:
                return R.OVERFLOWS_TIMEOUT
        if dr.flags & _DMNEC and dr.dp + dr.dpo + amount > dr.cpo:
            return R.EXCEEDS_CREDITS
        if cr.flags & _CMNED and cr.cp + cr.cpo + amount > cr.dpo:
            return R.EXCEEDS_DEBITS
        if pending:
            dr.dp += amount
            cr.cp += amount
            if flags & _CLOSE_DR:
                dr.flags |= _CLOSED
            if flags & _CLOSE_CR:
                cr.flags |= _CLOSED
            self.new_pendings.append((tid, expires_at))
            self.new_expiry[tid] = expires_at
        else:
            dr.dpo += amount
            cr.cpo += amount
        self.record(t._replace(amount=amount, flags=flags, timestamp=ts), dr, cr, ts)
        return R.OK

    def post_or_void(self, t: Transfer, ts: int) -> CreateTransferResult:
        flags = int(t.flags)
        post = flags & _POST
        if (post and flags & _VOID) or flags & (
            _PENDING | _BAL_DR | _BAL_CR | _CLOSE_DR | _CLOSE_CR
        ):
            return R.FLAGS_ARE_MUTUALLY_EXCLUSIVE
        pid = t.pending_id
        if pid == 0:
            return R.PENDING_ID_MUST_NOT_BE_ZERO
        if pid == U128_MAX:
            return R.PENDING_ID_MUST_NOT_BE_INT_MAX
        if pid == t.id:
            return R.PENDING_ID_MUST_BE_DIFFERENT
        if t.timeout != 0:
            return R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER
        if t.amount < 0:
            return R.AMOUNT_MUST_NOT_BE_NEGATIVE
        if t.amount > AMOUNT_MAX:
            return R.AMOUNT_OUT_OF_RANGE
        if post and t.amount == 0:
            return R.AMOUNT_MUST_NOT_BE_ZERO
        if not 0 <= t.ledger <= U32_MAX:
            return R.LEDGER_OUT_OF_RANGE
        if not 0 <= t.code <= U16_MAX:
            return R.CODE_OUT_OF_RANGE
        if bad_user_data(t):
            return R.USER_DATA_OUT_OF_RANGE
        p = self.created_by_id.get(pid)
        if p is None:
            info = self.pendings.get(pid)
            p = info.transfer if info is not None else self.stored.get(pid)
        if p is None:
            return R.PENDING_TRANSFER_NOT_FOUND
        if not p.flags & _PENDING:
            return R.PENDING_TRANSFER_NOT_PENDING
        if t.debit_account_id and t.debit_account_id != p.debit_account_id:
            return R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID
        if t.credit_account_id and t.credit_account_id != p.credit_account_id:
            return R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID
        if t.ledger and t.ledger != p.ledger:
            return R.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER
        if t.code and t.code != p.code:
            return R.PENDING_TRANSFER_HAS_DIFFERENT_CODE
        if post:
            amount = p.amount if t.amount == AMOUNT_MAX else t.amount
            if amount > p.amount:
                return R.EXCEEDS_PENDING_TRANSFER_AMOUNT
        else:
            if t.amount not in (0, p.amount, AMOUNT_MAX):
                return R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT
            amount = p.amount
        found = self.existing(t.id)
        if found is not None:
            return _compare_existing_post_or_void(t, found)
        status, expires_at = self.pending_state(pid)
        if status is PendingStatus.POSTED:
            return R.PENDING_TRANSFER_ALREADY_POSTED
        if status is PendingStatus.VOIDED:
            return R.PENDING_TRANSFER_ALREADY_VOIDED
        if status is PendingStatus.EXPIRED or (expires_at and ts >= expires_at):
            return R.PENDING_TRANSFER_EXPIRED
        dr_acc = self.accounts.get(p.debit_account_id)
        cr_acc = self.accounts.get(p.credit_account_id)
        if dr_acc is None:
            return R.DEBIT_ACCOUNT_NOT_FOUND
        if cr_acc is None:
            return R.CREDIT_ACCOUNT_NOT_FOUND
        dr = self.work(dr_acc)
        cr = self.work(cr_acc)
        if post:
            if dr.dpo + amount > _I64_MAX:
                return R.OVERFLOWS_DEBITS_POSTED
            if cr.cpo + amount > _I64_MAX:
                return R.OVERFLOWS_CREDITS_POSTED
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
        self.resolved.append(PendingChange(pid, final, t.id, ts))
        self.resolved_by_id[pid] = final
        resolved = t._replace(
            debit_account_id=p.debit_account_id,
            credit_account_id=p.credit_account_id,
            amount=amount,
            ledger=p.ledger,
            code=p.code,
            flags=flags,
            timestamp=ts,
        )
        self.record(resolved, dr, cr, ts)
        return R.OK

    def pending_state(self, pid: int) -> tuple[PendingStatus, int]:
        resolved = self.resolved_by_id.get(pid)
        if pid in self.new_expiry:
            return resolved or PendingStatus.PENDING, self.new_expiry[pid]
        info = self.pendings.get(pid)
        if info is None:  # the service loads every referenced pending; treat a gap as final
            return PendingStatus.EXPIRED, 0
        return resolved or info.status, info.expires_at


def bad_user_data(t: Transfer | Account) -> bool:
    return (
        bad_u128(t.user_data_128)
        or not 0 <= t.user_data_64 <= U64_MAX
        or not 0 <= t.user_data_32 <= U32_MAX
    )


def _compare_existing(t: Transfer, e: Transfer) -> CreateTransferResult:
    if t.flags != e.flags:
        return R.EXISTS_WITH_DIFFERENT_FLAGS
    if t.debit_account_id != e.debit_account_id:
        return R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID
    if t.credit_account_id != e.credit_account_id:
        return R.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID
    if t.flags & (_BAL_DR | _BAL_CR):
        if t.amount < e.amount:
            return R.EXISTS_WITH_DIFFERENT_AMOUNT
    elif t.amount != e.amount:
        return R.EXISTS_WITH_DIFFERENT_AMOUNT
    return _compare_tail(t, e)


def _compare_existing_post_or_void(t: Transfer, e: Transfer) -> CreateTransferResult:
    if t.flags != e.flags:
        return R.EXISTS_WITH_DIFFERENT_FLAGS
    if t.pending_id != e.pending_id:
        return R.EXISTS_WITH_DIFFERENT_PENDING_ID
    if t.debit_account_id and t.debit_account_id != e.debit_account_id:
        return R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID
    if t.credit_account_id and t.credit_account_id != e.credit_account_id:
        return R.EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID
    if t.flags & _POST and t.amount not in (e.amount, AMOUNT_MAX):
        return R.EXISTS_WITH_DIFFERENT_AMOUNT
    if t.code and t.code != e.code:
        return R.EXISTS_WITH_DIFFERENT_CODE
    return _compare_tail(t, e, compare_code=False)


def _compare_tail(t: Transfer, e: Transfer, compare_code: bool = True) -> CreateTransferResult:
    if t.user_data_128 != e.user_data_128:
        return R.EXISTS_WITH_DIFFERENT_USER_DATA_128
    if t.user_data_64 != e.user_data_64:
        return R.EXISTS_WITH_DIFFERENT_USER_DATA_64
    if t.user_data_32 != e.user_data_32:
        return R.EXISTS_WITH_DIFFERENT_USER_DATA_32
    if t.timeout != e.timeout:
        return R.EXISTS_WITH_DIFFERENT_TIMEOUT
    if compare_code and t.code != e.code:
        return R.EXISTS_WITH_DIFFERENT_CODE
    return R.EXISTS


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
    changed = {
        account_id: w.freeze()
        for account_id, w in run.working.items()
        if (w.flags, w.dp, w.dpo, w.cp, w.cpo)
        != (
            w.account.flags,
            w.account.debits_pending,
            w.account.debits_posted,
            w.account.credits_pending,
            w.account.credits_posted,
        )
    }
    return TransferOutcome(
        results,
        run.created,
        changed,
        run.new_pendings,
        run.resolved,
        run.history,
        first_timestamp + max(len(batch) - 1, 0),
    )
