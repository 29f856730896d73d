"""Reading a table of features with an outcome (``credit evaluate --csv``, ``credit train --csv``).

Real files are untidy, so the rules are explicit:

* **Target.** Without ``--bad-value`` the target must be 0/1 (1 = bad), read as numbers: ``1``,
  ``1.0`` and ``True`` are all bad. With ``--bad-value V`` a row is bad when its target equals
  ``V`` — numerically when both parse as numbers (``1.0`` equals ``1``), else as trimmed text;
  every other row is good. A value that no row has is refused (a typo would make every row
  good).
* **Blank targets are refused**, with their count and first rows: a blank outcome is unknown,
  not good, and dropping rows silently would change the data behind the figures. Drop or fill
  them in the file and say so.
* **Categories.** Text columns are categorical. A column of integer codes (a grade, a region
  number) is numeric to pandas; ``--categorical COL`` makes it categorical. Categories are
  compared as text by ``category_key`` here and at decision time, so ``2``, ``2.0`` and ``"2"``
  are one category.
* Missing feature values stay missing: the scorecard gives them their own bin, the baseline
  imputes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from embedfin.core.errors import InvalidInput
from embedfin.credit.models import category_key

#: How many blank rows an error names (the count is always complete).
ROWS_NAMED = 5


def load_csv(
    path: Path,
    target: str,
    bad_value: str | None = None,
    categorical: Sequence[str] = (),
) -> tuple[pd.DataFrame, np.ndarray]:
    """The features and the 0/1 target of a CSV file, by the rules above."""
    if not path.exists():
        raise InvalidInput(f"no file {path}")
    X, y = split_target(pd.read_csv(path), target, bad_value)
    return as_categories(X, categorical), y


def split_target(
    frame: pd.DataFrame, target: str, bad_value: str | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """The features and the target (1 = bad); refuses blank or unreadable targets."""
    if target not in frame.columns:
        raise InvalidInput(f"no column {target!r}; columns are {list(frame.columns)}")
    raw = frame[target]
    _refuse_blanks(raw, target)
    if bad_value is not None:
        bad = _equals(raw, bad_value)
        if not bad.any():
            seen = sorted({str(v) for v in raw.unique()})[:10]
            raise InvalidInput(f"no row has {target!r} = {bad_value!r}; its values are {seen}")
        y = bad.astype(int).to_numpy()
    else:
        numbers = pd.to_numeric(raw, errors="coerce")
        if numbers.isna().any() or not set(numbers.unique()) <= {0, 1}:
            raise InvalidInput(f"{target!r} must be 0/1 (1 = bad), or name the bad value")
        y = numbers.astype(int).to_numpy()
    return frame.drop(columns=[target]), y


def as_categories(X: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``X`` with the named columns as text categories (missing values stay missing)."""
    unknown = [c for c in columns if c not in X.columns]
    if unknown:
        raise InvalidInput(f"no column {unknown[0]!r} to make categorical; columns are {list(X)}")
    if not columns:
        return X
    out = X.copy()
    for column in columns:
        out[column] = pd.Series(
            [None if pd.isna(v) else category_key(v) for v in X[column]],
            index=X.index,
            dtype=object,
        )
    return out


def _refuse_blanks(raw: pd.Series, target: str) -> None:
    blank = raw.isna() | raw.astype(str).str.strip().eq("")
    count = int(blank.sum())
    if count:
        rows = ", ".join(str(int(i) + 1) for i in np.flatnonzero(blank.to_numpy())[:ROWS_NAMED])
        more = ", …" if count > ROWS_NAMED else ""
        raise InvalidInput(
            f"{count} rows have a blank {target!r} (data rows {rows}{more}): an unknown outcome "
            "is neither good nor bad; drop or fill those rows"
        )


def _equals(raw: pd.Series, bad_value: str) -> pd.Series:
    """Rows equal to ``bad_value``: as numbers where both parse as numbers, else as text."""
    same_text = raw.astype(str).str.strip() == bad_value.strip()
    try:
        wanted = float(bad_value)
    except ValueError:
        return same_text
    return same_text | (pd.to_numeric(raw, errors="coerce") == wanted)
