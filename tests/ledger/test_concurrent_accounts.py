"""Two processes opening the same account at once (PostgreSQL): one creates it, the other is
told it exists — never a unique violation (seen as a 500 when the first checkouts of a fresh
database reached two API workers together)."""

from __future__ import annotations

import threading

import pytest

from embedfin.core.clock import ManualClock
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.ledger.types import (
    Account,
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    Transfer,
)

pytestmark = pytest.mark.postgres


def test_an_account_created_by_two_workers_at_once_is_created_once(pg_url: str) -> None:
    first, second = (Ledger(make_engine(pg_url), ManualClock()) for _ in range(2))
    account = Account(77, 978, code=300, flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    inside = threading.Event()
    results: list[CreateAccountResult] = []

    def racer() -> None:
        inside.wait(timeout=10)
        with second.transaction() as tx:  # inside a unit of work, as open_accounts is
            results.extend(tx.create_accounts([account]))

    thread = threading.Thread(target=racer)
    thread.start()
    with first.transaction() as tx:
        assert tx.create_accounts([account]) == [CreateAccountResult.OK]
        inside.set()
        thread.join(timeout=1)  # the racer waits for this transaction instead of failing
        assert thread.is_alive()
    thread.join(timeout=10)
    assert results == [CreateAccountResult.EXISTS]
    assert [a.id for a in second.lookup_accounts([77])] == [77]
    first.close()
    second.close()


def test_two_processes_with_one_clock_reading_keep_a_history_account_unique(pg_url: str) -> None:
    """Each process draws timestamps from its own clock: two of them reading the same instant
    and writing the same ``history`` account must still give it one balance row per timestamp
    (a duplicate was a unique violation: the whole unit of work a 500)."""
    clock = ManualClock(1_795_000_000 * 10**9)  # frozen: both draw the same timestamps
    first, second = (Ledger(make_engine(pg_url), clock) for _ in range(2))
    source = Account(1, 978, code=1)
    wallet = Account(2, 978, code=100, flags=AccountFlags.HISTORY)
    assert first.create_accounts([source, wallet]) == [CreateAccountResult.OK] * 2
    for n in range(3):
        for offset, ledger in ((100, first), (200, second)):
            with ledger.transaction() as tx:
                moved = tx.create_transfers([Transfer(offset + n, 1, 2, 5, 978, code=1)])
                assert moved == [CreateTransferResult.OK]
    stamps = [row.timestamp for row in first.get_account_balances(2)]  # newest first
    assert len(stamps) == 6
    assert stamps == sorted(set(stamps), reverse=True)
    first.close()
    second.close()
