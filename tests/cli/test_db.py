"""`embedfin db upgrade`: creates or migrates the schema, and says where."""

from __future__ import annotations

from pathlib import Path

from embedfin.cli import app
from tests.cli.helpers import runner


def test_upgrade_creates_a_schema_that_check_accepts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    created = runner.invoke(app, ["db", "upgrade", "--db", url])
    assert created.exit_code == 0, created.output
    assert "schema up to date" in created.stdout
    again = runner.invoke(app, ["db", "upgrade", "--db", url])  # idempotent
    assert again.exit_code == 0, again.output
    assert runner.invoke(app, ["check", "--db", url]).exit_code == 0
