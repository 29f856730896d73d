"""``embedfin bench log``: the verifiable log's appends, proofs and verification.

1. ``entries`` entries (JSON certificate events of about 120 bytes) appended in batches of
   ``batch`` through ``TransparencyLog.append`` — each batch one committed unit of work that
   writes the entries and every complete node they finish — on a fresh migrated database (SQLite
   in a temporary folder, or a scratch database on ``db``): ``log_appends_per_s``. The same rows
   inserted into the entries table alone, in the same run, are the floor a durable log pays:
   ``append_vs_insert`` is the ratio.
2. ``proofs`` inclusion proofs of random entries and as many consistency proofs from random
   earlier sizes, served from the stored nodes (``TransparencyLog.inclusion`` /
   ``consistency``: one query each): ``proof_ms_p99`` (inclusion) and
   ``consistency_ms_p99``; each verified as a member would (``merkle.verify_*``):
   ``verify_ms_p99``.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from dataclasses import dataclass

from embedfin.progress import Progress, no_progress


@dataclass(frozen=True, slots=True)
class LogBench:
    entries: int
    batch: int
    log_appends_per_s: float
    append_vs_insert: float
    proofs: int
    proof_ms_p50: float
    proof_ms_p99: float
    consistency_ms_p99: float
    verify_ms_p99: float
    store: str


def _p(values: list[float], q: float) -> float:
    return round(
        statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0], 3
    )


def run(
    entries: int = 1_000_000,
    batch: int = 10_000,
    proofs: int = 2_000,
    seed: int = 7,
    db: str | None = None,
    progress: Progress = no_progress,
) -> LogBench:
    from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

    from embedfin.bench.scratch import bench_database
    from embedfin.core.clock import ManualClock
    from embedfin.ledger.service import Ledger
    from embedfin.transparency import merkle
    from embedfin.transparency.service import LogSigner, TransparencyLog

    rng = random.Random(seed)
    start_ns = 1_767_225_600 * 10**9
    with bench_database(db, "logbench") as engine:
        ledger = Ledger(engine, ManualClock(start_ns))
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        log = TransparencyLog(ledger, "bench", LogSigner(Ed25519PrivateKey.generate()))
        floor_table = Table(
            "bench_log_floor", MetaData(), Column("idx", Integer, primary_key=True),
            Column("body", Text, nullable=False),
        )  # fmt: skip
        floor_table.create(engine)

        def body(i: int) -> str:
            return json.dumps({"event": "certificate_split", "certificate": f"rc_{i:012d}",
                               "parts": [rng.randrange(10**8), rng.randrange(10**8)],
                               "at": start_ns + i})  # fmt: skip

        appended = floor = 0.0
        with progress("bench log: appends", entries) as advance:
            for first in range(0, entries, batch):
                texts = [body(i) for i in range(first, min(first + batch, entries))]
                began = time.perf_counter()
                log.append("scf", texts)
                appended += time.perf_counter() - began
                began = time.perf_counter()
                rows = [{"idx": first + i, "body": t} for i, t in enumerate(texts)]
                with engine.begin() as conn:
                    conn.execute(insert(floor_table), rows)
                floor += time.perf_counter() - began
                advance(len(texts))
        size, root = log.root("scf")
        for index in range(0, size, max(size // 20, 1)):  # warm the statements and the pages
            log.inclusion("scf", index, size)
            log.consistency("scf", max(index, 1), size)
        inclusion, consistency, verify = [], [], []
        with progress("bench log: proofs", proofs) as advance:
            for _ in range(proofs):
                index = rng.randrange(size)
                began = time.perf_counter()
                _, path = log.inclusion("scf", index, size)
                inclusion.append((time.perf_counter() - began) * 1000)
                leaf = merkle.leaf_hash(log.entry("scf", index).body.encode())
                began = time.perf_counter()
                merkle.verify_inclusion(index, size, leaf, path, root)
                verify.append((time.perf_counter() - began) * 1000)
                old = rng.randrange(1, size + 1)
                began = time.perf_counter()
                _, cpath = log.consistency("scf", old, size)
                consistency.append((time.perf_counter() - began) * 1000)
                old_root = log.root("scf", old)[1]
                began = time.perf_counter()
                merkle.verify_consistency(old, size, old_root, root, cpath)
                verify.append((time.perf_counter() - began) * 1000)
                advance(1)
        ledger.close()
        store = engine.dialect.name
    return LogBench(
        entries=entries,
        batch=batch,
        log_appends_per_s=round(entries / appended, 1),
        append_vs_insert=round(floor / appended, 3),
        proofs=proofs,
        proof_ms_p50=_p(inclusion, 50),
        proof_ms_p99=_p(inclusion, 99),
        consistency_ms_p99=_p(consistency, 99),
        verify_ms_p99=_p(verify, 99),
        store=store,
    )
