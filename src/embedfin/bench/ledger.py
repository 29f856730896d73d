"""``embedfin bench ledger``: ledger throughput against a raw-driver baseline, same run.

The baseline writes the same transfer rows and the same balance deltas into an identical fresh
database with plain driver calls and no validation (executemany on SQLite, one array INSERT and
one array UPDATE per batch on PostgreSQL). Only the time inside the write calls is measured on
both sides; generating the workload is not.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url

from embedfin.bench.memory import peak_rss_mb
from embedfin.bench.stored_procedure import measure
from embedfin.bench.workload import Chart, batches, make_chart
from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade
from embedfin.db.scratch import scratch_database
from embedfin.ledger.codec import encoder, transfer_rows
from embedfin.ledger.service import Ledger
from embedfin.ledger.store import store_for
from embedfin.ledger.types import CreateTransferResult, Transfer
from embedfin.progress import Progress, no_progress


@dataclass(frozen=True, slots=True)
class LedgerBenchResult:
    database: str
    transfers: int
    batch_size: int
    seconds: float
    transfers_per_s: float
    raw_seconds: float
    raw_per_s: float
    ratio: float
    p50_batch_ms: float
    p99_batch_ms: float
    ok: int
    failed: int
    peak_rss_mb: float
    sp_clients: int = 0
    sp_per_s: float = 0.0
    vs_sp: float = 0.0


def run(
    url: str | None,
    transfers: int,
    batch_size: int = 8189,
    progress: Progress = no_progress,
    sp_clients: int = 0,
    sp_transfers: int = 20_000,
) -> LedgerBenchResult:
    """Post the workload through the ledger and through the raw baseline, each on a fresh
    database; on PostgreSQL with ``sp_clients``, also through the stored procedure."""
    chart = make_chart()
    sp_per_s = 0.0
    with scratch_database(url, "bench") as ours_url, scratch_database(url, "benchraw") as raw_url:
        ledger = Ledger.open(ours_url)
        _create_accounts(ledger, chart)
        raw_engine = make_engine(raw_url)
        upgrade(raw_engine)
        _create_accounts(Ledger(raw_engine), chart, limits=False)
        database = ledger.dialect
        latencies, ok = _measure_ledger(ledger, chart, transfers, batch_size, progress)
        ledger.close()
        raw_seconds = 0.0
        with progress("raw baseline", transfers) as advance:
            for seconds, count in _raw(raw_engine, chart, transfers, batch_size):
                raw_seconds += seconds
                advance(count)
        raw_engine.dispose()
        if sp_clients and database == "postgresql":
            sp_per_s = _measure_stored_procedure(url, chart, batch_size, sp_transfers, sp_clients)
    return _result(
        database, transfers, batch_size, latencies, ok, raw_seconds, sp_clients, sp_per_s
    )


def _measure_ledger(
    ledger: Ledger, chart: Chart, transfers: int, batch_size: int, progress: Progress
) -> tuple[list[float], int]:
    """Each batch's seconds inside ``create_transfers``, and how many transfers succeeded."""
    latencies: list[float] = []
    ok = 0
    with progress("ledger", transfers) as advance:
        for batch in batches(chart, transfers, batch_size):
            started = time.perf_counter()
            outcome = ledger.create_transfers(batch)
            latencies.append(time.perf_counter() - started)
            ok += sum(1 for r in outcome if r is CreateTransferResult.OK)
            advance(len(batch))
    return latencies, ok


def _measure_stored_procedure(
    url: str | None, chart: Chart, batch_size: int, sp_transfers: int, sp_clients: int
) -> float:
    """Transfers per second through a one-transfer-per-call stored procedure (PostgreSQL)."""
    with scratch_database(url, "benchsp") as sp_url:
        sp_engine = make_engine(sp_url)
        upgrade(sp_engine)
        _create_accounts(Ledger(sp_engine), chart)
        sp_engine.dispose()
        workload = [t for b in batches(chart, sp_transfers, batch_size) for t in b]
        dsn = make_url(sp_url).set(drivername="postgresql")
        sp_per_s, _ = measure(dsn.render_as_string(hide_password=False), workload, sp_clients)
    return sp_per_s


