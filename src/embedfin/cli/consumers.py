"""``embedfin consumers``: each outbox consumer's lag, its parked events, and replays."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer
from rich.table import Table

from embedfin.cli.common import DbOption, JsonOption, err, out
from embedfin.consumers.runner import Runner
from embedfin.db.migrate import open_existing
from embedfin.ledger.service import Ledger

app = typer.Typer(
    invoke_without_command=True,
    help="Outbox consumers: lag (the default), parked events, replays.",
)


def _runner(url: str | None) -> Runner:
    """The platform's consumers over a database that must already hold the schema."""
    from embedfin.bootstrap import build_consumers  # the composition root imports every context
    from embedfin.risk.config import RiskSettings

    ledger = Ledger(open_existing(url))
    return Runner(ledger, build_consumers(ledger, RiskSettings.from_env()))


@app.callback()
def lag_command(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Each consumer: events not read yet, age of the oldest, parked events."""
    if ctx.invoked_subcommand is not None:
        return
    figures = _runner(db).lag()
    if as_json:
        print(json.dumps({"consumers": [dataclasses.asdict(f) for f in figures]}))
        return
    table = Table(title="Outbox consumers")
    for column in ("consumer", "unread", "oldest unread (s)", "parked"):
        table.add_column(column, justify="left" if column == "consumer" else "right")
    for f in figures:
        table.add_row(f.consumer, str(f.unread), f"{f.oldest_unread_age_s:.1f}", str(f.parked))
    out.print(table)


@app.command("parked")
def parked_command(
    db: DbOption = None,
    consumer: Annotated[str | None, typer.Option(help="Only this consumer's.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Events set aside after repeated failures, with their last error."""
    parked = _runner(db).parked(consumer)
    if as_json:
        print(json.dumps({"parked": [dataclasses.asdict(p) for p in parked]}))
        return
    table = Table(title="Parked events")
    for column in ("consumer", "event", "type", "attempts", "status", "error"):
        table.add_column(column)
    for p in parked:
        table.add_row(p.consumer, p.event_id, p.event_type, str(p.attempts), p.status, p.error)
    out.print(table)
    if not parked:
        err.print("no parked events")


@app.command("replay")
def replay_command(
    event_id: Annotated[str, typer.Argument(help="The parked event's id.")],
    db: DbOption = None,
    consumer: Annotated[
        str | None, typer.Option(help="Only for this consumer (default: each that parked it).")
    ] = None,
) -> None:
    """Un-park an event: its consumer is handed it again on its next pass."""
    released = _runner(db).replay(event_id, consumer)
    err.print(f"event {event_id} un-parked for {released} consumer(s)")


@app.command("run")
def run_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Run every consumer until it has caught up (what the API's worker does each pass)."""
    effects = _runner(db).run_all()
    if as_json:
        print(json.dumps({"effects": effects}))
        return
    for name, count in effects.items():
        out.print(f"{name}: {count}")
