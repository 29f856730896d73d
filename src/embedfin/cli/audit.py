"""``embedfin audit``: the tamper-evident audit log."""

from __future__ import annotations

import dataclasses
import json

import typer

from embedfin.cli.common import DbOption, JsonOption, out
from embedfin.db.migrate import open_existing

app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")


@app.command("verify")
def audit_verify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Recompute the audit log's hash chain; exit 1 at the first broken entry."""
    from embedfin.security import audit

    engine = open_existing(db)
    with engine.connect() as conn:
        report = audit.verify(conn)
    if as_json:
        out.print_json(json.dumps(dataclasses.asdict(report)))
    elif report.ok:
        out.print(f"[green]audit log intact[/green]: {report.entries} entries")
    else:
        out.print(f"[red]audit log broken[/red] at entry {report.first_bad_seq}: {report.reason}")
    raise typer.Exit(0 if report.ok else 1)
