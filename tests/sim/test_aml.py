"""Sanctions screening in the simulated marketplace: every listed buyer caught and none of its
money out; the namesake held, then cleared and paid; no honest buyer held."""

from __future__ import annotations

from pathlib import Path

from embedfin.bench import fraud as bench
from embedfin.bootstrap import check_all
from embedfin.sim import aml, fraud


def test_listed_buyers_are_caught_and_namesakes_cleared(tmp_path: Path) -> None:
    world = bench._world(tmp_path, "aml", 7, 40, on=True)
    truth = aml.onboard(world, seed=7)
    for _ in range(3):
        fraud.run(world, 1)
        aml.cash_out(world, truth)
        aml.investigate(world, truth)
    figures = aml.report(world, truth)
    assert figures.listed == figures.listed_caught == len(aml.LISTED)
    assert figures.listed_paid_out_minor == 0
    assert figures.outcomes["listed:held"] == 3 * len(aml.LISTED)
    assert figures.namesakes_cleared == figures.namesakes == len(aml.NAMESAKES)
    assert figures.honest_held == 0
    assert figures.outcomes.get("namesake:paid", 0) >= 1  # cleared, then paid out
    assert all(days <= 1 for days in figures.days_held.values())
    with world.services.ledger.reader() as conn:
        assert check_all(conn).ok
