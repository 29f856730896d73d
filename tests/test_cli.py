"""The embedfin command: demo, check, bench and look-ups, as a user runs them."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from embedfin.cli import app
from embedfin.db.engine import make_engine
from embedfin.ledger.check import check

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


DEMO = ["demo", "--exit-after", "--consumers", "120", "--days", "6", "--port", "0"]


def test_demo_serves_simulates_checks_and_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*DEMO, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "all hold" in result.output
    assert re.search(r"dashboard\s+http://127\.0\.0\.1:\d+/dashboard", result.output)
    assert re.search(r"operator key\s+efk_", result.output)
    engine = make_engine(f"sqlite:///{tmp_path / 'embedfin-data' / 'demo.db'}")
    with engine.connect() as conn:
        assert check(conn).ok
        paid = conn.execute(text("SELECT COUNT(*) FROM orders WHERE paid_at > 0")).scalar_one()
        tenants = conn.execute(text("SELECT COUNT(*) FROM tenants")).scalar_one()
    engine.dispose()
    assert paid > 20  # real orders went through the services
    assert tenants == 1
    again = runner.invoke(app, [*DEMO, "--no-progress"])  # a second run starts afresh
    assert again.exit_code == 0, again.output
    engine = make_engine(f"sqlite:///{tmp_path / 'embedfin-data' / 'demo.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM tenants")).scalar_one() == 1
    engine.dispose()


def test_demo_exit_after_fails_when_an_invariant_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embedfin.ledger import check as check_module

    def always_broken(_conn: object, report: check_module.CheckReport) -> None:
        report.fail("test_invariant", "broken on purpose")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(check_module._EXTRA, "test_invariant", always_broken)
    result = runner.invoke(app, [*DEMO, "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "BROKEN" in result.output
    assert "broken on purpose" in result.output


def test_check_exits_non_zero_with_a_report_when_an_invariant_breaks(sqlite_url: str) -> None:
    ok = runner.invoke(app, ["check", "--db", sqlite_url, "--json"])
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.output)
    assert report["ok"] is True
    assert "customer_money_safeguarded" in report["checked"]
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts VALUES (x'00000000000000000000000000000001', 840, 1, 0,"
                " NULL, 0, 0, 0, 0, 0, 7, 1)"
            )
        )
    engine.dispose()
    broken = runner.invoke(app, ["check", "--db", sqlite_url])
    assert broken.exit_code == 1
    assert "debits_equal_credits" in broken.output
    assert "FAILED" in broken.output


def test_bench_ledger_prints_one_json_object_last(sqlite_url: str) -> None:
    result = runner.invoke(
        app,
        ["bench", "ledger", "--db", sqlite_url, "--transfers", "3000", "--json", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    for key in ("transfers_per_s", "raw_per_s", "ratio", "p99_batch_ms", "peak_rss_mb"):
        assert figures[key] > 0
    assert figures["ok"] + figures["failed"] == 3000


def test_ledger_lookups_show_accounts_and_transfers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, [*DEMO, "--no-progress"]).exit_code == 0
    url = f"sqlite:///{tmp_path / 'embedfin-data' / 'demo.db'}"
    engine = make_engine(url)
    with engine.connect() as conn:
        escrow = conn.execute(text("SELECT hex(id) FROM accounts WHERE code = 300")).scalar_one()
        touched = conn.execute(
            text(
                "SELECT COUNT(*) FROM transfers"
                " WHERE hex(debit_account_id) = :a OR hex(credit_account_id) = :a"
            ),
            {"a": escrow},
        ).scalar_one()
    engine.dispose()
    shown = runner.invoke(app, ["ledger", "account", escrow, "--db", url, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["code"] == 300
    assert json.loads(shown.output)["code_name"] == "escrow"
    assert "300 escrow" in runner.invoke(app, ["ledger", "account", escrow, "--db", url]).output
    listed = runner.invoke(app, ["ledger", "transfers", escrow, "--db", url, "--json"])
    page = json.loads(listed.output)
    assert page["object"] == "list"
    escrow_moves = {"order_payment", "release", "commission", "refund", "channel_payment"}
    assert {t["code_name"] for t in page["data"]} <= escrow_moves | {"wallet_hold", "disburse"}
    assert touched > 20  # every checkout and release of the simulated days
    assert (len(page["data"]), page["has_more"]) == (20, True)
    first = json.loads(
        runner.invoke(
            app, ["ledger", "transfers", escrow, "--db", url, "--json", "--limit", "5"]
        ).output
    )
    assert (len(first["data"]), first["has_more"]) == (5, True)
    bad = runner.invoke(app, ["ledger", "account", "not-an-id", "--db", url])
    assert bad.exit_code != 0


def test_ledger_chart_lists_every_code_with_its_name_and_owner() -> None:
    listed = runner.invoke(app, ["ledger", "chart", "--json"])
    assert listed.exit_code == 0, listed.output
    chart = json.loads(listed.output)
    assert [b["context"] for b in chart["blocks"]] == ["payments", "lending"]
    escrow = next(a for a in chart["accounts"] if a["code"] == 300)
    assert (escrow["name"], escrow["normal"], escrow["owner"]) == ("escrow", "credit", "payments")
    repay = next(t for t in chart["transfers"] if t["code"] == 5030)
    assert (repay["name"], repay["owner"]) == ("repay", "lending")
    table = runner.invoke(app, ["ledger", "chart"]).output
    assert "order_payment" in table
    assert "lender_cash" in table


@pytest.mark.parametrize("section", ["The ledger in five minutes", "Payments (escrow checkout)"])
def test_readme_examples_run(section: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(rf"## {re.escape(section)}\n\n```python\n(.*?)```", readme, re.S)
    assert block is not None
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(os.environ, "EMBEDFIN_DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    exec(compile(block.group(1), "README.md", "exec"), {})


def test_check_on_a_missing_or_foreign_database_says_so_and_creates_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nope.db"
    result = runner.invoke(app, ["check", "--db", f"sqlite:///{missing}"])
    assert result.exit_code != 0
    assert not missing.exists()
    foreign = tmp_path / "foreign.db"
    engine = make_engine(f"sqlite:///{foreign}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE something (x INTEGER)"))
    engine.dispose()
    result = runner.invoke(app, ["check", "--db", f"sqlite:///{foreign}"])
    assert result.exit_code != 0
    assert "embedfin db upgrade" in str(result.exception) + result.output
