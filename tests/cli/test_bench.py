"""`embedfin bench`: each benchmark's figures, the last line one JSON object."""

from __future__ import annotations

import json

import pytest

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


def _bench_log(*db: str) -> dict[str, float]:
    args = ["bench", "log", "--entries", "2500", "--batch", "1000", "--proofs", "50", *db,
            "--json", "--no-progress"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["entries"] == 2500
    for key in ("log_appends_per_s", "append_vs_insert", "proof_ms_p99", "verify_ms_p99"):
        assert figures[key] > 0
    return figures


def test_bench_log_reports_appends_and_proofs() -> None:
    """Small: every figure is there, and every proof it drew verified (a failure raises)."""
    assert _bench_log()["store"] == "sqlite"  # type: ignore[comparison-overlap]


@pytest.mark.postgres
def test_bench_log_runs_in_a_scratch_database_of_the_server(pg_server: str) -> None:
    assert _bench_log("--db", pg_server)["store"] == "postgresql"  # type: ignore[comparison-overlap]


def test_bench_systemic_times_clearing_and_debtrank_on_a_random_network() -> None:
    args = ["bench", "systemic", "--nodes", "300", "--edges", "3000", "--holders", "2000",
            "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["nodes"] == 300
    assert figures["edges"] == 3000
    assert figures["clearing_seconds"] >= 0
    assert figures["debtrank_seconds"] >= 0
    assert 0 <= figures["debtrank"] <= 1
    assert 0 < figures["clearing_defaults"] < 300
    assert figures["accrual_holders"] == 2000
    assert figures["accrual_seconds"] > 0
    assert figures["accrual_vs_plain_update"] > 0


def test_bench_systemic_refuses_more_edges_than_pairs() -> None:
    result = runner.invoke(app, ["bench", "systemic", "--nodes", "10", "--edges", "91"])
    assert result.exit_code == 2
    assert "at most 90" in result.stderr
