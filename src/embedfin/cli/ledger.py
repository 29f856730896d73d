"""``embedfin check`` and ``embedfin ledger``: the ledger's invariants, accounts and transfers."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer
from rich.table import Table

from embedfin.cli.common import DbOption, JsonOption, amount, err, out, print_check_report
from embedfin.core.ids import format_id, parse_id
from embedfin.db.migrate import open_existing
from embedfin.ledger.check import check
from embedfin.ledger.service import Ledger, Page

app = typer.Typer(no_args_is_help=True, help="Look at accounts and transfers.")


def check_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Verify the ledger's invariants on any database; exit 1 when one fails."""
    engine = open_existing(db)
    with engine.connect() as conn:
        report = check(conn)
    engine.dispose()
    if as_json:
        print(json.dumps(dataclasses.asdict(report) | {"ok": report.ok}))
    else:
        print_check_report(report)
    raise typer.Exit(0 if report.ok else 1)


@app.command("account")
def ledger_account(account_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show one account and its balances."""
    ledger = Ledger(open_existing(db))
    found = ledger.lookup_accounts([parse_id(account_id)])
    if not found:
        err.print(f"no account {account_id}")
        raise typer.Exit(1)
    a = found[0]
    if as_json:
        print(json.dumps(a._asdict() | {"id": format_id(a.id)}))
        return
    table = Table(title=f"account {format_id(a.id)}")
    table.add_column("field")
    table.add_column("value", justify="right")
    for key, value in a._asdict().items():
        shown = amount(value, a.ledger) if key.startswith(("debits", "credits")) else str(value)
        table.add_row(key, shown)
    out.print(table)


@app.command("transfers")
def ledger_transfers(
    account_id: str,
    db: DbOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    starting_after: Annotated[str | None, typer.Option(help="Transfer id cursor.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List an account's transfers, newest first."""
    ledger = Ledger(open_existing(db))
    page = ledger.get_account_transfers(
        parse_id(account_id),
        limit=limit,
        starting_after=parse_id(starting_after) if starting_after else None,
    )
    if as_json:
        print(json.dumps(_page_json(page)))
        return
    table = Table(title=f"transfers of {account_id}")
    for column in ("id", "debit", "credit", "amount", "code", "flags", "timestamp"):
        table.add_column(column)
    for t in page.items:
        table.add_row(
            format_id(t.id),
            format_id(t.debit_account_id),
            format_id(t.credit_account_id),
            amount(t.amount, t.ledger),
            str(t.code),
            str(t.flags),
            str(t.timestamp),
        )
    out.print(table)
    if page.next_cursor:
        out.print(f"more: --starting-after {format_id(page.next_cursor)}")


def _page_json(page: Page) -> dict[str, object]:
    return {
        "object": "list",
        "data": [
            t._asdict()
            | {
                "id": format_id(t.id),
                "debit_account_id": format_id(t.debit_account_id),
                "credit_account_id": format_id(t.credit_account_id),
            }
            for t in page.items
        ],
        "has_more": page.has_more,
    }
