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


def test_the_ring_is_caught_by_the_monitor_and_its_reports_filed(tmp_path: Path) -> None:
    world = bench._world(tmp_path, "aml-ring", 11, 40, on=True)
    truth = aml.set_up_laundering(world)
    for _ in range(3):
        fraud.run(world, 1)
        aml.launder(world, truth)
    aml.monitor(world, truth)
    figures = aml.monitoring_report(truth)
    assert figures.laundered_minor > 0
    assert figures.shell_caught
    assert figures.structurer_caught
    assert figures.ring_caught >= 0.9 * figures.ring_accounts
    assert figures.alert_precision >= 0.5
    assert figures.reports_filed.get("suspicious", 0) == sum(figures.confirmed.values())
    aml.monitor(world, truth)  # the next day: nothing found twice
    assert aml.monitoring_report(truth).confirmed == figures.confirmed
    with world.services.ledger.reader() as conn:
        assert check_all(conn).ok


def test_class_i_accounts_reach_their_limit_and_class_iii_ones_do_not(tmp_path: Path) -> None:
    world = bench._world(tmp_path, "aml-classes", 5, 60, on=False)
    classes = aml.verify_buyers(world, seed=5)
    fraud.run(world, 12, fraud_share=0.0)  # honest buyers only: every refusal is a limit's
    figures = aml.diligence_report(world, classes)
    assert sum(figures.buyers.values()) == 60
    assert figures.refused_payments > 0  # RMB 1,000 since opening: about EUR 125
    assert figures.mostly_used.get("I", 0) > 0
    assert figures.mostly_used.get("III", 0) == 0
    with world.services.ledger.reader() as conn:
        assert check_all(conn).ok
