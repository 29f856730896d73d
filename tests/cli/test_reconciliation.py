"""`embedfin recon` and `embedfin breaks`: a settlement file's breaks listed and resolved."""

from __future__ import annotations

import json
from pathlib import Path

from embedfin.cli import app
from tests.cli.helpers import runner

TENANT = "shop-1"


def _unknown_settlement(tmp_path: Path) -> Path:
    path = tmp_path / "settlement.csv"
    path.write_text("reference,amount,currency,value_date\nch_unknown,10.00,USD,2026-01-01\n")
    return path


def test_a_line_the_books_lack_is_a_break_that_is_listed_then_resolved(
    sqlite_url: str, tmp_path: Path
) -> None:
    recon = ["recon", str(_unknown_settlement(tmp_path)), "--channel", "card", "--tenant", TENANT]
    ran = runner.invoke(app, [*recon, "--db", sqlite_url])
    assert ran.exit_code == 0, ran.output
    assert "1 lines, 0 matched, 1 breaks" in ran.stdout
    listed = runner.invoke(app, ["breaks", "--tenant", TENANT, "--db", sqlite_url, "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["kind"], row["reference"]) == ("missing_in_books", "ch_unknown")
    resolve = ["breaks", "--tenant", TENANT, "--db", sqlite_url, "--resolve", row["break_id"]]
    no_note = runner.invoke(app, resolve)
    assert no_note.exit_code == 2
    assert "--note is required with --resolve" in no_note.stderr
    resolved = runner.invoke(app, [*resolve, "--note", "channel test line"])
    assert resolved.exit_code == 0, resolved.output
    assert f"resolved {row['break_id']}" in resolved.stdout
    after = runner.invoke(app, ["breaks", "--tenant", TENANT, "--db", sqlite_url])
    assert "open breaks (0)" in after.stdout
