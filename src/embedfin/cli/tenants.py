"""``embedfin tenants``: marketplace tenants and their keys."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from embedfin.cli.common import DbOption, JsonOption, err, out
from embedfin.ledger.service import Ledger

app = typer.Typer(no_args_is_help=True, help="Marketplace tenants and their keys.")


@app.command("create")
def tenants_create(
    name: Annotated[str, typer.Argument(help="The marketplace's name.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a tenant and its first operator key (the secret is shown once)."""
    from embedfin.api import auth

    ledger = Ledger.open(db)
    now = ledger.clock.now_ns()
    with ledger.transaction() as tx:
        tenant = auth.create_tenant(tx.conn, name, now)
        key, secret = auth.create_key(tx.conn, tenant, auth.Role.OPERATOR, "first operator", now)
    if as_json:
        out.print_json(json.dumps({"tenant": tenant, "key_id": key.key_id, "secret": secret}))
        return
    out.print(f"tenant   {tenant}\nkey id   {key.key_id}\nsecret   {secret}")
    err.print("[yellow]store the secret now: it is not kept and cannot be shown again[/yellow]")
