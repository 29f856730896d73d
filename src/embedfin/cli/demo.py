"""``embedfin demo``: a fresh marketplace, served, simulated and checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from embedfin.cli.common import NoProgressOption, err, out, print_check_report
from embedfin.core.money import Money, format_money
from embedfin.core.runtime import tune_gc
from embedfin.progress import progress_factory

if TYPE_CHECKING:
    from embedfin.demo import Demo
    from embedfin.ledger.check import CheckReport
    from embedfin.sim.engine import Report


def demo_command(
    exit_after: Annotated[
        bool, typer.Option("--exit-after", help="Stop after the run; exit 1 if the check fails.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port to serve on (another if taken).")] = 8000,
    consumers: Annotated[int, typer.Option(min=1, help="Simulated buyers.")] = 1_500,
    days: Annotated[int, typer.Option(min=1, max=365, help="Simulated days.")] = 30,
    seed: Annotated[int | None, typer.Option(help="Scenario seed.")] = None,
    no_progress: NoProgressOption = False,
) -> None:
    """A fresh marketplace on embedded SQLite: API + live dashboard, a month of fused trade."""
    import time

    from embedfin.demo import Demo, free_port, fresh_demo_url, scenario

    demo = Demo(fresh_demo_url(), scenario(consumers, days, seed), port=free_port(port))
    tune_gc()
    try:
        keys = demo.start()
        err.print(f"API and dashboard on {demo.base_url}  (simulating {days} days …)")
        result = demo.simulate(progress_factory(not no_progress))
        report = demo.check()
        keys = demo.keys or keys
        _print_run(
            demo, result, report, f"{days} days of the fused marketplace ({consumers} buyers)"
        )
        out.print(
            f"dashboard     [bold]{demo.base_url}/dashboard[/bold]   docs {demo.base_url}/docs\n"
            f"operator key  {keys.operator}\n"
            f"merchant key  {keys.merchant}  (merchant {keys.merchant_id})\n"
            f"database      {demo.url}   (embedfin check --db {demo.url})",
            soft_wrap=True,  # keys stay on one line, whole, for copying
        )
        if exit_after:
            raise typer.Exit(0 if report.ok else 1)
        err.print("serving until Ctrl-C")
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        err.print("stopped")
    finally:
        demo.stop()


def _print_run(demo: Demo, result: Report, report: CheckReport, title: str) -> None:
    """The simulated month's claims and the check, as one table (the failures after it)."""
    from embedfin.sim import report as sim_report

    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for field, claim, _better in sim_report.CLAIMS:
        value = getattr(result, field)
        if field.endswith("_minor"):
            value = format_money(Money(round(value), demo.scenario.currency))
        table.add_row(claim.replace(" (minor units)", ""), str(value))
    table.add_row("ledger transfers checked", str(report.transfers))
    table.add_row("invariants", "[green]all hold[/green]" if report.ok else "[red]BROKEN[/red]")
    out.print(table)
    if not report.ok:
        print_check_report(report)
