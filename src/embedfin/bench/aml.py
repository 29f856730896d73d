"""``embedfin bench aml``: the batch scan of a large synthetic month, with every detector.

1. Draw ``transactions`` transfers (``generator.write_parquet``: the typologies in Python,
   the ordinary traffic in DuckDB) into a Parquet file in a temporary folder.
2. Run ``embedfin aml evaluate`` on it in a child process — load, every detector, and the
   score against the ground truth — and read its peak resident memory from the operating
   system (``RUSAGE_CHILDREN``): the figure is the scan's own, not the generator's.

``batch_seconds`` is the child's load plus detectors; per-typology recall and precision come
with it. The streaming monitor and the Spark engine are not built yet: their figures are
``null``.
"""

from __future__ import annotations

import json
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
    spark_seconds: float | None
    f1: float
    min_typology_recall: float
    min_typology_precision: float | None
    typologies: dict[str, Any]
    alerts: int


def run(transactions: int, seed: int, progress: Progress = no_progress) -> AmlBench:
    from embedfin.compliance.aml import generator

    with (
        tempfile.TemporaryDirectory(prefix="embedfin-aml-") as folder,
        progress("bench aml", 2) as advance,
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
        advance(1)
    if done.returncode != 0:
        raise RuntimeError(f"the scan failed: {done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    seconds = figures["seconds"]
    typologies = figures["typologies"]
    precisions = [t["tx_precision"] for t in typologies.values() if t["tx_precision"] is not None]
    return AmlBench(
        transactions=int(figures["rows"]),
        generate_seconds=round(generated, 2),
        batch_seconds=round(sum(seconds.values()), 2),
        detector_seconds=seconds,
        peak_rss_mb=round(peak_kb / 1024, 1),
        stream_per_s=None,
        spark_seconds=None,
        f1=figures["f1"],
        min_typology_recall=min(t["tx_recall"] for t in typologies.values()),
        min_typology_precision=min(precisions) if precisions else None,
        typologies=typologies,
        alerts=int(figures["alerts"]),
    )
