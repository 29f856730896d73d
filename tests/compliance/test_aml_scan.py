"""AML typologies: each found in a seeded scenario, bad files refused with the row and why,
alerts that explain themselves, thresholds as data."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from embedfin.cli import app
from embedfin.compliance.aml import generator
from embedfin.compliance.aml.alerts import TYPOLOGIES
from embedfin.compliance.aml.detectors import AmlParams, poisson_tail
from embedfin.compliance.aml.scan import evaluate_file, scan
from embedfin.compliance.aml.transactions import BadTransactions
from embedfin.core.errors import InvalidInput


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, generator.Generated]:
    folder = tmp_path_factory.mktemp("aml")
    data = generator.generate(50_000, seed=11)
    generator.write_csv(data, folder / "month.csv")
    generator.write_truth(data, folder / "truth.csv")
    return folder / "month.csv", folder / "truth.csv", data


def test_every_typology_is_found_in_a_seeded_month(month: tuple[Path, Path, Any]) -> None:
    data_file, truth_file, data = month
    figures, result = evaluate_file(data_file, truth_file)
    for name in TYPOLOGIES:
        typology = figures.by_typology[name]
        assert typology.instances == 5
        assert typology.instance_recall >= 0.8, (name, typology)
        assert typology.tx_precision is not None, name
        assert typology.tx_precision >= 0.5, name
    assert figures.f1 >= 0.8
    # the scan never read the truth: the same alerts without it
    assert [a.rows for a in scan(data_file).alerts] == [a.rows for a in result.alerts]


def test_an_alert_names_accounts_transactions_window_amount_and_why(
    month: tuple[Path, Path, Any], tmp_path: Path
) -> None:
    data_file, _, data = month
    out = tmp_path / "alerts.jsonl"
    runner = CliRunner()
    done = runner.invoke(app, ["aml", "scan", str(data_file), "--json", "--out", str(out),
                               "--no-progress"])  # fmt: skip
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary["alerts"] == len(lines) > 0
    by_id = {tx_id: (src, dst, cents) for tx_id, src, dst, cents, _ in data.rows}
    for line in lines:
        assert line["typology"] in TYPOLOGIES
        assert line["reasons"]
        assert all(isinstance(r, str) and r for r in line["reasons"])
        assert 0 < line["score"] < 1
        assert line["window"]["start"] <= line["window"]["end"]
        total = sum(by_id[tx][2] for tx in line["transactions"])
        assert Decimal(line["amount"]) == Decimal(total) / 100  # exact, no float
        involved = {a for tx in line["transactions"] for a in by_id[tx][:2]}
        assert set(line["accounts"]) <= involved


def test_a_file_without_tx_ids_names_its_rows_and_steps_are_days(tmp_path: Path) -> None:
    rows = ["src,dst,amount,step"]
    rows += [f"A{n},HUB,{900 + n}.00,3" for n in range(12)]  # twelve senders on one day
    rows += [f"A{n},B{n},{50 + n}.00,{n % 20}" for n in range(40)]
    path = tmp_path / "steps.csv"
    path.write_text("\n".join(rows) + "\n")
    result = scan(path)
    (fan,) = [line for line in result.lines() if line["typology"] == "fan_in"]
    assert fan["transactions"] == list(range(1, 13))  # 1-based data rows
    assert fan["window"] == {"start": 3, "end": 3}
    assert "HUB" in fan["accounts"]


def test_a_cycle_across_currencies_is_no_cycle(tmp_path: Path) -> None:
    path = tmp_path / "fx.csv"
    path.write_text(
        "tx_id,src,dst,amount,timestamp,currency\n"
        "t1,a,b,1000.00,2026-03-01T10:00:00Z,EUR\n"
        "t2,b,c,980.00,2026-03-01T12:00:00Z,EUR\n"
        "t3,c,a,960.00,2026-03-01T14:00:00Z,USD\n"
        "t4,x,y,1000.00,2026-03-01T10:00:00Z,EUR\n"
        "t5,y,z,980.00,2026-03-01T12:00:00Z,EUR\n"
        "t6,z,x,960.00,2026-03-01T14:00:00+00:00,eur\n"
    )
    cycles = [line for line in scan(path).lines() if line["typology"] == "cycle"]
    assert [c["transactions"] for c in cycles] == [["t4", "t5", "t6"]]
    assert cycles[0]["currency"] == "EUR"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("src,dst,step\na,b,1\n", "missing column(s) amount"),
        ("src,dst,amount\na,b,1\n", "timestamp or step"),
        ("src,dst,amount,step\na,b,1,1\nb,c,-5,2\n", "row 2: amount -5 is negative"),
        ("src,dst,amount,step\na,b,EUR 10,1\n", "row 1: amount 'EUR 10' is not a plain number"),
        ("src,dst,amount,timestamp\na,b,1,yesterday\n", "row 1: time 'yesterday' does not parse"),
        ("src,dst,amount,step\na,,1,1\n", "row 1: dst is empty"),
        ("tx_id,src,dst,amount,step\nt1,a,b,1,1\nt1,b,c,2,1\n", "row 2: tx_id 't1' repeats row 1"),
        ("src,dst,amount,step,currency\na,b,1,1,EURO\n", "row 1: currency 'EURO'"),
        ("src,dst,amount,step\na,b,1e40,1\n", "row 1: amount"),
    ],
)
def test_a_bad_file_is_refused_with_its_row_and_reason(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(BadTransactions) as refused:
        scan(path)
    assert message in str(refused.value)


def test_a_missing_or_unknown_file_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadTransactions):
        scan(tmp_path / "nope.csv")
    odd = tmp_path / "data.xlsx"
    odd.write_text("x")
    with pytest.raises(BadTransactions):
        scan(odd)


def test_parquet_files_read_as_csv_files_do(month: tuple[Path, Path, Any], tmp_path: Path) -> None:
    import duckdb

    data_file = month[0]
    parquet = tmp_path / "month.parquet"
    quoted = str(data_file)
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{quoted}', header = true, all_varchar = true))"
        f" TO '{parquet}' (FORMAT parquet)"
    )
    assert [a.rows for a in scan(parquet).alerts] == [a.rows for a in scan(data_file).alerts]


def test_thresholds_are_data_and_bad_ones_are_refused() -> None:
    params = AmlParams.from_mapping({"fan_degree": 12, "structuring_threshold": "3000"})
    assert (params.fan_degree, params.structuring_threshold) == (12, Decimal(3000))
    for bad in ({"fan_degree": 1}, {"fan_degree": 2.5}, {"pass_tolerance": 1.5},
                {"hop_s": -1}, {"nope": 1}, {"burst_ratio": True}):  # fmt: skip
        with pytest.raises(InvalidInput):
            AmlParams.from_mapping(bad)


def test_the_poisson_tail_matches_published_values() -> None:
    # P(X >= 8 | λ = 1) = 1 − Σ_{k<8} e^{-1}/k! = 1.0249e-5; P(X >= 1 | λ = 2) = 1 − e^{-2}
    assert poisson_tail(8, 1.0) == pytest.approx(1.0249e-5, rel=1e-3)
    assert poisson_tail(1, 2.0) == pytest.approx(0.864665, rel=1e-5)
    assert poisson_tail(0, 5.0) == 1.0
    assert poisson_tail(40, 2.0) < 1e-30


def test_the_generator_is_seeded_and_keeps_its_truth_apart() -> None:
    one, two = generator.generate(5_000, seed=3), generator.generate(5_000, seed=3)
    assert one.rows == two.rows
    assert one.truth == two.truth
    per_typology: dict[str, set[int]] = defaultdict(set)
    for typology, instance in one.truth.values():
        per_typology[typology].add(instance)
    assert {t: len(i) for t, i in per_typology.items()} == dict.fromkeys(TYPOLOGIES, 5)
    with pytest.raises(InvalidInput):
        generator.generate(10)
