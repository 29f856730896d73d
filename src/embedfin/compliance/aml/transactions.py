"""A file of transfers, loaded and checked: the one table every detector reads.

A CSV or Parquet file with columns ``src``, ``dst``, ``amount`` and either ``timestamp``
(RFC 3339) or ``step`` (whole days from the start), optionally ``tx_id`` and ``currency``
(other columns are ignored). It becomes the DuckDB table ``tx``:

=========  =====================================================================================
row_no     the 1-based data row of the file (header excluded)
tx_id      the file's id, or the row number as text when the file has none
src, dst   the accounts, as text
amount     DECIMAL(38, 6): money is never a float here
currency   the file's code, or ``''`` without the column
t          seconds: the timestamp as Unix time, or ``step × 86,400``
channel    ``cash`` or ``transfer``, or ``''`` without the column (threshold rule packs read it)
src_kind   ``person``, ``entity`` or ``external`` (an account outside the institution, never
           reported by a threshold pack): who holds ``src`` (``''`` without the column)
dst_kind   the same for ``dst``
cross_border  ``true``/``false``, or ``NULL`` without the column
=========  =====================================================================================

Bad input is refused whole with the first offending row and why (:class:`BadTransactions`):
a missing column, an empty account, an amount that is not a plain number (``"EUR 10"`` — mixed
currencies need a ``currency`` column), a negative amount, a timestamp or step that does not
parse, a duplicate ``tx_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from embedfin.core.errors import InvalidInput

REQUIRED = ("src", "dst", "amount")
SECONDS_PER_STEP = 86_400
#: Largest amount accepted (DECIMAL(38, 6) holds 32 integer digits; sums stay inside).
MAX_AMOUNT = 10**24


class BadTransactions(InvalidInput):
    code = "bad_transactions"


@dataclass(frozen=True, slots=True)
class Loaded:
    """What was loaded: how many rows, the time unit, the span, the currencies."""

    rows: int
    time_unit: str  # "timestamp" or "step"
    has_tx_id: bool
    first_t: int | None
    last_t: int | None
    currencies: tuple[str, ...]


def connect(memory_limit: str = "1500MB", threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills to a temporary directory past ``memory_limit``."""
    conn = duckdb.connect(":memory:")
    conn.execute(f"SET memory_limit = '{memory_limit}'")
    conn.execute("SET preserve_insertion_order = true")
    if threads is not None:
        conn.execute(f"SET threads = {int(threads)}")
    return conn


def _reader(path: Path) -> str:
    name = path.name.lower()
    quoted = str(path).replace("'", "''")
    if name.endswith(".parquet"):
        return f"read_parquet('{quoted}', file_row_number = true)"
    if name.endswith((".csv", ".csv.gz", ".tsv")):
        return f"read_csv('{quoted}', header = true, all_varchar = true)"
    raise BadTransactions(f"{path.name}: a transactions file is .csv, .csv.gz, .tsv or .parquet")


def load(conn: duckdb.DuckDBPyConnection, path: Path) -> Loaded:
    """Load ``path`` into table ``tx`` (replacing it), or refuse it with the first bad row."""
    if not path.is_file():
        raise BadTransactions(f"no such file: {path}")
    try:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM {_reader(path)}")
    except duckdb.Error as error:
        raise BadTransactions(f"{path.name}: not readable ({str(error).splitlines()[0]})") from None
    columns = [row[0] for row in conn.execute("DESCRIBE raw").fetchall()]
    lower = {c.lower(): c for c in columns}
    missing = [c for c in REQUIRED if c not in lower]
    if "timestamp" not in lower and "step" not in lower:
        missing.append("timestamp or step")
    if missing:
        raise BadTransactions(f"{path.name}: missing column(s) {', '.join(missing)}")
    unit = "timestamp" if "timestamp" in lower else "step"
    has_id = "tx_id" in lower

    def col(name: str) -> str:
        return f'CAST("{lower[name]}" AS VARCHAR)'

    row_no = "file_row_number + 1" if path.name.lower().endswith(".parquet") else "rowid + 1"
    if unit == "timestamp":
        t = f"epoch(TRY_CAST({col('timestamp')} AS TIMESTAMPTZ))::BIGINT"
    else:
        t = f"TRY_CAST({col('step')} AS BIGINT) * {SECONDS_PER_STEP}"
    conn.execute(
        f"""CREATE OR REPLACE TEMP TABLE parsed AS SELECT
            {row_no} AS row_no,
            {col("tx_id") if has_id else "NULL"} AS tx_id_text,
            trim({col("src")}) AS src, trim({col("dst")}) AS dst,
            {col("amount")} AS amount_text,
            TRY_CAST(trim({col("amount")}) AS DECIMAL(38, 6)) AS amount,
            {col("currency") if "currency" in lower else "''"} AS currency,
            {col(unit)} AS t_text, {t} AS t,
            {_optional(lower, "channel")} AS channel,
            {_optional(lower, "src_kind")} AS src_kind,
            {_optional(lower, "dst_kind")} AS dst_kind,
            {_optional(lower, "cross_border")} AS cross_border
        FROM raw"""
    )
    _refuse_first(conn, path)
    conn.execute(
        """CREATE OR REPLACE TABLE tx AS SELECT row_no, coalesce(tx_id_text, CAST(row_no AS
        VARCHAR)) AS tx_id, src, dst, amount, upper(trim(currency)) AS currency, t, channel,
        src_kind, dst_kind, CASE cross_border WHEN '' THEN NULL
        ELSE cross_border IN ('true', '1', 'yes') END AS cross_border
        FROM parsed ORDER BY row_no"""
    )
    conn.execute("DROP TABLE raw")
    conn.execute("DROP TABLE parsed")
    rows, first, last = conn.execute("SELECT count(*), min(t), max(t) FROM tx").fetchone() or (
        0,
        None,
        None,
    )
    currencies = tuple(
        r[0] for r in conn.execute("SELECT DISTINCT currency FROM tx ORDER BY 1").fetchall()
    )
    return Loaded(int(rows), unit, has_id, first, last, currencies)


