"""Engine factory: embedded SQLite (WAL) by default, PostgreSQL through a URL.

``EMBEDFIN_DATABASE_URL`` selects the store, e.g. ``postgresql+psycopg://user@host/db``. Without
it embedfin uses ``./embedfin-data/embedfin.db``, created on first use. On SQLite every write
transaction starts with ``BEGIN IMMEDIATE`` so that writers queue for the lock instead of
failing half-way, and commits are fsynced (``synchronous=FULL``): an acknowledged transfer
survives a crash of the process or of the machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

DEFAULT_DATA_DIR = Path("embedfin-data")
ENV_URL = "EMBEDFIN_DATABASE_URL"


def default_url() -> str:
    url = os.environ.get(ENV_URL)
    if url:
        return url
    return f"sqlite:///{DEFAULT_DATA_DIR / 'embedfin.db'}"


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (or the configured default) with embedfin's settings.

    ``hide_parameters``: a failed statement's error names the statement but not its values
    (review text, buyer ids, tokens), so that no error message that reaches a log or a
    traceback carries them."""
    url = url or default_url()
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise ValueError(f"unsupported database: {parsed.get_backend_name()}")


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver; "begin" below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
