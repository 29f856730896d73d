"""`embedfin check` and `embedfin ledger`: invariants, accounts and transfers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from embedfin.cli import app
from embedfin.db.engine import make_engine
from tests.cli.helpers import DEMO, runner


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


def test_ledger_lookups_show_accounts_and_transfers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, DEMO).exit_code == 0
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
    assert [b["context"] for b in chart["blocks"]] == ["payments", "lending", "scf", "fundpool"]
    escrow = next(a for a in chart["accounts"] if a["code"] == 300)
    assert (escrow["name"], escrow["normal"], escrow["owner"]) == ("escrow", "credit", "payments")
    repay = next(t for t in chart["transfers"] if t["code"] == 5030)
    assert (repay["name"], repay["owner"]) == ("repay", "lending")
    split = next(t for t in chart["transfers"] if t["code"] == 6002)
    assert (split["name"], split["owner"]) == ("certificate_split", "scf")
    accrual = next(t for t in chart["transfers"] if t["code"] == 7031)
    assert (accrual["name"], accrual["owner"]) == ("income_distribution", "fundpool")
    table = runner.invoke(app, ["ledger", "chart"]).output
    assert "order_payment" in table
    assert "lender_cash" in table
