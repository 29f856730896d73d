"""Ledger records, flags and result codes (TigerBeetle's data model, in Python ints).

Ids are unsigned 128-bit integers; amounts and balances are non-negative integers of minor units
that fit a signed 64-bit column (``AMOUNT_MAX``). ``AMOUNT_MAX`` doubles as the "whole amount"
sentinel for posting a pending transfer and as "no cap" for balancing transfers.
"""

from __future__ import annotations

from enum import IntFlag, StrEnum
from typing import NamedTuple

from embedfin.core.ids import U128_MAX

AMOUNT_MAX = (1 << 63) - 1
U64_MAX = (1 << 63) - 1  # stored in signed BIGINT columns
U32_MAX = (1 << 31) - 1  # stored in signed INTEGER columns
U16_MAX = (1 << 16) - 1
TIMEOUT_MAX = (1 << 31) - 1
BATCH_MAX = 8189

__all__ = [
    "AMOUNT_MAX",
    "BATCH_MAX",
    "TIMEOUT_MAX",
    "U128_MAX",
    "Account",
    "AccountBalance",
    "AccountFlags",
    "CreateAccountResult",
    "CreateTransferResult",
    "PendingStatus",
    "Transfer",
    "TransferFlags",
]


class AccountFlags(IntFlag):
    NONE = 0
    LINKED = 1 << 0
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1 << 1
    CREDITS_MUST_NOT_EXCEED_DEBITS = 1 << 2
    HISTORY = 1 << 3
    CLOSED = 1 << 5


class TransferFlags(IntFlag):
    NONE = 0
    LINKED = 1 << 0
    PENDING = 1 << 1
    POST_PENDING_TRANSFER = 1 << 2
    VOID_PENDING_TRANSFER = 1 << 3
    BALANCING_DEBIT = 1 << 4
    BALANCING_CREDIT = 1 << 5
    CLOSING_DEBIT = 1 << 6
    CLOSING_CREDIT = 1 << 7


class PendingStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


class Account(NamedTuple):
    """A ledger account and its four balances (an immutable record; a NamedTuple for speed).

    Attributes:
        id: client-chosen u128, never 0 nor 2^128-1.
        ledger: the ledger (currency) this account lives in; embedfin uses ISO 4217 numeric codes.
        code: what kind of account this is in the chart of accounts (u16, non-zero).
        flags: ``AccountFlags``; ``CLOSED`` is set only by closing transfers.
        user_data_128, user_data_64, user_data_32: opaque references for the owner of the account.
        debits_pending, debits_posted, credits_pending, credits_posted: balances in minor units.
        timestamp: nanoseconds (UTC) when the ledger created it; 0 when submitting.
    """

    id: int
    ledger: int
    code: int
    flags: int = 0
    user_data_128: int = 0
    user_data_64: int = 0
    user_data_32: int = 0
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0
    timestamp: int = 0

    @property
    def balance_posted(self) -> int:
        """Credit-normal posted balance: credits minus debits."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """What a debit-limited account can still spend: credits posted minus all debits."""
        return self.credits_posted - self.debits_posted - self.debits_pending


class Transfer(NamedTuple):
    """An immutable movement of ``amount`` from ``debit_account_id`` to ``credit_account_id``.

    Attributes:
        id: client-chosen u128 and the idempotency key: a retry with identical fields is
            answered ``exists`` and moves nothing.
        debit_account_id, credit_account_id: the two accounts (same ledger, different ids).
        amount: minor units. For a post: ``AMOUNT_MAX`` posts the whole pending amount. For a
            balancing transfer: the cap.
        ledger: must equal both accounts' ledger.
        code: why the money moved (u16, non-zero), e.g. top-up, escrow hold, payout.
        flags: ``TransferFlags``.
        pending_id: for post/void, the id of the pending transfer.
        timeout: seconds after which a pending transfer expires (0 = never).
        user_data_128, user_data_64, user_data_32: opaque references (order id, batch id, ...).
        timestamp: nanoseconds (UTC) assigned by the ledger; 0 when submitting.
    """

    id: int
    debit_account_id: int
    credit_account_id: int
    amount: int
    ledger: int
    code: int
    flags: int = 0
    pending_id: int = 0
    timeout: int = 0
    user_data_128: int = 0
    user_data_64: int = 0
    user_data_32: int = 0
    timestamp: int = 0


class AccountBalance(NamedTuple):
    """One row of a ``HISTORY`` account's balance history, after the transfer at ``timestamp``."""

    account_id: int
    timestamp: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


