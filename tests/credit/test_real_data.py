"""Credit on real data (``credit evaluate --csv`` / ``credit train --csv``): missing numbers,
text columns, integer-coded categories, blank or 0.0/1.0 targets, and readable reasons.

Small CSVs written in a temporary folder; each run fits on a few hundred rows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from embedfin.cli import app
from embedfin.core.errors import InvalidInput
from embedfin.credit.compiled import CompiledScorecard
from embedfin.credit.evaluate import load_csv, split_target
from embedfin.credit.models import ScorecardModel

runner = CliRunner()
ROWS = 400


def applicants(rows: int = ROWS, seed: int = 7) -> pd.DataFrame:
    """Income (numeric), region (text), grade (1-4, integer-coded) and a 0/1 default."""
    rng = np.random.default_rng(seed)
    income = rng.normal(3_000, 800, rows).round()
    region = rng.choice(["north", "south", "east"], rows)
    grade = rng.integers(1, 5, rows)
    logit = -1.0 - (income - 3_000) / 800 + (region == "south") * 0.8 + (grade - 2.5) * 0.9
    default = (rng.uniform(0, 1, rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"income": income, "region": region, "grade": grade, "default": default})


def write(frame: pd.DataFrame, folder: Path, name: str = "applicants.csv") -> Path:
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def with_missing_income(frame: pd.DataFrame) -> pd.DataFrame:
    holes = frame.copy()
    holes.loc[holes.index % 9 == 0, "income"] = np.nan
    return holes


def test_evaluate_imputes_missing_numbers_for_the_baseline(tmp_path: Path) -> None:
    path = write(with_missing_income(applicants()), tmp_path)
    args = ["credit", "evaluate", "--csv", str(path), "--target", "default", "--json"]
    result = runner.invoke(app, [*args, "--folds", "3"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["rows"] == ROWS
    for key in ("auc", "challenger_auc", "baseline_auc"):
        assert figures[key] > 0.6, (key, figures)  # NaN compares False


def test_train_treats_text_columns_as_categories(tmp_path: Path, sqlite_url: str) -> None:
    path = write(applicants(), tmp_path)
    args = ["credit", "train", "--db", sqlite_url, "--csv", str(path), "--target", "default"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)  # train prints one indented JSON object
    assert figures["rows"] == ROWS
    assert figures["auc"] > 0.6


def test_train_takes_a_bad_value_like_evaluate(tmp_path: Path, sqlite_url: str) -> None:
    frame = applicants()
    frame["default"] = frame["default"].map({1: "charged_off", 0: "repaid"})
    path = write(frame, tmp_path)
    args = ["credit", "train", "--db", sqlite_url, "--csv", str(path), "--target", "default"]
    result = runner.invoke(app, [*args, "--bad-value", "charged_off", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["bad_rate"] == round(float((frame["default"] == "charged_off").mean()), 4)


@pytest.mark.parametrize("bad_value", [None, "1"])
def test_rows_with_a_blank_target_are_refused_and_counted(
    tmp_path: Path, bad_value: str | None
) -> None:
    """A blank outcome is unknown, not good: the whole file is refused, naming how many rows."""
    frame = applicants().astype({"default": object})
    frame.loc[[3, 10, 11], "default"] = None
    path = write(frame, tmp_path)
    with pytest.raises(InvalidInput, match=r"3 rows have a blank 'default'.*4, 11, 12"):
        load_csv(path, "default", bad_value)


def test_a_blank_target_through_the_command_is_a_clear_error(tmp_path: Path) -> None:
    frame = applicants().astype({"default": object})
    frame.loc[[5], "default"] = " "
    path = write(frame, tmp_path)
    args = ["credit", "evaluate", "--csv", str(path), "--target", "default", "--bad-value", "1"]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, InvalidInput), result.output
    assert "1 rows have a blank 'default'" in result.exception.message


def test_a_float_target_compares_numerically_with_the_bad_value() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0.0, 1.0, 1.0, 0.0]})
    X, y = split_target(frame, "y", bad_value="1")
    assert list(y) == [0, 1, 1, 0]
    assert list(split_target(frame, "y")[1]) == [0, 1, 1, 0]
    text = pd.DataFrame({"x": [1, 2], "y": ["bad", "good"]})
    assert list(split_target(text, "y", bad_value="bad")[1]) == [1, 0]
    with pytest.raises(InvalidInput, match="no row has 'y' = 'Bad'"):
        split_target(text, "y", bad_value="Bad")


def test_integer_coded_columns_can_be_named_categorical(tmp_path: Path) -> None:
    path = write(applicants(), tmp_path)
    numeric, _ = load_csv(path, "default")
    assert pd.api.types.is_numeric_dtype(numeric["grade"])
    X, y = load_csv(path, "default", categorical=["grade"])
    assert not pd.api.types.is_numeric_dtype(X["grade"])
    assert set(X["grade"]) == {"1", "2", "3", "4"}
    card = ScorecardModel().fit(X, y)
    assert card.card.binning_process_.get_binned_variable("grade").dtype == "categorical"
    with pytest.raises(InvalidInput, match="no column 'grades'"):
        load_csv(path, "default", categorical=["grades"])


def test_the_commands_take_categorical_columns(tmp_path: Path, sqlite_url: str) -> None:
    path = write(applicants(), tmp_path)
    csv = ["--csv", str(path), "--target", "default", "--categorical", "grade"]
    evaluated = runner.invoke(app, ["credit", "evaluate", *csv, "--folds", "2", "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    trained = runner.invoke(app, ["credit", "train", "--db", sqlite_url, *csv, "--json"])
    assert trained.exit_code == 0, trained.output


@pytest.fixture(scope="module")
def holed_card() -> tuple[ScorecardModel, pd.DataFrame]:
    frame = with_missing_income(applicants())
    X, y = split_target(frame, "default")
    return ScorecardModel().fit(X, y), X


def test_a_missing_value_is_reasoned_in_the_missing_bin(
    holed_card: tuple[ScorecardModel, pd.DataFrame],
) -> None:
    card, X = holed_card
    table = card.card.table(style="detailed")
    income = table[table["Variable"] == "income"]
    missing_points = float(income[income["Bin"].astype(str) == "Missing"]["Points"].iloc[0])
    lowest = X[X["income"].notna()].nsmallest(1, "income")
    applicant = X[X["income"].isna()].head(1)
    reason = {r.feature: r for r in card.reasons(applicant, top=3)}["income"]
    assert (reason.bin, reason.points) == ("missing", missing_points)
    low = {r.feature: r for r in card.reasons(lowest, top=3)}["income"]
    assert low.bin.startswith("(-inf")  # bin 0, not to be confused with a missing value
    assert not math.isclose(low.points, missing_points)


def test_the_compiled_scorecard_scores_missing_values_as_the_fitted_one(
    holed_card: tuple[ScorecardModel, pd.DataFrame],
) -> None:
    card, X = holed_card
    compiled = CompiledScorecard.compile(card)
    rows = X[X["income"].isna()].head(5)
    fitted = card.score(rows)
    for row, expected in zip(rows.to_dict("records"), fitted, strict=True):
        assert math.isclose(compiled.score_one(row), expected, abs_tol=1e-6)
        reason_bins = {r.feature: r.bin for r in compiled.reasons(row, top=3)}
        assert reason_bins.get("income", "missing") == "missing"


def test_categorical_bins_read_as_category_sets(
    holed_card: tuple[ScorecardModel, pd.DataFrame],
) -> None:
    card, X = holed_card
    south = X[X["region"] == "south"].head(1)
    region = {r.feature: r for r in card.reasons(south, top=3)}["region"]
    assert region.bin.startswith("category in {"), region.bin
    assert "south" in region.bin
    compiled = CompiledScorecard.compile(card)
    label, _ = next(f for f in compiled.features if f.name == "region").lookup("south")
    assert label == region.bin
