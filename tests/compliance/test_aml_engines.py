"""The detectors on DuckDB and on Spark: the same queries, the same alerts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedfin.compliance.aml import generator
from embedfin.compliance.aml.alerts import TYPOLOGIES
from embedfin.compliance.aml.engines import to_spark
from embedfin.compliance.aml.scan import scan
from embedfin.core.errors import InvalidInput


def _lines(path: Path, engine: str) -> list[str]:
    return [
        json.dumps(line, sort_keys=True, default=str) for line in scan(path, engine=engine).lines()
    ]


def test_a_distinct_count_over_a_window_becomes_a_set_size_on_spark() -> None:
    sql = to_spark(
        "SELECT count(DISTINCT dst) OVER (PARTITION BY src ORDER BY t RANGE BETWEEN 5 PRECEDING "
        "AND 5 FOLLOWING) AS n, count(DISTINCT dst) AS m, list_sort(list(row_no)) FROM tx "
        "SEMI JOIN c ON c.src = tx.src GROUP BY ALL"
    )
    assert "SIZE(COLLECT_SET(dst) OVER (PARTITION BY src" in sql
    assert "COUNT(DISTINCT dst) AS m" in sql  # an ordinary aggregate stays as it is
    assert "ARRAY_SORT(COLLECT_LIST(row_no))" in sql
    assert "GROUP BY ALL" in sql


def test_an_unknown_engine_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="engine must be one of duckdb, spark"):
        scan(tmp_path / "absent.csv", engine="polars")


@pytest.mark.slow
@pytest.mark.parametrize("steps", [False, True], ids=["timestamps", "steps"])
def test_duckdb_and_spark_find_identical_alerts(tmp_path: Path, steps: bool) -> None:
    """Every typology injected into a seeded month, scanned on both engines: every alert the
    same, to its rows, window, amount, score and reasons."""
    data = generator.generate(6_000, seed=5, per_typology=2)
    path = tmp_path / "month.csv"
    generator.write_csv(data, path, steps=steps, currency="EUR")
    on_duckdb = _lines(path, "duckdb")
    found = {json.loads(line)["typology"] for line in on_duckdb}
    assert found >= set(TYPOLOGIES) - ({"cycle"} if steps else set())
    assert _lines(path, "spark") == on_duckdb