def _result(
    database: str,
    transfers: int,
    batch_size: int,
    latencies: list[float],
    ok: int,
    raw_seconds: float,
    sp_clients: int,
    sp_per_s: float,
) -> LedgerBenchResult:
    seconds = sum(latencies)
    latencies = sorted(latencies)
    per_s = transfers / seconds
    raw_per_s = transfers / raw_seconds
    return LedgerBenchResult(
        database=database,
        transfers=transfers,
        batch_size=batch_size,
        seconds=round(seconds, 3),
        transfers_per_s=round(per_s),
        raw_seconds=round(raw_seconds, 3),
        raw_per_s=round(raw_per_s),
        ratio=round(per_s / raw_per_s, 3),
        p50_batch_ms=round(latencies[len(latencies) // 2] * 1000, 2),
        p99_batch_ms=round(
            latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2
        ),
        ok=ok,
        failed=transfers - ok,
        peak_rss_mb=round(peak_rss_mb(), 1),
        sp_clients=sp_clients if sp_per_s else 0,
        sp_per_s=round(sp_per_s),
        vs_sp=round(per_s / sp_per_s, 1) if sp_per_s else 0.0,
    )


def _create_accounts(ledger: Ledger, chart: Chart, limits: bool = True) -> None:
    accounts = chart.accounts(limits)
    for start in range(0, len(accounts), 8000):
        results = ledger.create_accounts(accounts[start : start + 8000])
        if any(r != "ok" for r in results):
            raise RuntimeError(f"benchmark accounts not created: {set(results)}")


def _raw(engine: Any, chart: Chart, transfers: int, batch_size: int) -> Iterator[tuple[float, int]]:
    """Insert the workload's rows and balance deltas with no validation; yield (seconds, n)."""
    dialect = engine.dialect.name
    store = store_for(dialect)
    enc = encoder(dialect)
    timestamp = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for batch in batches(chart, transfers, batch_size):
            stamped = []
            for t in batch:
                timestamp += 1
                stamped.append(_with_timestamp(t, timestamp))
            started = time.perf_counter()
            rows = transfer_rows(stamped, enc)
            deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])
            for t in stamped:
                if t.debit_account_id:
                    deltas[t.debit_account_id][0] += t.amount
                    deltas[t.credit_account_id][1] += t.amount
            if dialect == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
                cursor.executemany(
                    "INSERT INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
                cursor.executemany(
                    "UPDATE accounts SET debits_posted = debits_posted + ?,"
                    " credits_posted = credits_posted + ? WHERE id = ?",
                    [(d, c, enc(i)) for i, (d, c) in deltas.items()],
                )
                cursor.execute("COMMIT")
            else:
                _raw_postgres(cursor, rows, deltas, enc)
                raw.commit()
            yield time.perf_counter() - started, len(batch)
        del store
    finally:
        raw.close()


def _raw_postgres(
    cursor: Any, rows: list[tuple[Any, ...]], deltas: dict[int, list[int]], enc: Any
) -> None:
    with cursor.copy(
        "COPY transfers (id, debit_account_id, credit_account_id, amount, pending_id,"
        " user_data_128, user_data_64, user_data_32, timeout, ledger, code, flags, timestamp)"
        " FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(
        "UPDATE accounts AS a SET debits_posted = a.debits_posted + v.d,"
        " credits_posted = a.credits_posted + v.c FROM unnest(%s::uuid[], %s::bigint[],"
        " %s::bigint[]) AS v(id, d, c) WHERE a.id = v.id",
        (
            [enc(i) for i in deltas],
            [d for d, _ in deltas.values()],
            [c for _, c in deltas.values()],
        ),
    )


def _with_timestamp(t: Transfer, timestamp: int) -> Transfer:
    return Transfer(
        t.id,
        t.debit_account_id,
        t.credit_account_id,
        t.amount if t.amount < (1 << 62) else 0,
        t.ledger,
        t.code,
        t.flags,
        t.pending_id,
        t.timeout,
        t.user_data_128,
        t.user_data_64,
        t.user_data_32,
        timestamp,
    )
