"""`embedfin credit`: what each command refuses before doing any work.

The commands' runs on a database are tested beside the code they drive
(tests/credit/test_registry.py, test_service.py, test_models.py, test_training.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from embedfin.cli import app
from tests.cli.helpers import runner


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train"], "give either --synthetic N or --csv FILE --target COL"),
        (["train", "--synthetic", "10", "--csv", "x.csv"], "give either --synthetic N"),
        (["train", "--csv", "x.csv"], "--csv needs --target"),
        (["evaluate"], "give either --dataset or --csv"),
        (["evaluate", "--dataset", "iris"], "the shipped dataset is: german"),
        (["evaluate", "--csv", "x.csv"], "--csv needs --target"),
    ],
)
def test_conflicting_or_missing_inputs_are_usage_errors(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["credit", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_an_unknown_jurisdiction_is_a_usage_error(sqlite_url: str) -> None:
    preapprove = ["credit", "preapprove", "--tenant", "shop-1", "--jurisdiction", "XX"]
    result = runner.invoke(app, [*preapprove, "--db", sqlite_url])
    assert result.exit_code == 2
    assert "jurisdiction must be one of" in result.stderr


def test_models_on_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = runner.invoke(app, ["credit", "models", "--db", f"sqlite:///{missing}"])
    assert result.exit_code != 0
    assert not missing.exists()
