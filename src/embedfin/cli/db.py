"""``embedfin db``: the database schema."""

from __future__ import annotations

import typer

from embedfin.cli.common import DbOption, out
from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade

app = typer.Typer(no_args_is_help=True, help="Database schema.")


@app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the schema to the newest version."""
    engine = make_engine(db)
    upgrade(engine)
    out.print(f"schema up to date: {engine.url.render_as_string(hide_password=True)}")
