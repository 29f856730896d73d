"""Pure rules: one result code per kind of bad input (TigerBeetle's codes and order)."""

from __future__ import annotations

import pytest

from embedfin.ledger.account_rules import create_accounts
from embedfin.ledger.engine import create_transfers
from embedfin.ledger.records import Snapshot
from embedfin.ledger.types import (
    AMOUNT_MAX,
    U128_MAX,
    Account,
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    Transfer,
    TransferFlags,
)
from tests.ledger.helpers import EUR, USD, pay, post, void

R = CreateTransferResult
F = TransferFlags
LIMITED = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS

ACCOUNTS = {
    1: Account(1, USD, 1, credits_posted=1_000, debits_posted=0),
    2: Account(2, USD, 1, LIMITED, credits_posted=500),
    3: Account(3, EUR, 1),
    4: Account(4, USD, 1, AccountFlags.CLOSED),
    5: Account(5, USD, 1, AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS, debits_posted=100),
    6: Account(6, USD, 1, credits_posted=AMOUNT_MAX),
}


def one(transfer: Transfer, snapshot: Snapshot | None = None) -> CreateTransferResult:
    return create_transfers([transfer], snapshot or Snapshot(ACCOUNTS), 1_000).results[0]


@pytest.mark.parametrize(
    ("transfer", "expected"),
    [
        (pay(10, 1, 2, 0), R.AMOUNT_MUST_NOT_BE_ZERO),
        (pay(10, 1, 2, -1), R.AMOUNT_MUST_NOT_BE_NEGATIVE),
        (pay(10, 1, 2, AMOUNT_MAX + 1), R.AMOUNT_OUT_OF_RANGE),
        (pay(10, 1, 2, 10**40), R.AMOUNT_OUT_OF_RANGE),
        (pay(10, 99, 2, 5), R.DEBIT_ACCOUNT_NOT_FOUND),
        (pay(10, 1, 99, 5), R.CREDIT_ACCOUNT_NOT_FOUND),
        (pay(10, 1, 3, 5), R.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER),
        (pay(10, 1, 2, 5, ledger=EUR), R.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS),
        (pay(10, 1, 4, 5), R.CREDIT_ACCOUNT_ALREADY_CLOSED),
        (pay(10, 4, 1, 5), R.DEBIT_ACCOUNT_ALREADY_CLOSED),
        (pay(0, 1, 2, 5), R.ID_MUST_NOT_BE_ZERO),
        (pay(U128_MAX, 1, 2, 5), R.ID_MUST_NOT_BE_INT_MAX),
        (pay(-7, 1, 2, 5), R.ID_OUT_OF_RANGE),
        (pay(1 << 130, 1, 2, 5), R.ID_OUT_OF_RANGE),
        (pay(10, 0, 2, 5), R.DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO),
        (pay(10, 1, 0, 5), R.CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO),
        (pay(10, U128_MAX, 2, 5), R.DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX),
        (pay(10, 1, 1, 5), R.ACCOUNTS_MUST_BE_DIFFERENT),
        (pay(10, 1, 2, 5, ledger=0), R.LEDGER_MUST_NOT_BE_ZERO),
        (pay(10, 1, 2, 5, code=0), R.CODE_MUST_NOT_BE_ZERO),
        (pay(10, 1, 2, 5, code=70_000), R.CODE_OUT_OF_RANGE),
        (pay(10, 1, 2, 5, timeout=5), R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER),
        (pay(10, 1, 2, 5, pending_id=3), R.PENDING_ID_MUST_BE_ZERO),
        (pay(10, 1, 2, 5, flags=1 << 12), R.RESERVED_FLAG),
        (pay(10, 1, 2, 5, flags=F.CLOSING_DEBIT), R.CLOSING_TRANSFER_MUST_BE_PENDING),
        (pay(10, 1, 2, 5, user_data_64=-1), R.USER_DATA_OUT_OF_RANGE),
        (pay(10, 1, 2, 5, timestamp=3), R.TIMESTAMP_MUST_BE_ZERO),
        (pay(10, 2, 1, 501), R.EXCEEDS_CREDITS),
        (pay(10, 1, 5, 101), R.EXCEEDS_DEBITS),
        (pay(10, 1, 6, 1), R.OVERFLOWS_CREDITS_POSTED),
        (post(10, 0), R.PENDING_ID_MUST_NOT_BE_ZERO),
        (post(10, 10), R.PENDING_ID_MUST_BE_DIFFERENT),
        (post(10, 77), R.PENDING_TRANSFER_NOT_FOUND),
        (post(10, 77, flags=F.VOID_PENDING_TRANSFER), R.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
        (void(10, 77), R.PENDING_TRANSFER_NOT_FOUND),
    ],
)
def test_bad_transfer_gets_its_result_code(transfer: Transfer, expected: R) -> None:
    outcome = create_transfers([transfer], Snapshot(ACCOUNTS), 1_000)
    assert outcome.results == [expected]
    assert outcome.created == []
    assert outcome.accounts == {}


def test_ok_transfer_moves_posted_balances_and_gets_a_timestamp() -> None:
    outcome = create_transfers([pay(10, 1, 2, 7)], Snapshot(ACCOUNTS), 1_000)
    assert outcome.results == [R.OK]
    assert outcome.created[0].timestamp == 1_000
    assert outcome.accounts[1].debits_posted == 7
    assert outcome.accounts[2].credits_posted == 507


def test_linked_chain_fails_as_one_and_names_the_culprit() -> None:
    batch = [
        pay(10, 1, 2, 5, flags=F.LINKED),
        pay(11, 2, 1, 10_000, flags=F.LINKED),
        pay(12, 1, 2, 5),
        pay(13, 1, 2, 6),
    ]
    outcome = create_transfers(batch, Snapshot(ACCOUNTS), 1_000)
    assert outcome.results == [
        R.LINKED_EVENT_FAILED,
        R.EXCEEDS_CREDITS,
        R.LINKED_EVENT_FAILED,
        R.OK,
    ]
    assert [t.id for t in outcome.created] == [13]
    assert outcome.accounts[2].credits_posted == 506


def test_chain_left_open_at_the_end_of_a_batch_fails() -> None:
    batch = [pay(10, 1, 2, 5), pay(11, 1, 2, 5, flags=F.LINKED), pay(12, 1, 2, 5, flags=F.LINKED)]
    outcome = create_transfers(batch, Snapshot(ACCOUNTS), 1_000)
    assert outcome.results == [R.OK, R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN]


def test_duplicate_id_in_one_batch_is_exists_or_a_difference() -> None:
    batch = [pay(10, 1, 2, 5), pay(10, 1, 2, 5), pay(10, 1, 2, 6), pay(10, 2, 1, 5)]
    outcome = create_transfers(batch, Snapshot(ACCOUNTS), 1_000)
    assert outcome.results == [
        R.OK,
        R.EXISTS,
        R.EXISTS_WITH_DIFFERENT_AMOUNT,
        R.EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID,
    ]


def test_partial_post_releases_the_rest_and_a_second_post_is_refused() -> None:
    batch = [
        pay(10, 2, 1, 300, flags=F.PENDING),
        post(11, 10, amount=120),
        post(12, 10, amount=1),
        void(13, 10),
    ]
    outcome = create_transfers(batch, Snapshot(ACCOUNTS), 1_000)
    assert outcome.results == [
        R.OK,
        R.OK,
        R.PENDING_TRANSFER_ALREADY_POSTED,
        R.PENDING_TRANSFER_ALREADY_POSTED,
    ]
    debit = outcome.accounts[2]
    assert (debit.debits_pending, debit.debits_posted) == (0, 120)


def test_post_more_than_pending_is_refused() -> None:
    batch = [pay(10, 2, 1, 300, flags=F.PENDING), post(11, 10, amount=301)]
    outcome = create_transfers(batch, Snapshot(ACCOUNTS), 1_000)
    assert outcome.results == [R.OK, R.EXCEEDS_PENDING_TRANSFER_AMOUNT]


def test_pending_expires_exactly_at_timestamp_plus_timeout() -> None:
    hold = pay(10, 2, 1, 300, flags=F.PENDING, timeout=2)
    first = create_transfers([hold], Snapshot(ACCOUNTS), 1_000)
    stored = first.created[0]
    from embedfin.ledger.records import PendingInfo
    from embedfin.ledger.types import PendingStatus

    expires_at = 1_000 + 2 * 1_000_000_000
    info = {10: PendingInfo(stored, PendingStatus.PENDING, expires_at)}
    accounts = {**ACCOUNTS, **first.accounts}
    just_before = create_transfers([post(11, 10)], Snapshot(accounts, {}, info), expires_at - 1)
    assert just_before.results == [R.OK]
    at_expiry = create_transfers([post(11, 10)], Snapshot(accounts, {}, info), expires_at)
    assert at_expiry.results == [R.PENDING_TRANSFER_EXPIRED]


def test_balancing_debit_moves_only_what_is_available() -> None:
    outcome = create_transfers(
        [pay(10, 2, 1, AMOUNT_MAX, flags=F.BALANCING_DEBIT)], Snapshot(ACCOUNTS), 1_000
    )
    assert outcome.results == [R.OK]
    assert outcome.created[0].amount == 500


def test_closing_transfer_closes_and_void_reopens() -> None:
    batch = [
        pay(10, 1, 2, 1, flags=F.PENDING | F.CLOSING_DEBIT),
        pay(11, 1, 2, 1),
        void(12, 10),
        pay(13, 1, 2, 1),
    ]
    outcome = create_transfers(batch, Snapshot(ACCOUNTS), 1_000)
    assert outcome.results == [R.OK, R.DEBIT_ACCOUNT_ALREADY_CLOSED, R.OK, R.OK]
    assert not outcome.accounts[1].flags & AccountFlags.CLOSED


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        (Account(0, USD, 1), CreateAccountResult.ID_MUST_NOT_BE_ZERO),
        (Account(U128_MAX, USD, 1), CreateAccountResult.ID_MUST_NOT_BE_INT_MAX),
        (Account(-1, USD, 1), CreateAccountResult.ID_OUT_OF_RANGE),
        (Account(9, 0, 1), CreateAccountResult.LEDGER_MUST_NOT_BE_ZERO),
        (Account(9, USD, 0), CreateAccountResult.CODE_MUST_NOT_BE_ZERO),
        (Account(9, USD, 1, credits_posted=5), CreateAccountResult.CREDITS_POSTED_MUST_BE_ZERO),
        (Account(9, USD, 1, AccountFlags.CLOSED), CreateAccountResult.RESERVED_FLAG),
        (
            Account(9, USD, 1, LIMITED | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS),
            CreateAccountResult.FLAGS_ARE_MUTUALLY_EXCLUSIVE,
        ),
        (Account(1, USD, 1), CreateAccountResult.EXISTS),
        (Account(1, EUR, 1), CreateAccountResult.EXISTS_WITH_DIFFERENT_LEDGER),
        (Account(2, USD, 1), CreateAccountResult.EXISTS_WITH_DIFFERENT_FLAGS),
    ],
)
def test_bad_account_gets_its_result_code(account: Account, expected: CreateAccountResult) -> None:
    outcome = create_accounts([account], {1: ACCOUNTS[1], 2: ACCOUNTS[2]}, 1_000)
    assert outcome.results == [expected]
    assert outcome.created == []
