"""Two processes opening the same account at once (PostgreSQL): one creates it, the other is
told it exists — never a unique violation (seen as a 500 when the first checkouts of a fresh
database reached two API workers together)."""

from __future__ import annotations

import threading

import pytest

from embedfin.core.clock import ManualClock
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.ledger.types import Account, AccountFlags, CreateAccountResult

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
