"""The accrual benchmark runs a real day on a scratch SQLite database and reports its baseline."""

from __future__ import annotations

from embedfin.bench.fundpool import accrual_run, accrual_seconds


def test_the_accrual_benchmark_measures_a_day_and_a_plain_update() -> None:
    run = accrual_run(2_000)
    assert run.holders == 2_000
    assert run.seconds > 0
    assert run.plain_update_seconds > 0
    assert run.vs_plain_update > 0
    assert accrual_seconds(10) > 0
