"""Checks of one transfer (pure), in TigerBeetle's order: each returns a failure or ``None``.

Split from the batch so that the order of the checks reads top to bottom in one place: the
fields of the transfer alone (``check_header``, ``check_new_fields``,
``check_post_or_void_fields``), its accounts (``check_same_ledger``), its fields against the
pending transfer it resolves (``check_against_pending``), the balances it would move
(``check_overflows``, ``check_limits``), and a resubmitted id against the transfer stored
under it (``compare_existing``, ``compare_existing_post_or_void``). Nothing here changes state.
"""

from __future__ import annotations

from embedfin.ledger.records import WorkingBalances
from embedfin.ledger.types import (
    AMOUNT_MAX,
    TIMEOUT_MAX,
    U16_MAX,
    U32_MAX,
    U64_MAX,
    U128_MAX,
    Account,
    AccountFlags,
    CreateTransferResult,
    Transfer,
    TransferFlags,
)

R = CreateTransferResult

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
I64_MAX = (1 << 63) - 1


def bad_u128(value: int) -> bool:
    return value < 0 or value > U128_MAX


def bad_user_data(t: Transfer | Account) -> bool:
    return (
        bad_u128(t.user_data_128)
        or not 0 <= t.user_data_64 <= U64_MAX
        or not 0 <= t.user_data_32 <= U32_MAX
    )


def check_header(t: Transfer, flags: int) -> CreateTransferResult | None:
    """What every transfer is checked for first: no timestamp, known flags, a valid id."""
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
    return None


def check_new_fields(t: Transfer, flags: int) -> CreateTransferResult | None:
    """The fields of a transfer that is not a post or void, before any account is read."""
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
    return None


def check_same_ledger(t: Transfer, dr_acc: Account, cr_acc: Account) -> CreateTransferResult | None:
    """Both accounts (found) live in the transfer's ledger."""
    if dr_acc.ledger != cr_acc.ledger:
        return R.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER
    if t.ledger != dr_acc.ledger:
        return R.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS
    return None


def balanced_amount(flags: int, amount: int, dr: WorkingBalances, cr: WorkingBalances) -> int:
    """A balancing transfer moves at most what keeps its account's balance from crossing zero."""
    if flags & _BAL_DR:
        amount = max(0, min(amount, dr.cpo - dr.dpo - dr.dp))
    if flags & _BAL_CR:
        amount = max(0, min(amount, cr.dpo - cr.cpo - cr.cp))
    return amount


def check_overflows(
    dr: WorkingBalances, cr: WorkingBalances, amount: int, pending: int
) -> CreateTransferResult | None:
    """Every balance the transfer adds to still fits a signed 64-bit column."""
    if pending:
        if dr.dp + amount > I64_MAX:
            return R.OVERFLOWS_DEBITS_PENDING
        if cr.cp + amount > I64_MAX:
            return R.OVERFLOWS_CREDITS_PENDING
    else:
        if dr.dpo + amount > I64_MAX:
            return R.OVERFLOWS_DEBITS_POSTED
        if cr.cpo + amount > I64_MAX:
            return R.OVERFLOWS_CREDITS_POSTED
    if dr.dp + dr.dpo + amount > I64_MAX:
        return R.OVERFLOWS_DEBITS
    if cr.cp + cr.cpo + amount > I64_MAX:
        return R.OVERFLOWS_CREDITS
    return None


def check_limits(
    dr: WorkingBalances, cr: WorkingBalances, amount: int
) -> CreateTransferResult | None:
    """The accounts' own limits: debits within credits, credits within debits."""
    if dr.flags & _DMNEC and dr.dp + dr.dpo + amount > dr.cpo:
        return R.EXCEEDS_CREDITS
    if cr.flags & _CMNED and cr.cp + cr.cpo + amount > cr.dpo:
        return R.EXCEEDS_DEBITS
    return None


def check_post_or_void_fields(t: Transfer, flags: int) -> CreateTransferResult | None:
    """The fields of a post or void, before the pending transfer is read."""
    post = flags & _POST
    if (post and flags & _VOID) or flags & (_PENDING | _BAL_DR | _BAL_CR | _CLOSE_DR | _CLOSE_CR):
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
    return None


def check_against_pending(t: Transfer, p: Transfer, post: int) -> CreateTransferResult | None:
    """A post or void names the pending transfer's accounts, ledger and code (or leaves them 0)
    and moves no more than it holds."""
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
        if resolved_amount(t, p, post) > p.amount:
            return R.EXCEEDS_PENDING_TRANSFER_AMOUNT
    elif t.amount not in (0, p.amount, AMOUNT_MAX):
        return R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT
    return None


def resolved_amount(t: Transfer, p: Transfer, post: int) -> int:
    """What a post moves (``AMOUNT_MAX`` means the whole hold); a void releases the whole hold."""
    if post:
        return p.amount if t.amount == AMOUNT_MAX else t.amount
    return p.amount


def compare_existing(t: Transfer, e: Transfer) -> CreateTransferResult:
    """A resubmitted transfer is ``exists`` only if it asks for what the stored one did."""
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


def compare_existing_post_or_void(t: Transfer, e: Transfer) -> CreateTransferResult:
    """As ``compare_existing`` for a post or void, whose zero fields mean "as the pending"."""
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
