"""A scan: load a file, run every detector, hand back the alerts (``embedfin aml scan``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from embedfin.compliance.aml import detectors, evaluation, flows, groups, thresholds, transactions
from embedfin.compliance.aml.alerts import Alert, to_json
from embedfin.compliance.aml.detectors import AmlParams, Context
from embedfin.compliance.aml.engines import ENGINES, DuckDBEngine, Engine, SparkEngine
from embedfin.compliance.aml.rulepacks import RulePack
from embedfin.core.errors import InvalidInput
from embedfin.progress import Progress, no_progress


@dataclass(slots=True)
class ScanResult:
    """The alerts of a scan, what it read, and how long each step took (seconds)."""

    loaded: transactions.Loaded
    alerts: list[Alert]
    seconds: dict[str, float] = field(default_factory=dict)
    tx_ids: dict[int, str] | None = None

    def lines(self) -> Iterator[dict[str, Any]]:
        """Each alert as an output line (``alerts.to_json``)."""
        for alert in self.alerts:
            yield to_json(alert, self.loaded.time_unit, self.tx_ids)


def _steps(ctx: Context) -> list[tuple[str, Callable[[], list[Alert]]]]:
    paths: list[Any] = []
    cycle_rows: set[int] = set()

    def hops() -> list[Alert]:
        detectors.prepare(ctx)
        return []

    def walk() -> list[Alert]:
        paths.extend(flows.paths(ctx, _longest(ctx)))
        found = flows.cycles(ctx, paths)
        cycle_rows.update(r for alert in found for r in alert.rows)
        return found

    return [
        ("hops", hops),
        ("fan_in", lambda: detectors.fan(ctx, "fan_in")),
        ("fan_out", lambda: detectors.fan(ctx, "fan_out")),
        ("cycles", walk),
        ("pass_through", lambda: flows.chains(ctx, paths, cycle_rows)),
        ("scatter_gather", lambda: flows.scatter_gather(ctx)),
        ("gather_scatter", lambda: detectors.gather_scatter(ctx)),
        ("bipartite_and_stack", lambda: groups.groups(ctx)),
        ("structuring", lambda: detectors.structuring(ctx)),
        ("smurfing", lambda: detectors.smurfing(ctx)),
    ]


def _pack_step(
    db: duckdb.DuckDBPyConnection,
    pack: RulePack,
    unit: str,
    rates: Mapping[str, Decimal] | None,
) -> Callable[[], list[Alert]]:
    return lambda: thresholds.scan(db, pack, unit, rates)


def _longest(ctx: Context) -> int:
    return max(ctx.params.cycle_max_transactions, ctx.params.chain_max_transactions)


def scan(
    path: Path,
    params: AmlParams | None = None,
    *,
    progress: Progress = no_progress,
    conn: duckdb.DuckDBPyConnection | None = None,
    packs: Sequence[RulePack] = (),
    rates: Mapping[str, Decimal] | None = None,
    engine: str = "duckdb",
) -> ScanResult:
    """Every typology in the file at ``path`` (CSV or Parquet, ``transactions.py``), and the
    hits of each threshold rule pack in ``packs`` (``thresholds.py``; ``rates`` convert).
    ``engine`` runs the detectors: ``duckdb`` or ``spark`` (``engines.py``)."""
    if engine not in ENGINES:
        raise InvalidInput(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    own = conn is None
    db = transactions.connect() if conn is None else conn
    spark: SparkEngine | None = None
    try:
        started = time.perf_counter()
        loaded = transactions.load(db, path)
        seconds = {"load": time.perf_counter() - started}
        runner: Engine = DuckDBEngine(db)
        if engine == "spark":
            began = time.perf_counter()
            runner = spark = SparkEngine.from_duckdb(db)
            seconds["spark_load"] = time.perf_counter() - began
        span = 0 if loaded.first_t is None else int(loaded.last_t or 0) - int(loaded.first_t)
        ctx = Context(runner, params or AmlParams(), span, coarse=loaded.time_unit == "step")
        alerts: list[Alert] = []
        steps = _steps(ctx)
        for pack in packs:
            steps.append((f"pack {pack.id}", _pack_step(db, pack, loaded.time_unit, rates)))
        with progress("aml detectors", len(steps)) as advance:
            for name, run in steps:
                began = time.perf_counter()
                alerts.extend(run())
                seconds[name] = time.perf_counter() - began
                advance(1)
        tx_ids = None
        if loaded.has_tx_id:
            rows = sorted({r for alert in alerts for r in alert.rows})
            tx_ids = dict(
                db.execute(
                    "SELECT row_no, tx_id FROM tx WHERE list_contains(?, row_no)", [rows]
                ).fetchall()
            )
        alerts.sort(key=lambda a: (a.start_t, a.typology, a.accounts))
        return ScanResult(loaded, alerts, seconds, tx_ids)
    finally:
        if spark is not None:
            spark.close()
        if own:
            db.close()


def evaluate_file(
    path: Path, truth_path: Path, params: AmlParams | None = None, progress: Progress = no_progress
) -> tuple[evaluation.Evaluation, ScanResult]:
    """Scan ``path`` and score it against a truth file (``tx_id, typology, instance``)."""
    conn = transactions.connect()
    try:
        result = scan(path, params, progress=progress, conn=conn)
        if not result.loaded.has_tx_id:
            raise transactions.BadTransactions(f"{path.name}: scoring needs a tx_id column")
        quoted = str(truth_path).replace("'", "''")
        try:
            found = conn.execute(
                f"""SELECT tx.row_no, t.typology, CAST(t.instance AS BIGINT), tx.src, tx.dst
                FROM read_csv('{quoted}', header = true, all_varchar = true) t
                JOIN tx ON tx.tx_id = t.tx_id"""
            ).fetchall()
        except duckdb.Error as error:
            raise transactions.BadTransactions(f"{truth_path.name}: {error}") from None
        truth = {int(row): (typology, int(instance)) for row, typology, instance, _, _ in found}
        rows = sorted({r for alert in result.alerts for r in alert.rows})
        accounts = {int(row): (src, dst) for row, _, _, src, dst in found}
        for row, src, dst in conn.execute(
            "SELECT row_no, src, dst FROM tx WHERE list_contains(?, row_no)", [rows]
        ).fetchall():
            accounts[int(row)] = (src, dst)
        return evaluation.evaluate(result.alerts, truth, accounts), result
    finally:
        conn.close()
