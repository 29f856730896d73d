"""What every sub-app shares: the two consoles, the common options and a few renderers."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from embedfin.core.errors import EmbedfinError
from embedfin.core.money import Money, currency_by_numeric, format_money
from embedfin.ledger.check import CheckReport

out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: EMBEDFIN_DATABASE_URL or embedded SQLite)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
NoProgressOption = Annotated[bool, typer.Option("--no-progress")]
TenantOption = Annotated[str, typer.Option(help="The marketplace tenant.")]


def print_figures(title: str, result: Any, as_json: bool) -> None:
    """A dataclass (or a dict) of figures as a table for people; the last line is always one
    JSON object."""
    figures = dict(result) if isinstance(result, dict) else dataclasses.asdict(result)
    if not as_json:
        table = Table(title=title)
        table.add_column("figure")
        table.add_column("value", justify="right")
        for key, value in figures.items():
            table.add_row(key, str(value))
        out.print(table)
    print(json.dumps(figures))


def amount(amount_minor: int, ledger: int) -> str:
    """An amount in its ledger's currency, or the bare number for a ledger with none."""
    try:
        return format_money(Money(amount_minor, currency_by_numeric(ledger).code))
    except EmbedfinError:
        return f"{amount_minor} (ledger {ledger})"


def print_check_report(report: CheckReport) -> None:
    table = Table(title="Ledger invariants")
    table.add_column("invariant")
    table.add_column("result")
    for name, held in report.checked.items():
        table.add_row(name, "[green]ok[/green]" if held else "[red]FAILED[/red]")
    out.print(table)
    for violation in report.violations:
        out.print(f"[red]✗ {violation.invariant}[/red]: {violation.detail}")
    status = "[green]all invariants hold[/green]" if report.ok else "[red]INVARIANTS VIOLATED[/red]"
    out.print(f"{status} — {report.accounts} accounts, {report.transfers} transfers checked")