class CreateAccountResult(StrEnum):
    OK = "ok"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    TIMESTAMP_MUST_BE_ZERO = "timestamp_must_be_zero"
    RESERVED_FLAG = "reserved_flag"
    ID_MUST_NOT_BE_ZERO = "id_must_not_be_zero"
    ID_MUST_NOT_BE_INT_MAX = "id_must_not_be_int_max"
    ID_OUT_OF_RANGE = "id_out_of_range"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    DEBITS_PENDING_MUST_BE_ZERO = "debits_pending_must_be_zero"
    DEBITS_POSTED_MUST_BE_ZERO = "debits_posted_must_be_zero"
    CREDITS_PENDING_MUST_BE_ZERO = "credits_pending_must_be_zero"
    CREDITS_POSTED_MUST_BE_ZERO = "credits_posted_must_be_zero"
    USER_DATA_OUT_OF_RANGE = "user_data_out_of_range"
    LEDGER_MUST_NOT_BE_ZERO = "ledger_must_not_be_zero"
    LEDGER_OUT_OF_RANGE = "ledger_out_of_range"
    CODE_MUST_NOT_BE_ZERO = "code_must_not_be_zero"
    CODE_OUT_OF_RANGE = "code_out_of_range"
    EXISTS_WITH_DIFFERENT_FLAGS = "exists_with_different_flags"
    EXISTS_WITH_DIFFERENT_USER_DATA_128 = "exists_with_different_user_data_128"
    EXISTS_WITH_DIFFERENT_USER_DATA_64 = "exists_with_different_user_data_64"
    EXISTS_WITH_DIFFERENT_USER_DATA_32 = "exists_with_different_user_data_32"
    EXISTS_WITH_DIFFERENT_LEDGER = "exists_with_different_ledger"
    EXISTS_WITH_DIFFERENT_CODE = "exists_with_different_code"
    EXISTS = "exists"


class CreateTransferResult(StrEnum):
    OK = "ok"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    TIMESTAMP_MUST_BE_ZERO = "timestamp_must_be_zero"
    RESERVED_FLAG = "reserved_flag"
    ID_MUST_NOT_BE_ZERO = "id_must_not_be_zero"
    ID_MUST_NOT_BE_INT_MAX = "id_must_not_be_int_max"
    ID_OUT_OF_RANGE = "id_out_of_range"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO = "debit_account_id_must_not_be_zero"
    DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX = "debit_account_id_must_not_be_int_max"
    CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO = "credit_account_id_must_not_be_zero"
    CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX = "credit_account_id_must_not_be_int_max"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    PENDING_ID_MUST_BE_ZERO = "pending_id_must_be_zero"
    PENDING_ID_MUST_NOT_BE_ZERO = "pending_id_must_not_be_zero"
    PENDING_ID_MUST_NOT_BE_INT_MAX = "pending_id_must_not_be_int_max"
    PENDING_ID_MUST_BE_DIFFERENT = "pending_id_must_be_different"
    TIMEOUT_RESERVED_FOR_PENDING_TRANSFER = "timeout_reserved_for_pending_transfer"
    CLOSING_TRANSFER_MUST_BE_PENDING = "closing_transfer_must_be_pending"
    AMOUNT_MUST_NOT_BE_ZERO = "amount_must_not_be_zero"
    AMOUNT_MUST_NOT_BE_NEGATIVE = "amount_must_not_be_negative"
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    USER_DATA_OUT_OF_RANGE = "user_data_out_of_range"
    LEDGER_MUST_NOT_BE_ZERO = "ledger_must_not_be_zero"
    LEDGER_OUT_OF_RANGE = "ledger_out_of_range"
    CODE_MUST_NOT_BE_ZERO = "code_must_not_be_zero"
    CODE_OUT_OF_RANGE = "code_out_of_range"
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER = "accounts_must_have_the_same_ledger"
    TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS = (
        "transfer_must_have_the_same_ledger_as_accounts"
    )
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_NOT_PENDING = "pending_transfer_not_pending"
    PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID = (
        "pending_transfer_has_different_debit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID = (
        "pending_transfer_has_different_credit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_LEDGER = "pending_transfer_has_different_ledger"
    PENDING_TRANSFER_HAS_DIFFERENT_CODE = "pending_transfer_has_different_code"
    EXCEEDS_PENDING_TRANSFER_AMOUNT = "exceeds_pending_transfer_amount"
    PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT = "pending_transfer_has_different_amount"
    PENDING_TRANSFER_ALREADY_POSTED = "pending_transfer_already_posted"
    PENDING_TRANSFER_ALREADY_VOIDED = "pending_transfer_already_voided"
    PENDING_TRANSFER_EXPIRED = "pending_transfer_expired"
    EXISTS_WITH_DIFFERENT_FLAGS = "exists_with_different_flags"
    EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID = "exists_with_different_debit_account_id"
    EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID = "exists_with_different_credit_account_id"
    EXISTS_WITH_DIFFERENT_AMOUNT = "exists_with_different_amount"
    EXISTS_WITH_DIFFERENT_PENDING_ID = "exists_with_different_pending_id"
    EXISTS_WITH_DIFFERENT_USER_DATA_128 = "exists_with_different_user_data_128"
    EXISTS_WITH_DIFFERENT_USER_DATA_64 = "exists_with_different_user_data_64"
    EXISTS_WITH_DIFFERENT_USER_DATA_32 = "exists_with_different_user_data_32"
    EXISTS_WITH_DIFFERENT_TIMEOUT = "exists_with_different_timeout"
    EXISTS_WITH_DIFFERENT_CODE = "exists_with_different_code"
    EXISTS = "exists"
    OVERFLOWS_DEBITS_PENDING = "overflows_debits_pending"
    OVERFLOWS_CREDITS_PENDING = "overflows_credits_pending"
    OVERFLOWS_DEBITS_POSTED = "overflows_debits_posted"
    OVERFLOWS_CREDITS_POSTED = "overflows_credits_posted"
    OVERFLOWS_DEBITS = "overflows_debits"
    OVERFLOWS_CREDITS = "overflows_credits"
    OVERFLOWS_TIMEOUT = "overflows_timeout"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    DEBIT_ACCOUNT_ALREADY_CLOSED = "debit_account_already_closed"
    CREDIT_ACCOUNT_ALREADY_CLOSED = "credit_account_already_closed"
