"""Two fast redemptions of one holder at once on PostgreSQL: the holder's row is locked, so the
daily cap holds — one passes, the other is refused (and nothing of it is written)."""

from __future__ import annotations

import threading

import pytest

from embedfin.core.clock import ManualClock
from embedfin.core.errors import EmbedfinError
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from tests.fundpool.conftest import FUND, cny, make_pool


@pytest.mark.postgres
def test_racing_fast_redemptions_never_pass_the_cap_together(pg_url: str) -> None:
    clock = ManualClock()
    fund = make_pool(Ledger(make_engine(pg_url), clock), clock)
    fund.pool.subscribe("s-1", FUND, "b-1", cny(3_000_000))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem(request_id: str) -> None:
        barrier.wait()
        try:
            fund.pool.redeem(request_id, FUND, "b-1", cny(600_000), "fast")
            outcomes.append("paid")
        except EmbedfinError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=redeem, args=(f"r-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["fast_redemption_cap", "paid"]
    assert fund.pool.holding(FUND, "b-1")[0] == cny(2_400_000)
