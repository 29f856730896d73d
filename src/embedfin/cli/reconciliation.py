"""``embedfin recon`` and ``embedfin breaks``: channel settlement files against the books."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from embedfin.cli.common import DbOption, JsonOption, TenantOption, out
from embedfin.db.migrate import open_existing
from embedfin.ledger.service import Ledger

BREAK_COLUMNS = ("break_id", "kind", "reference", "expected", "actual")


def recon_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    channel: Annotated[str, typer.Option(help="The channel that sent the file.")],
    tenant: TenantOption,
    db: DbOption = None,
    amount_tolerance: Annotated[int, typer.Option(min=0, help="Minor units.")] = 0,
    days: Annotated[int, typer.Option(min=0, help="Value-date window in days.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Reconcile a channel settlement file (CSV or camt.053) against the books; store breaks."""
    from embedfin.bootstrap import Services
    from embedfin.payments.reconciliation.matching import report_json

    recon = Services(Ledger(open_existing(db))).tenant(tenant).reconciliation
    report = recon.run(
        file, channel, amount_tolerance_minor=amount_tolerance, date_tolerance_days=days
    )
    if as_json:
        print(report_json(report))
        return
    out.print(
        f"{report.lines} lines, {report.matched} matched, {len(report.breaks)} breaks"
        f" (run {report.run_id})"
    )
    if report.breaks:
        table = Table(title="breaks")
        for column in ("kind", "reference", "expected", "actual"):
            table.add_column(column)
        for b in report.breaks:
            table.add_row(str(b.kind), b.reference, b.expected, b.actual)
        out.print(table)


def breaks_command(
    tenant: TenantOption,
    db: DbOption = None,
    resolve: Annotated[str | None, typer.Option(help="A break id to resolve.")] = None,
    note: Annotated[str | None, typer.Option(help="Why the break is resolved.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List open reconciliation breaks, or resolve one with a note."""
    from embedfin.bootstrap import Services

    recon = Services(Ledger(open_existing(db))).tenant(tenant).reconciliation
    if resolve:
        if not note:
            raise typer.BadParameter("--note is required with --resolve")
        recon.resolve(resolve, note)
        out.print(f"resolved {resolve}")
        return
    rows = recon.open_breaks()
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title=f"open breaks ({len(rows)})")
    for column in BREAK_COLUMNS:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in BREAK_COLUMNS))
    out.print(table)
