"""``embedfin simulate``: scenarios on fresh embedded databases, compared in one report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from embedfin.cli.common import JsonOption, NoProgressOption, out
from embedfin.core.runtime import tune_gc
from embedfin.progress import progress_factory

if TYPE_CHECKING:
    from embedfin.sim.engine import Report


def simulate_command(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenario names (gateway, fused) or TOML files.")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for report.json and report.html.")
    ] = Path("embedfin-data/simulation"),
    consumers: Annotated[int | None, typer.Option(min=1, help="Override the scale.")] = None,
    merchants: Annotated[int | None, typer.Option(min=1)] = None,
    days: Annotated[int | None, typer.Option(min=1)] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Run scenarios on fresh embedded databases and compare them (JSON + HTML report)."""
    from embedfin.db.scratch import scratch_database
    from embedfin.sim import report
    from embedfin.sim.engine import Simulation
    from embedfin.sim.scenario import load

    tune_gc()
    results: list[Report] = []
    for name in scenarios or ["gateway", "fused"]:
        scenario = load(name).scaled(consumers=consumers, merchants=merchants, days=days, seed=seed)
        with scratch_database(None, f"sim-{scenario.name}") as url:
            results.append(Simulation(scenario, url).run(progress_factory(not no_progress)))
    json_path, html_path = report.write(results, out_dir)
    if as_json:
        print(json.dumps(report.as_json(results)["claims"], separators=(",", ":")))
        return
    table = Table(title="simulation")
    table.add_column("claim")
    for r in results:
        table.add_column(r.scenario, justify="right")
    for field, title, better in report.CLAIMS:
        table.add_row(f"{title} ({better})", *(str(getattr(r, field)) for r in results))
    out.print(table)
    out.print(f"report: {html_path}  ·  {json_path}")
