"""`embedfin demo`: serve, simulate, check, as a user runs it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text

from embedfin.bootstrap import check_all
from embedfin.cli import app
from embedfin.db.engine import make_engine
from tests.cli.helpers import DEMO, runner


def test_demo_serves_simulates_checks_and_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, DEMO)
    assert result.exit_code == 0, result.output
    assert "all hold" in result.output
    assert re.search(r"dashboard\s+http://127\.0\.0\.1:\d+/dashboard", result.output)
    assert re.search(r"operator key\s+efk_", result.output)
    engine = make_engine(f"sqlite:///{tmp_path / 'embedfin-data' / 'demo.db'}")
    with engine.connect() as conn:
        assert check_all(conn).ok
        paid = conn.execute(text("SELECT COUNT(*) FROM orders WHERE paid_at > 0")).scalar_one()
        tenants = conn.execute(text("SELECT COUNT(*) FROM tenants")).scalar_one()
    engine.dispose()
    assert paid > 20  # real orders went through the services
    assert tenants == 1
    demo_db = f"sqlite:///{tmp_path / 'embedfin-data' / 'demo.db'}"
    assert runner.invoke(app, ["audit", "checkpoint", "--db", demo_db]).exit_code == 0
    audited = runner.invoke(app, ["audit", "verify", "--db", demo_db, "--json"])
    assert audited.exit_code == 0, audited.output
    assert audited.stdout.count('"ok": true') == 1
    again = runner.invoke(app, DEMO)  # a second run starts afresh
    assert again.exit_code == 0, again.output
    engine = make_engine(f"sqlite:///{tmp_path / 'embedfin-data' / 'demo.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM tenants")).scalar_one() == 1
    engine.dispose()
    # the first run's checkpoints went with its database: the new log verifies on its own
    assert runner.invoke(app, ["audit", "verify", "--db", demo_db]).exit_code == 0


def test_demo_exit_after_fails_when_an_invariant_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embedfin import bootstrap
    from embedfin.ledger.check import CheckReport

    def always_broken(_conn: object, report: CheckReport) -> None:
        report.fail("test_invariant", "broken on purpose")

    monkeypatch.chdir(tmp_path)
    invariants = [*bootstrap.INVARIANTS, ("test_invariant", always_broken)]
    monkeypatch.setattr(bootstrap, "INVARIANTS", invariants)
    result = runner.invoke(app, DEMO)
    assert result.exit_code == 1, result.output
    assert "BROKEN" in result.output
    assert "broken on purpose" in result.output
