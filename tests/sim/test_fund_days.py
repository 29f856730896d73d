"""The fund pool simulator drives the real services for two weeks: every day is accrued and
disclosed, the cap refuses some fast redemptions, and ``embedfin check`` holds at the end."""

from __future__ import annotations

from embedfin.bootstrap import Services
from embedfin.core.clock import ManualClock
from embedfin.ledger.service import Ledger
from embedfin.risk.config import RiskSettings
from embedfin.sim.fund_days import FundScenario, run


def test_two_weeks_of_a_fund_hold_every_invariant(sqlite_url: str) -> None:
    clock = ManualClock()
    services = Services(Ledger.open(sqlite_url, clock), risk=RiskSettings(enabled=False))
    report = run(services.tenant("sim-fund"), clock, FundScenario(depositors=12, days=10))
    assert report.invariants_hold
    assert len(report.days) == 10
    assert report.redemptions > 0
    assert all(d.units_minor > 0 for d in report.days)
    assert report.days[-1].yield_7d > 0
    assert all(d.weekly_ratio >= d.daily_ratio for d in report.days)
