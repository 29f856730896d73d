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
