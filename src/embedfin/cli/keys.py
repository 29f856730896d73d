"""``embedfin keys``: the data encryption keys."""

from __future__ import annotations

import typer

from embedfin.cli.common import DbOption, out
from embedfin.db.migrate import open_existing

app = typer.Typer(no_args_is_help=True, help="Data encryption keys.")


@app.command("rotate-data")
def keys_rotate_data(db: DbOption = None) -> None:
    """Re-encrypt personal data under the first key of EMBEDFIN_DATA_KEYS."""
    from embedfin.security.rotation import rotate_all

    engine = open_existing(db)
    with engine.begin() as conn:
        changed = rotate_all(conn)
    out.print(f"re-encrypted {changed} fields")
