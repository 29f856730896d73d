"""`embedfin stress contagion`: the example networks cleared and spread, a table for people,
one JSON object for machines; a bad network is refused with its code, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedfin.cli import app
from tests.cli.helpers import runner

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "stress"


def _json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["stress", "contagion", *args, "--json"])
    assert result.exit_code == 0, result.output
    figures: dict[str, object] = json.loads(result.stdout)
    return figures


def test_rogers_veraart_on_the_ring_prints_payments_defaults_and_equity() -> None:
    figures = _json(str(EXAMPLES / "ring.json"), "--model", "rogers-veraart")
    assert figures["exact"] is True
    assert figures["defaulted"] == ["bank1", "bank2"]
    nodes = {n["node"]: n for n in figures["nodes"]}  # type: ignore[attr-defined]
    assert nodes["bank1"]["paid"] == 10
    assert nodes["bank2"]["paid"] == pytest.approx(209 / 21)
    assert nodes["bank3"]["equity"] == pytest.approx(62 / 147)


def test_eisenberg_noe_is_the_default_model() -> None:
    assert _json(str(EXAMPLES / "ring.json"))["defaulted"] == ["bank1"]


def test_debtrank_prints_final_stress_and_the_debtrank() -> None:
    figures = _json(str(EXAMPLES / "debtrank.json"), "--model", "debtrank")
    assert figures["debtrank"] == pytest.approx(0.160714, abs=1e-6)
    finals = [n["final_stress"] for n in figures["nodes"]]  # type: ignore[attr-defined]
    assert finals == pytest.approx([0.15, 0.26, 0.30])


@pytest.mark.parametrize(
    "model", ["eisenberg-noe", "rogers-veraart", "debtrank", "differential-debtrank"]
)
def test_the_platform_example_runs_every_model_as_a_table(model: str) -> None:
    result = runner.invoke(
        app, ["stress", "contagion", str(EXAMPLES / "platform.json"), "--model", model]
    )
    assert result.exit_code == 0, result.output
    assert f"platform.json: {model}" in result.stdout
    assert "merchant-1" in result.stdout


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ('{"nodes": ["a"], "liabilities": [[-1]], "external_assets": [1]}', "negative"),
        ('{"nodes": ["a", "b"], "liabilities": [[0, 1]], "external_assets": [1, 1]}', "rows"),
        ('{"nodes": ["a"], "liabilities": [[NaN]], "external_assets": [1]}', "finite"),
        ('{"nodes": ["a"], "liabilities": {"z": {"a": 1}}, "external_assets": [1]}', "'z'"),
        ('{"nodes": ["a"], "liabilities": [[0]], "external_assets": [1], "alpha": 2}', "alpha"),
        ("[1, 2]", "a JSON object"),
        ("{not json", "not a readable JSON file"),
    ],
)
def test_a_bad_network_exits_2_with_the_reason_and_prints_nothing(
    tmp_path: Path, network: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(network)
    result = runner.invoke(app, ["stress", "contagion", str(path), "--model", "rogers-veraart"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in " ".join(result.stderr.split())
    assert "invalid" in result.stderr


def test_a_shock_above_one_is_refused_for_debtrank(tmp_path: Path) -> None:
    path = tmp_path / "shock.json"
    path.write_text('{"nodes": ["a"], "exposures": [[0]], "capital": [1], "shock": [1.5]}')
    result = runner.invoke(app, ["stress", "contagion", str(path), "--model", "debtrank"])
    assert result.exit_code == 2
    assert "invalid_network" in result.stderr


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stress", "contagion", str(tmp_path / "none.json")])
    assert result.exit_code == 2
    assert "not a readable JSON file" in " ".join(result.stderr.split())


def test_a_run_on_the_fund_finds_its_shortfall_day_and_what_the_cap_and_buffer_buy(
    tmp_path: Path,
) -> None:
    result = runner.invoke(app, ["stress", "run", str(EXAMPLES / "run.json"), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    days = {arm: f["shortfall_day"] for arm, f in figures.items()}
    assert days == {"as_given": 5, "with_cap": 6, "with_buffer": 14}
    assert figures["as_given"]["days"][3]["requested"] > figures["as_given"]["days"][2][
        "requested"]  # the news day  # fmt: skip
    table = runner.invoke(app, ["stress", "run", str(EXAMPLES / "run.json")])
    assert "shortfall day" in table.stdout
    bad = tmp_path / "bad.json"
    for body in ('{"holdings": 10, "cash": 1, "base": 2}', '{"holdings": 10, "cash": 1, "x": 1}',
                 '{"holdings": -1, "cash": 1}', '[1]', '{"holdings": 10, "cash": 1,'
                 ' "compare": {"cap": 0.5, "bank": 1}}'):  # fmt: skip
        bad.write_text(body)
        refused = runner.invoke(app, ["stress", "run", str(bad)])
        assert refused.exit_code == 2, body
        assert "invalid_input" in refused.stderr
