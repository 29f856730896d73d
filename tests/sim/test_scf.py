"""The supply-chain simulator: with certificates every tier that needs cash gets it at the core
enterprise's rate, down to the tier no lender reaches on its own; every certificate is paid at
maturity and the books hold."""

from __future__ import annotations

from pathlib import Path

from embedfin.bootstrap import Services, check_all
from embedfin.core.clock import ManualClock
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.risk.config import RiskSettings
from embedfin.sim import scf as sim
from tests.conftest import fresh_sqlite


def test_certificates_carry_the_core_enterprises_credit_down_the_tiers(
    sqlite_template: Path, tmp_path: Path
) -> None:
    clock = ManualClock()
    ledger = Ledger(make_engine(fresh_sqlite(sqlite_template, tmp_path)), clock)
    services = Services(ledger, risk=RiskSettings(enabled=False)).tenant("sim-scf")
    scenario = sim.ScfScenario(cores=2, fan_out=3, tiers=3, days=3, need_cash=0.5, seed=11)
    report = sim.run(services, clock, scenario)
    assert report.certificates_issued > 0
    assert report.payables_settled == report.certificates_issued
    with_, without = report.with_certificates.tiers, report.without.tiers
    assert set(with_) == set(without) == {1, 2, 3}
    for tier in (1, 2, 3):
        assert with_[tier]["access"] == 1.0  # every supplier that needed cash got it
        # the core enterprise's 3.6% discount, as a yield on the price the funder paid
        assert 0.036 <= with_[tier]["cost"] < 0.037
    assert without[1]["cost"] > 0.08  # tier 1 borrows on its own credit at 8% (discounted)
    # no lender reaches tier 3 on its own credit: with certificates, every one that needed
    # cash got it
    assert without[3]["needed"] > 0
    assert without[3]["financed"] == 0
    assert with_[3]["financed"] == with_[3]["needed"] > 0
    with ledger.reader() as conn:
        checked = check_all(conn)
    assert checked.ok, checked.violations
