"""A migrated database a benchmark owns: SQLite in a temporary folder, or a scratch database
on a PostgreSQL server (created and dropped, never another's)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine


@contextlib.contextmanager
def bench_database(db: str | None, name: str) -> Iterator[Engine]:
    from embedfin.db.engine import make_engine
    from embedfin.db.migrate import upgrade
    from embedfin.db.scratch import scratch_database

    with tempfile.TemporaryDirectory(prefix=f"embedfin-{name}-") as folder:
        context: contextlib.AbstractContextManager[str] = (
            contextlib.nullcontext(f"sqlite:///{Path(folder) / f'{name}.db'}")
            if db is None
            else scratch_database(db, name)
        )
        with context as url:
            engine = make_engine(url)
            try:
                upgrade(engine)
                yield engine
            finally:
                engine.dispose()
