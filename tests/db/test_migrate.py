"""Opening a database that must already hold the schema: nothing is ever created."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from embedfin.db.engine import make_engine
from embedfin.db.migrate import SchemaMissing, open_existing


def test_a_database_with_the_schema_opens(db_url: str) -> None:
    engine = open_existing(db_url)
    assert inspect(engine).has_table("alembic_version")
    engine.dispose()


def test_a_missing_sqlite_file_is_refused_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(SchemaMissing, match="no database at"):
        open_existing(f"sqlite:///{missing}")
    assert not missing.exists()


def test_a_database_without_the_schema_is_refused_with_the_command_that_fixes_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'foreign.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE something (x INTEGER)"))
    engine.dispose()
    with pytest.raises(SchemaMissing, match="embedfin db upgrade"):
        open_existing(url)


def test_without_a_url_the_configured_default_is_opened(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBEDFIN_DATABASE_URL", sqlite_url)
    engine = open_existing()
    assert str(engine.url) == sqlite_url
    engine.dispose()
