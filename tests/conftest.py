"""Shared fixtures: throw-away SQLite files and PostgreSQL databases.

PostgreSQL tests run against ``EMBEDFIN_TEST_PG_URL`` (default: the local server on
127.0.0.1:5432, trust auth). Each test session creates its own databases and drops them. When
no server answers, the tests are skipped on a laptop but *fail* in CI (``CI=true``).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from embedfin.core.events import StoredEvent
from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade
from embedfin.db.outbox import read_events
from embedfin.db.scratch import scratch_database
from embedfin.security.audit_keys import new_audit_key_spec, new_signing_key_text
from embedfin.security.crypto import new_key_spec

PG_SERVER = os.environ.get(
    "EMBEDFIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
pytest_plugins = ["tests.service_fixtures"]
# A throw-away data key ring for the whole run (and the processes it starts).
os.environ.setdefault("EMBEDFIN_DATA_KEYS", new_key_spec("test1"))
# …and throw-away audit keys (HMAC ring, checkpoint signing key), so no test writes key files.
os.environ.setdefault("EMBEDFIN_AUDIT_KEY", new_audit_key_spec("test1"))
os.environ.setdefault("EMBEDFIN_AUDIT_SIGNING_KEY", new_signing_key_text())
os.environ.setdefault("EMBEDFIN_LOG_SIGNING_KEY", new_signing_key_text())

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("ci" if IN_CI else "default")


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(make_url(PG_SERVER), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means "no server"
        return str(error).splitlines()[0]


@pytest.fixture(scope="session")
def pg_server() -> str:
    problem = _pg_reachable()
    if problem is not None:
        message = f"PostgreSQL not reachable at {PG_SERVER}: {problem}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return PG_SERVER


REDIS_SERVER = os.environ.get("EMBEDFIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis server the counter tests use; each test keeps to its own tenants' keys."""
    import redis

    try:
        redis.Redis.from_url(REDIS_SERVER, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        message = f"Redis not reachable at {REDIS_SERVER}: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_SERVER


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (migrating every time is slow)."""
    path = tmp_path_factory.mktemp("template") / "embedfin.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def fresh_sqlite(template: Path, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "embedfin.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return fresh_sqlite(sqlite_template, tmp_path / "db")


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    """A migrated PostgreSQL database that each test's database copies (migrating every time is
    slow); nothing connects to it after the migration, as a template requires."""
    with scratch_database(pg_server, "template") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield str(make_url(url).database)


@pytest.fixture
def pg_url(pg_server: str, pg_template: str) -> Iterator[str]:
    with scratch_database(pg_server, "test", template=pg_template) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs on both stores."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


def settled_events(engine: Engine, timeout_s: float = 15.0) -> list[StoredEvent]:
    """All outbox events once they are safe to read.

    On PostgreSQL an event becomes readable only when every older transaction that may write
    this database has ended (see db/outbox.py): one the server cannot place in another
    database (it ended just then, or is hidden from this role) can delay it briefly.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        with engine.connect() as conn:
            events = read_events(conn, limit=10_000)
            pending = conn.execute(text("SELECT COUNT(*) FROM outbox_events")).scalar_one()
        if len(events) == pending or time.monotonic() > deadline:
            return events
        time.sleep(0.05)
