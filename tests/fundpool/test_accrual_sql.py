"""The set-based accrual the service runs is ``accrual.accrue_all`` row by row: hypothesis over
random holdings, on SQLite (the SQL is the same on PostgreSQL; test_service runs it there)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from embedfin.core.clock import ManualClock
from embedfin.db.engine import make_engine
from embedfin.db.tables import fundpool_holdings
from embedfin.fundpool.accrual import SCALE, Holding, accrue_all
from embedfin.fundpool.income import _DISTRIBUTE, _TOTALS
from embedfin.fundpool.service import FundPool
from embedfin.ledger.service import Ledger
from tests.conftest import fresh_sqlite

holdings = st.lists(
    st.builds(Holding, st.integers(0, 10**11), st.integers(0, SCALE - 1)), min_size=1, max_size=40
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=holdings, income=st.integers(0, 10**8), residue=st.integers(0, 10**6))
def test_the_sql_credits_every_holder_what_the_rule_says(
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    before: list[Holding],
    income: int,
    residue: int,
) -> None:
    url = fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("accrual"))
    ledger = Ledger(make_engine(url), ManualClock())
    FundPool(ledger, "t")  # the schema is there
    units = sum(h.units_minor for h in before)
    income = min(income, units // 100)
    expected, rate, credited = accrue_all(before, income, residue)
    params = {"tenant": "t", "fund_id": "f", "rate": rate.rate_nano}
    with ledger.transaction() as tx:
        tx.conn.execute(insert(fundpool_holdings), [
            {"tenant": "t", "fund_id": "f", "holder_id": f"h{i}", "units_minor": h.units_minor,
             "carry_nano": h.carry_nano, "created_at": 0} for i, h in enumerate(before)
        ])  # fmt: skip
        holders, total = tx.conn.execute(_TOTALS, params).one()
        tx.conn.execute(_DISTRIBUTE, params)
        t = fundpool_holdings.c
        rows = tx.conn.execute(select(t.holder_id, t.units_minor, t.carry_nano)).all()
    got = {row.holder_id: (row.units_minor, row.carry_nano) for row in rows}
    assert total == credited
    assert holders == sum(1 for h in before if h.units_minor > 0)
    for i, h in enumerate(expected):
        if before[i].units_minor == 0:
            continue
        assert got[f"h{i}"] == (h.units_minor, h.carry_nano)
