"""Bring a database to the newest schema with Alembic (idempotent, safe to call at start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from embedfin.core.errors import EmbedfinError
from embedfin.db.engine import default_url, make_engine


class SchemaMissing(EmbedfinError):
    """The database has no (or an older) embedfin schema."""

    code = "schema_missing"


MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def require_schema(engine: Engine) -> None:
    """Refuse to work on a database that embedfin has not set up (nothing is created)."""
    if not inspect(engine).has_table("alembic_version"):
        url = engine.url.render_as_string(hide_password=True)
        raise SchemaMissing(f"{url} has no embedfin schema; run: embedfin db upgrade --db {url}")


def open_existing(url: str | None = None) -> Engine:
    """An engine for a database that must already hold the schema (never creates one: a missing
    SQLite file stays missing)."""
    target = url or default_url()
    parsed = make_url(target)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        raise SchemaMissing(f"no database at {target}")
    engine = make_engine(target)
    require_schema(engine)
    return engine
