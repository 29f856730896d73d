"""PostgreSQL under many concurrent writers: no lost update, no overdraft, no lost transfer.

Sixteen threads, each with its own ``Ledger`` (its own connection pool, as separate processes
would have), move random amounts among four hot accounts that may not go below zero. psycopg
releases the GIL while it waits on the server, so the writers really do contend for the rows.
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from embedfin.core.ids import new_id
from embedfin.ledger.check import check
from embedfin.ledger.service import Ledger
from embedfin.ledger.types import Account, AccountFlags, CreateTransferResult, Transfer
from tests.ledger.helpers import USD, pay

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WRITERS = 16
BATCHES_PER_WRITER = 100
HOT = [11, 12, 13, 14]
OPENING = 5_000


def test_sixteen_concurrent_writers_on_hot_accounts(pg_url: str) -> None:
    setup = Ledger(pg_url)
    accounts = [Account(1, USD, 1)] + [
        Account(a, USD, 2, AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS) for a in HOT
    ]
    assert set(setup.create_accounts(accounts)) == {"ok"}
    assert set(setup.create_transfers([pay(new_id(), 1, a, OPENING) for a in HOT])) == {"ok"}

    acknowledged: dict[int, Transfer] = {}
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(WRITERS)

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        ledger = Ledger(pg_url)
        try:
            start.wait()
            for _ in range(BATCHES_PER_WRITER):
                batch = []
                for _ in range(rng.randint(1, 6)):
                    dr, cr = rng.sample(HOT, 2)
                    batch.append(pay(new_id(), dr, cr, rng.randint(1, 900)))
                results = ledger.create_transfers(batch)
                with lock:
                    outcomes.update(str(r) for r in results)
                    for t, r in zip(batch, results, strict=True):
                        if r is CreateTransferResult.OK:
                            acknowledged[t.id] = t
        except BaseException as error:  # surfaced below, with the thread's traceback
            errors.append(error)
        finally:
            ledger.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert outcomes["ok"] > 0, outcomes
    assert outcomes["exceeds_credits"] > 0, outcomes

    hot = {a.id: a for a in setup.lookup_accounts(HOT)}
    assert sum(a.credits_posted - a.debits_posted for a in hot.values()) == OPENING * len(HOT)
    for account in hot.values():
        assert account.debits_posted <= account.credits_posted
    stored = {t.id: t for t in setup.lookup_transfers(list(acknowledged))}
    assert set(stored) == set(acknowledged)
    for tid, t in acknowledged.items():
        assert (stored[tid].debit_account_id, stored[tid].amount) == (t.debit_account_id, t.amount)
    for account_id, account in hot.items():
        moved_out = sum(t.amount for t in acknowledged.values() if t.debit_account_id == account_id)
        moved_in = sum(t.amount for t in acknowledged.values() if t.credit_account_id == account_id)
        assert account.debits_posted == moved_out
        assert account.credits_posted == OPENING + moved_in
    with setup.engine.connect() as conn:
        report = check(conn)
    assert report.ok, report.violations
    setup.close()


def test_concurrent_retries_of_the_same_transfer_apply_it_once(pg_url: str) -> None:
    setup = Ledger(pg_url)
    setup.create_accounts([Account(1, USD, 1), Account(2, USD, 1)])
    transfer = pay(new_id(), 1, 2, 77)
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def retry() -> None:
        ledger = Ledger(pg_url)
        start.wait()
        (result,) = ledger.create_transfers([transfer])
        with lock:
            results.append(str(result))
        ledger.close()

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["exists"] * 7 + ["ok"]
    assert setup.lookup_accounts([2])[0].credits_posted == 77
    setup.close()
