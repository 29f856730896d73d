"""The ``embedfin`` command: data on stdout (``--json`` for machines), progress on stderr.

The root app below only registers: one module of this package per domain holds its commands,
parses their arguments, calls the owning package's service and renders what comes back. The
domain logic (training, reconciliation, checks, …) lives in the domain packages.
"""

from __future__ import annotations

import sys

import typer

from embedfin.cli import (
    acquirer,
    aml,
    audit,
    bench,
    consumers,
    credit,
    db,
    demo,
    keys,
    ledger,
    log,
    reconciliation,
    serve,
    simulate,
    stress,
    tenants,
)
from embedfin.cli.common import err
from embedfin.core.errors import EmbedfinError

app = typer.Typer(no_args_is_help=True, help="embedfin: embedded finance for e-commerce.")

# Commands at the root, in the order `embedfin --help` lists them.
app.command("check")(ledger.check_command)
app.command("demo")(demo.demo_command)
app.command("recon")(reconciliation.recon_command)
app.command("breaks")(reconciliation.breaks_command)
app.command("serve")(serve.serve_command)
app.command("simulate")(simulate.simulate_command)

# Sub-apps, one per domain: a new context adds its own with one line here.
app.add_typer(bench.app, name="bench")
app.add_typer(db.app, name="db")
app.add_typer(ledger.app, name="ledger")
app.add_typer(tenants.app, name="tenants")
app.add_typer(audit.app, name="audit")
app.add_typer(keys.app, name="keys")
app.add_typer(credit.app, name="credit")
app.add_typer(consumers.app, name="consumers")
app.add_typer(acquirer.app, name="acquirer")
app.add_typer(aml.app, name="aml")
app.add_typer(log.app, name="log")
app.add_typer(stress.app, name="stress")


def main() -> None:
    """The console script: a domain error ends the command with its code on stderr, exit 2."""
    try:
        app()
    except EmbedfinError as error:
        err.print(f"[red]error[/red] ({error.code}): {error.message}")
        sys.exit(2)
