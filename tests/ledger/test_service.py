"""The ledger service on both stores: durability of results, idempotency, queries, expiry."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from embedfin.core.clock import ManualClock
from embedfin.core.errors import InvalidInput
from embedfin.ledger.check import check
from embedfin.ledger.service import BatchTooLarge, Ledger
from embedfin.ledger.types import (
    BATCH_MAX,
    Account,
    AccountFlags,
    CreateTransferResult,
    Transfer,
    TransferFlags,
)
from tests.ledger.helpers import EUR, USD, pay, post, row_counts, void

R = CreateTransferResult
F = TransferFlags
LIMITED = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ledger(db_url: str, clock: ManualClock) -> Ledger:
    ledger = Ledger(db_url, clock)
    assert set(
        ledger.create_accounts(
            [
                Account(1, USD, 1),
                Account(2, USD, 100, LIMITED | AccountFlags.HISTORY),
                Account(3, USD, 100, LIMITED),
                Account(4, EUR, 1),
            ]
        )
    ) == {"ok"}
    assert ledger.create_transfers([pay(100, 1, 2, 1_000)]) == [R.OK]
    return ledger


BAD = [
    pay(10, 2, 3, 0),
    pay(11, 2, 3, -5),
    pay(12, 2, 3, 1 << 64),
    pay(13, 2, 99, 5),
    pay(14, 2, 4, 5),
    pay(15, 2, 3, 5_000),
    pay(0, 2, 3, 5),
    pay(1 << 200, 2, 3, 5),
    post(16, 12345),
]


def test_bad_input_gets_result_codes_and_writes_nothing(ledger: Ledger) -> None:
    before = row_counts(ledger.engine)
    balances = ledger.lookup_accounts([1, 2, 3, 4])
    results = ledger.create_transfers(BAD)
    assert results == [
        R.AMOUNT_MUST_NOT_BE_ZERO,
        R.AMOUNT_MUST_NOT_BE_NEGATIVE,
        R.AMOUNT_OUT_OF_RANGE,
        R.CREDIT_ACCOUNT_NOT_FOUND,
        R.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER,
        R.EXCEEDS_CREDITS,
        R.ID_MUST_NOT_BE_ZERO,
        R.ID_OUT_OF_RANGE,
        R.PENDING_TRANSFER_NOT_FOUND,
    ]
    assert row_counts(ledger.engine) == before
    assert ledger.lookup_accounts([1, 2, 3, 4]) == balances


def test_closed_account_refuses_new_transfers(ledger: Ledger) -> None:
    assert ledger.create_transfers([pay(20, 2, 3, 1, flags=F.PENDING | F.CLOSING_DEBIT)]) == [R.OK]
    assert ledger.create_transfers([pay(21, 2, 3, 1)]) == [R.DEBIT_ACCOUNT_ALREADY_CLOSED]
    assert ledger.lookup_accounts([2])[0].flags & AccountFlags.CLOSED
    assert ledger.create_transfers([void(22, 20), pay(21, 2, 3, 1)]) == [R.OK, R.OK]


def test_retry_with_same_fields_is_exists_and_moves_nothing(ledger: Ledger) -> None:
    first = ledger.create_transfers([pay(30, 2, 3, 250)])
    after_first = ledger.lookup_accounts([2, 3])
    again = ledger.create_transfers([pay(30, 2, 3, 250)])
    different = ledger.create_transfers([pay(30, 2, 3, 251)])
    assert (first, again, different) == ([R.OK], [R.EXISTS], [R.EXISTS_WITH_DIFFERENT_AMOUNT])
    assert ledger.lookup_accounts([2, 3]) == after_first


def test_retry_of_a_failed_transfer_is_still_decided_on_its_merits(ledger: Ledger) -> None:
    assert ledger.create_transfers([pay(31, 3, 2, 10)]) == [R.EXCEEDS_CREDITS]
    assert ledger.create_transfers([pay(32, 2, 3, 10)]) == [R.OK]
    assert ledger.create_transfers([pay(31, 3, 2, 10)]) == [R.OK]


def test_retry_is_exists_even_when_funds_are_now_short(ledger: Ledger) -> None:
    assert ledger.create_transfers([pay(33, 2, 3, 1_000)]) == [R.OK]
    assert ledger.create_transfers([pay(33, 2, 3, 1_000)]) == [R.EXISTS]


def test_linked_chain_is_atomic_on_disk(ledger: Ledger) -> None:
    before = row_counts(ledger.engine)
    results = ledger.create_transfers([pay(40, 2, 3, 600, flags=F.LINKED), pay(41, 2, 3, 600)])
    assert results == [R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS]
    assert row_counts(ledger.engine) == before


def test_pending_expires_by_the_clock_and_then_cannot_be_posted(
    ledger: Ledger, clock: ManualClock
) -> None:
    assert ledger.create_transfers([pay(50, 2, 3, 400, flags=F.PENDING, timeout=60)]) == [R.OK]
    assert ledger.lookup_accounts([2])[0].debits_pending == 400
    (hold,) = ledger.lookup_transfers([50])
    clock.advance(ns=hold.timestamp + 60 * 10**9 - 1 - clock.now_ns())
    assert ledger.expire_pending() == 0
    clock.advance(ns=1)
    assert ledger.expire_pending() == 1
    assert ledger.lookup_accounts([2])[0].debits_pending == 0
    assert ledger.create_transfers([post(51, 50)]) == [R.PENDING_TRANSFER_EXPIRED]
    assert ledger.create_transfers([void(52, 50)]) == [R.PENDING_TRANSFER_EXPIRED]


def test_expiry_also_happens_at_the_start_of_the_next_batch(
    ledger: Ledger, clock: ManualClock
) -> None:
    assert ledger.create_transfers([pay(53, 2, 3, 1_000, flags=F.PENDING, timeout=1)]) == [R.OK]
    assert ledger.create_transfers([pay(54, 2, 3, 1)]) == [R.EXCEEDS_CREDITS]
    clock.advance(seconds=1.5)
    assert ledger.create_transfers([pay(54, 2, 3, 1)]) == [R.OK]


def test_account_transfers_are_paginated_newest_first(ledger: Ledger) -> None:
    ids = list(range(200, 215))
    assert set(ledger.create_transfers([pay(i, 2, 3, 1) for i in ids])) == {R.OK}
    seen: list[int] = []
    cursor = None
    while True:
        page = ledger.get_account_transfers(3, limit=4, starting_after=cursor)
        seen += [t.id for t in page.items]
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert seen == ids[::-1]
    debits_only = ledger.get_account_transfers(2, limit=100, credits=False)
    assert [t.id for t in debits_only.items] == ids[::-1]
    assert 100 in [t.id for t in ledger.get_account_transfers(2, limit=100).items]


def test_pagination_refuses_a_foreign_cursor_and_bad_limits(ledger: Ledger) -> None:
    with pytest.raises(InvalidInput):
        ledger.get_account_transfers(3, starting_after=100)
    with pytest.raises(InvalidInput):
        ledger.get_account_transfers(3, limit=0)


def test_history_accounts_keep_a_balance_row_per_change(ledger: Ledger) -> None:
    ledger.create_transfers([pay(60, 2, 3, 10), pay(61, 2, 3, 20, flags=F.PENDING)])
    rows = ledger.get_account_balances(2, limit=10)
    assert [(r.debits_posted, r.debits_pending, r.credits_posted) for r in rows] == [
        (10, 20, 1_000),
        (10, 0, 1_000),
        (0, 0, 1_000),
    ]
    assert ledger.get_account_balances(3) == []


def test_lookups_return_what_was_stored(ledger: Ledger) -> None:
    assert ledger.create_transfers([pay(70, 2, 3, 5, user_data_128=(1 << 127) + 5)]) == [R.OK]
    (stored,) = ledger.lookup_transfers([70, 71])
    assert stored.user_data_128 == (1 << 127) + 5
    assert stored.timestamp > 0
    assert [a.id for a in ledger.lookup_accounts([4, 99, 1])] == [4, 1]


def test_oversized_batch_is_refused_before_anything_happens(ledger: Ledger) -> None:
    with pytest.raises(BatchTooLarge):
        ledger.create_transfers([pay(1_000 + i, 1, 2, 1) for i in range(BATCH_MAX + 1)])


def test_check_finds_a_tampered_balance(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:
        assert check(conn).ok
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET credits_posted = credits_posted + 1"))
    with ledger.engine.connect() as conn:
        report = check(conn)
    assert not report.ok
    assert {v.invariant for v in report.violations} >= {
        "debits_equal_credits",
        "balances_match_transfers",
    }


def test_database_refuses_an_overdraft_even_if_code_would_allow_it(ledger: Ledger) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), ledger.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET debits_posted = 5000 WHERE code = 100"))


def test_another_ledger_object_sees_and_respects_the_first_ones_writes(
    ledger: Ledger, db_url: str, clock: ManualClock
) -> None:
    other = Ledger(db_url, clock)
    assert ledger.create_transfers([pay(80, 2, 3, 900)]) == [R.OK]
    assert other.create_transfers([pay(81, 2, 3, 200)]) == [R.EXCEEDS_CREDITS]
    assert ledger.create_transfers([pay(82, 2, 3, 100)]) == [R.OK]
    assert other.create_transfers([pay(83, 2, 3, 1)]) == [R.EXCEEDS_CREDITS]
    other.close()


def test_every_transfer_field_round_trips(ledger: Ledger) -> None:
    t = Transfer(
        (1 << 127) | 9,
        2,
        3,
        7,
        USD,
        65_535,
        F.PENDING,
        timeout=3600,
        user_data_128=(1 << 128) - 2,
        user_data_64=(1 << 63) - 1,
        user_data_32=(1 << 31) - 1,
    )
    assert ledger.create_transfers([t]) == [R.OK]
    (stored,) = ledger.lookup_transfers([t.id])
    assert stored._replace(timestamp=0) == t._replace(flags=int(t.flags))
