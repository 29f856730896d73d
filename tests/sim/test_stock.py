"""Inventory financing in the simulator, on SQLite: before the shock the distributor draws to
restock; a month after it the stock has stopped selling, the base falls below what is drawn,
the facility freezes and its plan is collected from the sales that remain; the books check
out."""

from __future__ import annotations

from embedfin.bootstrap import Services, check_all
from embedfin.core.clock import ManualClock
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.risk.config import RiskSettings
from embedfin.sim.stock import StockScenario, run


def test_a_demand_shock_freezes_the_facility_and_its_plan_is_collected(sqlite_url: str) -> None:
    clock = ManualClock()
    ledger = Ledger(make_engine(sqlite_url), clock)
    services = Services(ledger, risk=RiskSettings(enabled=False)).tenant("stock-sim")
    # the 30-day window forgets the good days a month after the shock: then the base falls
    scenario = StockScenario(distributors=1, days=50, shock_day=10, shock=0.9)
    report = run(services, clock, scenario)
    before = report.days[scenario.shock_day - 1]
    assert before["drawn_minor"] > 0  # it borrowed to restock
    assert before["frozen"] == 0
    low = min(d["limit_minor"] for d in report.days[scenario.shock_day :])
    assert low < before["limit_minor"]  # the base followed sell-through down
    frozen = report.frozen_on["dist-0"]
    assert frozen >= scenario.shock_day
    assert report.collected >= 1
    assert report.days[-1]["drawn_minor"] < report.days[frozen]["drawn_minor"]  # paid down
    with ledger.reader() as conn:
        healthy = check_all(conn)
    assert healthy.ok, healthy.violations
