"""The fund pool's daily accrual at scale: ``accrual_seconds(holders)``.

One fund with ``holders`` holders on a scratch SQLite database (``scratch_database``), each
holding a different number of units, and a portfolio income for the day: the figure is the
wall time of one ``FundPool.accrue`` — the day's interest and fees on the ledger, one set-based
update of every holding (``fundpool/income.py``), the day's row and disclosures — committed.
The baseline in the same run, on the same table, is a plain ``UPDATE`` of every holding's carry
(what any per-row change of N rows costs this store), so the figure can be reported as a ratio
(``AccrualRun.vs_plain_update``). Issue 16 asks for 1,000,000 holders in under 10 s on SQLite.

The holdings are seeded directly: the whole as units on the ledger in one transfer, and
``holders`` rows in bulk inserts (subscribing a million holders one by one is not what is
measured), so the ledger's units outstanding and the holdings agree before the day.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import insert, text

FUND = "bench-mmf"
TENANT = "bench-fundpool"
UNITS_EACH = 1_000_000  # 10,000.00 on average
BATCH = 50_000


@dataclass(frozen=True, slots=True)
class AccrualRun:
    """Attributes: holders, the accrual's seconds, the plain update's seconds, their ratio."""

    holders: int
    seconds: float
    plain_update_seconds: float

    @property
    def vs_plain_update(self) -> float:
        return self.seconds / self.plain_update_seconds if self.plain_update_seconds else 0.0


def accrual_seconds(holders: int) -> float:
    """Seconds of one day's accrual for ``holders`` holders on SQLite."""
    return accrual_run(holders).seconds


def accrual_run(holders: int) -> AccrualRun:
    from embedfin.core.clock import ManualClock
    from embedfin.core.money import Money
    from embedfin.db.engine import make_engine
    from embedfin.db.migrate import upgrade
    from embedfin.db.scratch import scratch_database
    from embedfin.db.tables import fundpool_holdings
    from embedfin.fundpool.book import F, FundBook
    from embedfin.fundpool.chart import CODE_SUBSCRIPTION_UNITS
    from embedfin.fundpool.service import FundPool
    from embedfin.ledger.service import Ledger

    if holders < 1:
        raise ValueError("holders is 1 or more")
    # holders' units: UNITS_EACH ± up to 1/2, so each one's share of the day differs
    units = [UNITS_EACH // 2 + (i * 7_919) % UNITS_EACH for i in range(holders)]
    total = sum(units)
    with scratch_database(None, "fundpool") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            clock = ManualClock()
            ledger = Ledger(engine, clock)
            pool = FundPool(ledger, TENANT)
            pool.open_fund(FUND, "Bench fund", "CNY")
            with ledger.transaction() as tx:
                book = FundBook(TENANT, FUND, "CNY")
                cash, outstanding = book.fund(F.FUND_CASH), book.fund(F.UNITS_OUTSTANDING)
                book.add("bench-seed", "units", cash, outstanding, total, CODE_SUBSCRIPTION_UNITS)
                book.post(tx, insufficient="unreachable")
                for start in range(0, holders, BATCH):
                    tx.conn.execute(insert(fundpool_holdings), [
                        {"tenant": TENANT, "fund_id": FUND, "holder_id": f"h{i:08d}",
                         "units_minor": units[i], "carry_nano": 0, "created_at": 0}
                        for i in range(start, min(start + BATCH, holders))
                    ])  # fmt: skip
            income = max(total * 6 // 100_000, 1)  # about 2.2% a year
            started = time.perf_counter()
            pool.accrue("bench-day-1", FUND, bank_interest=Money(income, "CNY"))
            seconds = time.perf_counter() - started
            started = time.perf_counter()
            with ledger.transaction() as tx:
                tx.conn.execute(
                    text("UPDATE fundpool_holdings SET carry_nano = carry_nano + 1"
                         " WHERE tenant = :tenant AND fund_id = :fund_id AND units_minor > 0"),
                    {"tenant": TENANT, "fund_id": FUND},
                )  # fmt: skip
            plain = time.perf_counter() - started
        finally:
            engine.dispose()
    return AccrualRun(holders, seconds, plain)