def _optional(lower: dict[str, str], name: str) -> str:
    """An optional column, trimmed and lower-cased, or ``''`` when the file has none."""
    if name not in lower:
        return "''"
    return f"lower(trim(coalesce(CAST(\"{lower[name]}\" AS VARCHAR), '')))"


_CHECKS = (
    ("src IS NULL OR src = ''", "src is empty"),
    ("dst IS NULL OR dst = ''", "dst is empty"),
    ("amount_text IS NULL OR trim(amount_text) = ''", "amount is empty"),
    (
        "amount IS NULL",
        "amount {amount_text!r} is not a plain number (mixed currencies need a currency column)",
    ),
    ("amount < 0", "amount {amount_text} is negative"),
    (f"amount >= {MAX_AMOUNT}", "amount {amount_text} is too large"),
    ("t_text IS NULL OR trim(t_text) = ''", "the time is empty"),
    ("t IS NULL", "time {t_text!r} does not parse (RFC 3339 timestamp or whole-day step)"),
    ("length(src) > 200 OR length(dst) > 200", "an account id is longer than 200 characters"),
    ("channel NOT IN ('', 'cash', 'transfer')", "channel {channel!r} is not cash or transfer"),
    (
        "src_kind NOT IN ('', 'person', 'entity', 'external')",
        "src_kind {src_kind!r} is not person, entity or external",
    ),
    (
        "dst_kind NOT IN ('', 'person', 'entity', 'external')",
        "dst_kind {dst_kind!r} is not person, entity or external",
    ),
    (
        "cross_border NOT IN ('', 'true', 'false', '1', '0', 'yes', 'no')",
        "cross_border {cross_border!r} is not true or false",
    ),
)


_SHOWN = ("amount_text", "t_text", "channel", "src_kind", "dst_kind", "cross_border")


def _refuse_first(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The first row (by row number) failing any check, refused with its reason."""
    failing = " OR ".join(f"({condition})" for condition, _ in _CHECKS)
    found = conn.execute(
        f"SELECT row_no, src, dst, amount_text, amount, t_text, t FROM parsed WHERE {failing}"
        " ORDER BY row_no LIMIT 1"
    ).fetchone()
    if found is not None:
        row_no = int(found[0])
        row = (
            conn.execute("SELECT * FROM parsed WHERE row_no = ?", [row_no])
            .fetchdf()
            .to_dict("records")[0]
        )
        for condition, reason in _CHECKS:
            hit = conn.execute(
                f"SELECT count(*) FROM parsed WHERE row_no = ? AND ({condition})", [row_no]
            ).fetchone()
            if hit and hit[0]:
                message = reason.format(**{k: row[k] for k in _SHOWN})
                raise BadTransactions(f"{path.name} row {row_no}: {message}")
    duplicate = conn.execute(
        "SELECT tx_id_text, min(row_no) FILTER (WHERE true), max(row_no) FROM parsed"
        " WHERE tx_id_text IS NOT NULL GROUP BY 1 HAVING count(*) > 1 ORDER BY 3 LIMIT 1"
    ).fetchone()
    if duplicate is not None:
        raise BadTransactions(
            f"{path.name} row {duplicate[2]}: tx_id {duplicate[0]!r} repeats row {duplicate[1]}"
        )
    currencies = conn.execute(
        "SELECT row_no, currency FROM parsed WHERE currency <> '' AND NOT"
        " regexp_full_match(upper(trim(currency)), '[A-Z]{3}') ORDER BY row_no LIMIT 1"
    ).fetchone()
    if currencies is not None:
        raise BadTransactions(
            f"{path.name} row {currencies[0]}: currency {currencies[1]!r} is not a 3-letter code"
        )
