"""``embedfin acquirer``: the sandbox acquirer's side — its settlement files and what it holds."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from embedfin.cli.common import DbOption, JsonOption, TenantOption, err, out

app = typer.Typer(no_args_is_help=True, help="The sandbox acquirer (a processor's test mode).")

AcquirerOption = Annotated[
    str | None,
    typer.Option(
        "--acquirer", help="Acquirer store URL (default: EMBEDFIN_ACQUIRER_URL or beside --db)."
    ),
]


@app.command("settle")
def settle_command(
    channel: Annotated[str, typer.Option(help="The channel, e.g. card-acquirer.")],
    tenant: TenantOption,
    day: Annotated[str, typer.Option(help="The UTC day, YYYY-MM-DD.")],
    out_file: Annotated[Path, typer.Option("--out", dir_okay=False, help="Where to write it.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or camt053.")] = "csv",
    db: DbOption = None,
    acquirer: AcquirerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the channel's settlement file of a day, from the acquirer's own records (then
    ``embedfin recon FILE --channel … --tenant …`` reconciles the books against it)."""
    from embedfin.db.engine import default_url
    from embedfin.payments.channels import sandbox
    from embedfin.payments.channels.settlement_files import render

    if fmt not in ("csv", "camt053"):
        raise typer.BadParameter("--format is csv or camt053")
    try:
        when = date.fromisoformat(day)
    except ValueError as error:
        raise typer.BadParameter(f"--day: {error}") from None
    store = sandbox.SandboxAcquirer(acquirer or sandbox.default_url(db or default_url()))
    try:
        if channel not in {c.name for c in store.channels}:
            raise typer.BadParameter(f"no channel {channel!r} at the acquirer")
        movements = store.movements(channel, tenant, when)
        out_file.write_bytes(render(movements, when, fmt, channel, tenant))
    finally:
        store.close()
    summary = {"file": str(out_file), "format": fmt, "lines": len(movements), "day": day}
    if as_json:
        print(json.dumps(summary))
    else:
        out.print(f"{len(movements)} movements of {day} written to {out_file} ({fmt})")
        if not movements:
            err.print("[yellow]no movements that day[/yellow]")
