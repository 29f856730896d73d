"""`embedfin bench`: each benchmark's figures, the last line one JSON object."""

from __future__ import annotations

import json

from embedfin.cli import app
from tests.cli.helpers import runner


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


def test_bench_checkout_shows_a_table_for_people_and_ends_with_the_json_figures() -> None:
    result = runner.invoke(app, ["bench", "checkout", "--orders", "20", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "bench checkout (sqlite)" in result.stdout
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["orders"] == 20
    assert figures["lifecycles_per_s"] > 0


def test_a_batch_larger_than_the_ledger_takes_is_a_usage_error() -> None:
    result = runner.invoke(app, ["bench", "ledger", "--batch-size", "8190"])
    assert result.exit_code == 2
    assert "less than or equal to 8189" in result.stderr
