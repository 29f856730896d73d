"""Property-based test: random account/transfer batches against the in-memory reference model.

Sequences mix duplicates, linked chains (including open and failing ones), two-phase transfers
with expiry driven by the clock, balancing and closing transfers, and invalid fields. After
every step the stored balances must equal the model's, and per ledger the sum of debits must
equal the sum of credits. Two ``Ledger`` objects share the database, as two processes would, so
the account cache must notice the other writer.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import text

from embedfin.core.clock import ManualClock
from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade
from embedfin.ledger.check import check
from embedfin.ledger.service import Ledger
from embedfin.ledger.types import (
    AMOUNT_MAX,
    U128_MAX,
    Account,
    AccountFlags,
    Transfer,
    TransferFlags,
)
from tests.conftest import IN_CI
from tests.ledger.reference import ReferenceLedger

A = AccountFlags
F = TransferFlags
ACCOUNT_IDS = [1, 2, 3, 4, 5, 6]
LEDGERS = [1, 2]

account_ids = st.sampled_from([*ACCOUNT_IDS, 7])  # 7 never exists
transfer_ids = st.integers(1, 30)
amounts = st.one_of(
    st.integers(1, 400),
    st.sampled_from([0, -5, AMOUNT_MAX, AMOUNT_MAX + 1]),
)

accounts = st.builds(
    Account,
    id=st.one_of(st.sampled_from(ACCOUNT_IDS), st.sampled_from([0, U128_MAX])),
    ledger=st.sampled_from([*LEDGERS, 0]),
    code=st.sampled_from([1, 2, 0]),
    flags=st.sampled_from(
        [
            A.NONE,
            A.DEBITS_MUST_NOT_EXCEED_CREDITS,
            A.CREDITS_MUST_NOT_EXCEED_DEBITS,
            A.DEBITS_MUST_NOT_EXCEED_CREDITS | A.HISTORY,
            A.LINKED,
            A.LINKED | A.DEBITS_MUST_NOT_EXCEED_CREDITS,
            A.DEBITS_MUST_NOT_EXCEED_CREDITS | A.CREDITS_MUST_NOT_EXCEED_DEBITS,
            A.CLOSED,
        ]
    ),
    user_data_128=st.just(0),
    user_data_64=st.just(0),
    user_data_32=st.just(0),
    debits_pending=st.just(0),
    debits_posted=st.just(0),
    credits_pending=st.just(0),
    credits_posted=st.just(0),
    timestamp=st.just(0),
)

single = st.builds(
    Transfer,
    id=transfer_ids,
    debit_account_id=account_ids,
    credit_account_id=account_ids,
    amount=amounts,
    ledger=st.sampled_from([1, 1, 1, 2, 0]),
    code=st.sampled_from([1, 1, 0]),
    flags=st.sampled_from(
        [
            F.NONE,
            F.NONE,
            F.LINKED,
            F.PENDING,
            F.PENDING | F.LINKED,
            F.BALANCING_DEBIT,
            F.BALANCING_CREDIT,
            F.PENDING | F.CLOSING_DEBIT,
            F.CLOSING_CREDIT,
        ]
    ),
    timeout=st.sampled_from([0, 0, 0, 1, 2]),
    pending_id=st.just(0),
    user_data_128=st.just(0),
    user_data_64=st.just(0),
    user_data_32=st.just(0),
    timestamp=st.just(0),
)

post_or_void = st.builds(
    Transfer,
    id=transfer_ids,
    debit_account_id=st.sampled_from([0, 0, 0, 1]),
    credit_account_id=st.just(0),
    amount=st.one_of(st.sampled_from([AMOUNT_MAX, 0]), st.integers(1, 400)),
    ledger=st.sampled_from([0, 0, 2]),
    code=st.sampled_from([0, 0, 1]),
    flags=st.sampled_from(
        [
            F.POST_PENDING_TRANSFER,
            F.VOID_PENDING_TRANSFER,
            F.POST_PENDING_TRANSFER | F.LINKED,
            F.POST_PENDING_TRANSFER | F.VOID_PENDING_TRANSFER,
        ]
    ),
    pending_id=st.integers(0, 30),
    timeout=st.just(0),
    user_data_128=st.just(0),
    user_data_64=st.just(0),
    user_data_32=st.just(0),
    timestamp=st.just(0),
)

transfer_batches = st.lists(st.one_of(single, single, post_or_void), min_size=1, max_size=6)


class LedgerMachine(RuleBasedStateMachine):
    url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock()
        self.engine = make_engine(self.fresh_url())
        self.ledgers = [Ledger(self.engine, self.clock), Ledger(self.engine, self.clock)]
        self.model = ReferenceLedger()

    def fresh_url(self) -> str:
        raise NotImplementedError

    @initialize()
    def open_accounts(self) -> None:
        batch = [
            Account(1, 1, 1),
            Account(2, 1, 1, A.DEBITS_MUST_NOT_EXCEED_CREDITS | A.HISTORY),
            Account(3, 1, 2, A.CREDITS_MUST_NOT_EXCEED_DEBITS),
            Account(4, 2, 1),
        ]
        self.apply_accounts(0, batch)

    @rule(which=st.integers(0, 1), batch=st.lists(accounts, min_size=1, max_size=3))
    def apply_accounts(self, which: int, batch: list[Account]) -> None:
        now = self.clock.now_ns()
        real = [str(r) for r in self.ledgers[which].create_accounts(batch)]
        assert real == self.model.create_accounts(batch, now)

    @rule(which=st.integers(0, 1), batch=transfer_batches)
    def apply_transfers(self, which: int, batch: list[Transfer]) -> None:
        now = self.clock.now_ns()
        real = [str(r) for r in self.ledgers[which].create_transfers(batch)]
        assert real == self.model.create_transfers(batch, now), batch

    @rule(seconds=st.sampled_from([0.5, 1, 2]))
    def tick(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)

    @rule()
    def expire(self) -> None:
        self.ledgers[0].expire_pending()
        self.model.expire(self.clock.now_ns())

    @invariant()
    def balances_agree(self) -> None:
        stored = {a.id: a for a in self.ledgers[1].lookup_accounts(ACCOUNT_IDS)}
        assert set(stored) == set(self.model.s.accounts)
        sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for account_id, expected in self.model.s.accounts.items():
            got = stored[account_id]
            assert (
                got.debits_pending,
                got.debits_posted,
                got.credits_pending,
                got.credits_posted,
                got.flags,
            ) == (expected.dp, expected.dpo, expected.cp, expected.cpo, expected.flags)
            s = sums[got.ledger]
            s[0] += got.debits_posted
            s[1] += got.credits_posted
            s[2] += got.debits_pending
            s[3] += got.credits_pending
        for dpo, cpo, dp, cp in sums.values():
            assert dpo == cpo
            assert dp == cp

    def teardown(self) -> None:
        with self.engine.connect() as conn:
            report = check(conn)
        assert report.ok, report.violations
        self.engine.dispose()
        self.cleanup()

    def cleanup(self) -> None:
        pass


_TEMPLATE: list[Path] = []


def _template() -> Path:
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="embedfin-template-"))
        engine = make_engine(f"sqlite:///{folder / 'embedfin.db'}")
        upgrade(engine)
        engine.dispose()
        _TEMPLATE.append(folder / "embedfin.db")
    return _TEMPLATE[0]


class SqliteLedgerMachine(LedgerMachine):
    def fresh_url(self) -> str:
        self.folder = Path(tempfile.mkdtemp(prefix="embedfin-stateful-"))
        shutil.copyfile(_template(), self.folder / "embedfin.db")
        return f"sqlite:///{self.folder / 'embedfin.db'}"

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


EXAMPLES = int(os.environ.get("EMBEDFIN_STATEFUL_EXAMPLES", 200 if IN_CI else 60))

TestLedgerAgainstModelSqlite = SqliteLedgerMachine.TestCase
TestLedgerAgainstModelSqlite.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=25, deadline=None
)


@pytest.mark.postgres
def test_ledger_against_model_postgres(pg_url: str) -> None:
    """The same machine on PostgreSQL, one database emptied between examples."""

    class PostgresLedgerMachine(LedgerMachine):
        def fresh_url(self) -> str:
            engine = make_engine(pg_url)
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "TRUNCATE accounts, transfers, pending_transfers, account_history;"
                        " UPDATE ledger_meta SET value = 0"
                    )
                )
            engine.dispose()
            return pg_url

    run = PostgresLedgerMachine.TestCase
    run.settings = settings(max_examples=EXAMPLES // 3, stateful_step_count=20, deadline=None)
    run().runTest()
