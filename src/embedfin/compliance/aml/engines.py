"""Where the detectors' queries run: DuckDB in this process, or Apache Spark.

The detectors (``detectors.py``, ``flows.py``, ``groups.py``) are written once, in DuckDB's SQL,
against table ``tx``. An engine runs them:

* :class:`DuckDBEngine` — the default: the loaded table in an in-memory DuckDB.
* :class:`SparkEngine` — the same queries on Spark (PySpark, local mode here; a cluster's
  ``spark.master`` otherwise). The loaded table is handed over as Parquet, and each query is
  translated from DuckDB's dialect to Spark's by sqlglot, with the two rewrites sqlglot does not
  make: a ``count(DISTINCT x)`` over a window frame becomes ``size(collect_set(x))`` (Spark has
  no distinct window aggregates), and the tables a detector keeps become cached, checkpointed
  views. Threshold rule packs (``thresholds.py``) stay on DuckDB with either engine: they read a
  day in a time zone, which the two dialects spell differently.

A test runs every detector on both over the same seeded file and requires identical alerts.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

from embedfin.core.errors import InvalidInput

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES = ("duckdb", "spark")
Row = tuple[Any, ...]
LOG_CONFIG = Path(__file__).parent / "data" / "spark-log4j2.properties"


class Engine(Protocol):
    """What a detector asks of the engine its queries run on."""

    name: str

    def rows(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The result of one query (DuckDB's dialect, ``?`` parameters) as tuples."""
        ...

    def keep(self, table: str, sql: str) -> None:
        """The result of ``sql`` kept as table ``table`` for the queries after it."""
        ...

    def put(
        self, table: str, columns: Sequence[tuple[str, str]], rows: list[tuple[Any, ...]]
    ) -> None:
        """Rows from Python as table ``table``; ``columns`` are (name, DuckDB type)."""
        ...


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn

    def rows(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, list(parameters)).fetchall()

    def keep(self, table: str, sql: str) -> None:
        self.conn.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")

    def put(
        self, table: str, columns: Sequence[tuple[str, str]], rows: list[tuple[Any, ...]]
    ) -> None:
        import pandas as pd  # a frame registers at once (row-by-row inserts crawl)

        frame = pd.DataFrame(rows, columns=[name for name, _ in columns])
        self.conn.register(f"{table}_frame", frame)
        casts = ", ".join(f"CAST({n} AS {kind}) AS {n}" for n, kind in columns)
        self.keep(table, f"SELECT {casts} FROM {table}_frame")
        self.conn.unregister(f"{table}_frame")


# --- Spark ----------------------------------------------------------------------------------
_session_lock = threading.Lock()
_session: SparkSession | None = None


def spark_session() -> SparkSession:
    """One Spark session per process, started on first use (a JVM: seconds, not milliseconds).

    ``EMBEDFIN_SPARK_MASTER`` picks the cluster (default ``local[*]``, every core of this
    machine) and ``EMBEDFIN_SPARK_MEMORY`` the driver's memory (default ``2g``)."""
    global _session
    with _session_lock:
        if _session is not None:
            return _session
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback, whatever the hostname
        try:
            from pyspark.sql import SparkSession
        except ImportError:  # pragma: no cover - the project's lock installs it
            raise InvalidInput(
                "the Spark engine needs PySpark (the project's lock has it)"
            ) from None
        quiet = f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}"
        cores = os.cpu_count() or 2
        builder = (
            SparkSession.builder.appName("embedfin-aml")
            .master(os.environ.get("EMBEDFIN_SPARK_MASTER", "local[*]"))
            .config("spark.driver.memory", os.environ.get("EMBEDFIN_SPARK_MEMORY", "2g"))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(max(4, 2 * cores)))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.ansi.enabled", "true")
            # a chain of hops is walked level by level; the paths of a large file are many
            .config("spark.sql.cteRecursionLevelLimit", "64")
            .config("spark.sql.cteRecursionRowLimit", str(10**9))
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.extraJavaOptions", quiet)
        )
        with warnings.catch_warnings():  # pandas 3 is newer than it knows; no frames cross
            warnings.simplefilter("ignore", FutureWarning)
            _session = builder.getOrCreate()
        _session.sparkContext.setLogLevel("ERROR")
        atexit.register(_stop)
        return _session


def _stop() -> None:
    global _session
    with _session_lock:
        if _session is not None:
            _session.stop()
            _session = None


def to_spark(sql: str) -> str:
    """A DuckDB query in Spark's dialect (see the module)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")

    def distinct_in_window(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Window) and isinstance(node.this, exp.Count):
            inner = node.this.this
            if isinstance(inner, exp.Distinct) and len(inner.expressions) == 1:
                window = node.copy()
                window.set("this", exp.ArrayUniqueAgg(this=inner.expressions[0].copy()))
                return exp.Anonymous(this="size", expressions=[window])
        return node

    return tree.transform(distinct_in_window).sql(dialect="spark")


_SPARK_TYPES = {"BIGINT": "BIGINT", "VARCHAR": "STRING", "INTEGER": "INT"}


class SparkEngine:
    """The detectors' queries on Spark, over table ``tx`` handed over from DuckDB as Parquet."""

    name = "spark"

    def __init__(self, session: SparkSession, workdir: Path) -> None:
        self.session = session
        self.workdir = workdir
        self._kept: list[str] = []

    @classmethod
    def from_duckdb(cls, conn: duckdb.DuckDBPyConnection) -> SparkEngine:
        """Table ``tx`` of ``conn`` (loaded and checked there) as Spark's table ``tx``."""
        session = spark_session()
        workdir = Path(tempfile.mkdtemp(prefix="embedfin-spark-"))
        target = workdir / "tx.parquet"
        conn.execute(
            f"COPY (SELECT row_no, src, dst, amount, currency, t FROM tx) TO '{target}' "
            "(FORMAT parquet, ROW_GROUP_SIZE 1000000)"
        )
        engine = cls(session, workdir)
        frame = session.read.parquet(str(target)).cache()
        frame.count()
        frame.createOrReplaceTempView("tx")
        engine._kept.append("tx")
        return engine

    def rows(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        found = self.session.sql(to_spark(sql), args=list(parameters) or None).collect()
        return [tuple(row) for row in found]

    def keep(self, table: str, sql: str) -> None:
        frame = self.session.sql(to_spark(sql)).localCheckpoint(eager=True)
        frame.createOrReplaceTempView(table)
        self._kept.append(table)

    def put(
        self, table: str, columns: Sequence[tuple[str, str]], rows: list[tuple[Any, ...]]
    ) -> None:
        schema = ", ".join(f"{name} {_SPARK_TYPES[kind]}" for name, kind in columns)
        self.session.createDataFrame(rows, schema=schema).createOrReplaceTempView(table)
        self._kept.append(table)

    def close(self) -> None:
        """Drop this scan's views and files (the session stays for the next scan)."""
        for table in self._kept:
            self.session.catalog.dropTempView(table)
        self._kept.clear()
        for path in sorted(self.workdir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        self.workdir.rmdir()
