"""``embedfin bench aml``: the batch scan of a large synthetic month, with every detector.

1. Draw ``transactions`` transfers (``generator.write_parquet``: the typologies in Python,
   the ordinary traffic in DuckDB) into a Parquet file in a temporary folder.
2. Run ``embedfin aml evaluate`` on it in a child process — load, every detector, and the
   score against the ground truth — and read its peak resident memory from the operating
   system (``RUSAGE_CHILDREN``): the figure is the scan's own, not the generator's.

``batch_seconds`` is the child's load plus detectors; per-typology recall and precision come
with it.

3. The streaming monitor (``monitor.Monitoring.record``, what the ``aml-monitor`` consumer
   calls): ``stream_transactions`` movements between buyers and merchants, in the consumer's
   batches (``MonitorConsumer.batch_size``, 5,000), on a fresh migrated database (SQLite in a
   temporary folder, or ``db``), with the PRC pack's same-day totals and the large-value
   reports they make due: ``stream_per_s``. The same rows bulk-inserted into the journal table
   alone, in the same run, are the floor any durable monitor pays: ``stream_vs_insert`` is the
   ratio of the two.

   The stream runs as the consumer does, the streaming typologies included (``stream.py``);
   these movements, all buyer to merchant within hours, make no typology, so the figure is
   the stream's cost on ordinary traffic.

4. The streaming typologies on the seeded graph (``generator.generate``, ``stream_transactions``
   transfers between accounts over 30 days with the typologies injected): the same consumer's
   work per movement, ``stream_typologies_per_s``, what it raised (``stream_alerts``) and, per
   typology it covers, the share of instances with at least half their transactions in an
   alert of that typology (``stream_recall``) and the share of alerted transactions that are
   that typology's (``stream_precision``).

5. With ``spark`` (the default), ``embedfin aml scan --engine spark`` on the same file in a
   child process: ``spark_seconds`` (its load, the hand-over to Spark and every detector; the
   JVM's start is outside it), ``spark_alerts`` (to compare with ``alerts``, the same detectors
   on DuckDB) and ``spark_vs_duckdb`` (the detectors' seconds on Spark over those on DuckDB).
   Its memory is the JVM's and is not in ``peak_rss_mb``, which is read before it starts.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedfin.progress import Progress, no_progress


@dataclass(frozen=True, slots=True)
class AmlBench:
    transactions: int
    generate_seconds: float
    batch_seconds: float
    detector_seconds: dict[str, float]
    peak_rss_mb: float
    stream_per_s: float | None
    stream_vs_insert: float | None
    stream_transactions: int
    stream_typologies_per_s: float | None
    stream_alerts: dict[str, int] | None
    stream_recall: dict[str, float] | None
    stream_precision: dict[str, float] | None
    spark_seconds: float | None
    spark_alerts: int | None
    spark_vs_duckdb: float | None
    f1: float
    min_typology_recall: float
    min_typology_precision: float | None
    typologies: dict[str, Any]
    alerts: int


def stream_rate(
    transactions: int, seed: int, db: str | None = None, batch: int | None = None
) -> tuple[float, float]:
    """(movements/s through the streaming monitor, its ratio to a bare journal insert)."""
    import random

    from sqlalchemy import delete

    from embedfin.bench.scratch import bench_database
    from embedfin.compliance.aml.consumer import MonitorConsumer
    from embedfin.compliance.aml.journal import Movement
    from embedfin.core.clock import ManualClock
    from embedfin.db.statements import insert_many_ignoring_present
    from embedfin.db.tables import aml_transactions
    from embedfin.ledger.service import Ledger

    batch = batch or MonitorConsumer.batch_size
    rng = random.Random(seed)
    start_ns = 1_767_225_600 * 10**9
    moves = [
        Movement(f"tx-{i}", start_ns + i * 10**8, "order", f"buyer:b{rng.randrange(20_000)}",
                 f"merchant:m{rng.randrange(500)}", "person", "entity",
                 int(math.exp(rng.gauss(math.log(20_000), 1.0))) + 1, "CNY", f"o-{i}")
        for i in range(transactions)
    ]  # fmt: skip
    with bench_database(db, "amlstream") as engine:
        ledger = Ledger(engine, ManualClock(start_ns))
        monitoring = _streaming(ledger, "t")
        rows = [
            {"tenant": "floor", "tx_id": m.tx_id, "occurred_at": m.occurred_at,
             "kind": m.kind, "src": m.src, "dst": m.dst, "src_kind": m.src_kind,
             "dst_kind": m.dst_kind, "amount_minor": m.amount_minor,
             "currency": m.currency, "channel": m.channel, "cross_border": 0,
             "reference": m.reference}
            for m in moves
        ]  # fmt: skip
        began = time.perf_counter()
        for first in range(0, transactions, batch):
            with ledger.transaction() as tx:
                insert_many_ignoring_present(tx.conn, aml_transactions, rows[first : first + batch])
        floor = time.perf_counter() - began
        with ledger.transaction() as tx:
            tx.conn.execute(delete(aml_transactions))
        began = time.perf_counter()
        for first in range(0, transactions, batch):
            with ledger.transaction() as tx:
                monitoring.record(tx, moves[first : first + batch])
        streamed = time.perf_counter() - began
        ledger.close()
    return round(transactions / streamed, 1), round(floor / streamed, 3)


def _streaming(ledger: Any, tenant: str) -> Any:
    """The monitoring the ``aml-monitor`` consumer runs: journal, totals and typologies."""
    from embedfin.compliance.aml.monitor import Monitoring
    from embedfin.compliance.aml.reports import Reports
    from embedfin.compliance.aml.stream import StreamTypologies
    from embedfin.risk.cases import Cases

    return Monitoring(ledger, tenant, Cases(ledger, tenant, None), Reports(ledger, tenant),
                      typologies=StreamTypologies())  # fmt: skip


@dataclass(frozen=True, slots=True)
class StreamTypologyFigures:
    per_s: float
    alerts: dict[str, int]
    recall: dict[str, float]
    precision: dict[str, float]


STREAMED = ("fan_in", "fan_out", "cycle", "pass_through", "structuring", "smurfing")


def stream_typologies(
    transactions: int, seed: int, db: str | None = None, batch: int | None = None
) -> StreamTypologyFigures:
    """The seeded graph through the consumer's monitoring, in its batches: the rate, the
    alerts, per-typology recall and precision (see the module text)."""
    from embedfin.bench.scratch import bench_database
    from embedfin.compliance.aml import generator
    from embedfin.compliance.aml.consumer import MonitorConsumer
    from embedfin.compliance.aml.journal import Movement
    from embedfin.core.clock import ManualClock
    from embedfin.ledger.service import Ledger

    batch = batch or MonitorConsumer.batch_size
    data = generator.generate(max(transactions, 1_000), seed)
    moves = [
        Movement(tx_id, t * 10**9, "transfer", src, dst, "person", "person", cents, "USD", tx_id)
        for tx_id, src, dst, cents, t in data.rows
    ]
    with bench_database(db, "amlgraph") as engine:
        ledger = Ledger(engine, ManualClock(moves[-1].occurred_at))
        monitoring = _streaming(ledger, "t")
        began = time.perf_counter()
        for first in range(0, len(moves), batch):
            with ledger.transaction() as tx:
                monitoring.record(tx, moves[first : first + batch])
        seconds = time.perf_counter() - began
        found = monitoring.alerts(limit=1000)
        ledger.close()
    alerted: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for alert in found:
        alerted.setdefault(alert.typology, set()).update(alert.transactions)
        counts[alert.typology] = counts.get(alert.typology, 0) + 1
    instances: dict[tuple[str, int], set[str]] = {}
    for tx_id, tag in data.truth.items():
        instances.setdefault(tag, set()).add(tx_id)
    recall, precision = {}, {}
    for typology in STREAMED:
        mine = [rows for (name, _), rows in instances.items() if name == typology]
        hit = alerted.get(typology, set())
        caught = sum(1 for rows in mine if len(rows & hit) * 2 >= len(rows))
        recall[typology] = round(caught / max(len(mine), 1), 3)
        right = sum(1 for tx_id in hit if data.truth.get(tx_id, ("",))[0] == typology)
        precision[typology] = round(right / len(hit), 3) if hit else 0.0
    return StreamTypologyFigures(round(len(moves) / seconds, 1), counts, recall, precision)


def run(
    transactions: int,
    seed: int,
    progress: Progress = no_progress,
    stream_transactions: int = 200_000,
    db: str | None = None,
    spark: bool = True,
) -> AmlBench:
    from embedfin.compliance.aml import generator

    with (
        tempfile.TemporaryDirectory(prefix="embedfin-aml-") as folder,
        progress("bench aml", 4) as advance,
    ):
        data_file = Path(folder) / "transfers.parquet"
        truth_file = Path(folder) / "truth.csv"
        started = time.perf_counter()
        data = generator.write_parquet(transactions, seed, data_file)
        generator.write_truth(data, truth_file)
        generated = time.perf_counter() - started
        del data
        advance(1)
        command = [sys.executable, "-m", "embedfin.cli", "aml", "evaluate", str(data_file),
                   str(truth_file), "--json", "--no-progress"]  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, env=dict(os.environ)
        )
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # before the JVM's
        advance(1)
        per_s, vs_insert = (
            stream_rate(stream_transactions, seed, db) if stream_transactions else (None, None)
        )
        graph = stream_typologies(stream_transactions, seed, db) if stream_transactions else None
        advance(1)
        spark_figures = _spark_scan(data_file) if spark and done.returncode == 0 else None
        advance(1)
    if done.returncode != 0:
        raise RuntimeError(f"the scan failed: {done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = figures["seconds"]
    spark_seconds = spark_ratio = None
    if spark_figures is not None:
        on_spark = spark_figures["seconds"]
        spark_seconds = round(sum(on_spark.values()), 2)
        spark_ratio = round(_detectors(on_spark) / max(_detectors(seconds), 1e-9), 2)
    typologies = figures["typologies"]
    precisions = [t["tx_precision"] for t in typologies.values() if t["tx_precision"] is not None]
    return AmlBench(
        transactions=int(figures["rows"]),
        generate_seconds=round(generated, 2),
        batch_seconds=round(sum(seconds.values()), 2),
        detector_seconds=seconds,
        peak_rss_mb=round(peak_kb / 1024, 1),
        stream_per_s=per_s,
        stream_vs_insert=vs_insert,
        stream_transactions=stream_transactions,
        stream_typologies_per_s=None if graph is None else graph.per_s,
        stream_alerts=None if graph is None else graph.alerts,
        stream_recall=None if graph is None else graph.recall,
        stream_precision=None if graph is None else graph.precision,
        spark_seconds=spark_seconds,
        spark_alerts=None if spark_figures is None else int(spark_figures["alerts"]),
        spark_vs_duckdb=spark_ratio,
        f1=figures["f1"],
        min_typology_recall=min(t["tx_recall"] for t in typologies.values()),
        min_typology_precision=min(precisions) if precisions else None,
        typologies=typologies,
        alerts=int(figures["alerts"]),
    )


def _detectors(seconds: dict[str, float]) -> float:
    """The detectors' seconds of a scan (not its load, nor the hand-over to Spark)."""
    return sum(v for k, v in seconds.items() if k not in ("load", "spark_load", "score"))


def _spark_scan(data_file: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "embedfin.cli", "aml", "scan", str(data_file),
               "--engine", "spark", "--json", "--no-progress",
               "--out", str(data_file.with_suffix(".spark.jsonl"))]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the Spark scan failed: {done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures
