"""``embedfin check`` and ``embedfin ledger``: the ledger's invariants, accounts and transfers."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer
from rich.table import Table

from embedfin.bootstrap import build_chart, check_all
from embedfin.cli.common import DbOption, JsonOption, amount, err, out, print_check_report
from embedfin.core.ids import format_id, parse_id
from embedfin.db.migrate import open_existing
from embedfin.ledger.service import Ledger, Page

app = typer.Typer(no_args_is_help=True, help="Look at accounts and transfers.")


def check_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Verify the ledger's invariants on any database; exit 1 when one fails."""
    engine = open_existing(db)
    with engine.connect() as conn:
        report = check_all(conn)
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
    code_name = build_chart().name_of_account(a.code)
    if as_json:
        print(json.dumps(a._asdict() | {"id": format_id(a.id), "code_name": code_name}))
        return
    table = Table(title=f"account {format_id(a.id)}")
    table.add_column("field")
    table.add_column("value", justify="right")
    for key, value in a._asdict().items():
        shown = amount(value, a.ledger) if key.startswith(("debits", "credits")) else str(value)
        table.add_row(key, f"{shown} {code_name}" if key == "code" else shown)
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
    chart = build_chart()
    table = Table(title=f"transfers of {account_id}")
    for column in ("id", "debit", "credit", "amount", "code", "flags", "timestamp"):
        table.add_column(column)
    for t in page.items:
        table.add_row(
            format_id(t.id),
            format_id(t.debit_account_id),
            format_id(t.credit_account_id),
            amount(t.amount, t.ledger),
            f"{t.code} {chart.name_of_transfer(t.code)}",
            str(t.flags),
            str(t.timestamp),
        )
    out.print(table)
    if page.next_cursor:
        out.print(f"more: --starting-after {format_id(page.next_cursor)}")


def _page_json(page: Page) -> dict[str, object]:
    chart = build_chart()
    return {
        "object": "list",
        "data": [
            t._asdict()
            | {
                "id": format_id(t.id),
                "debit_account_id": format_id(t.debit_account_id),
                "credit_account_id": format_id(t.credit_account_id),
                "code_name": chart.name_of_transfer(t.code),
            }
            for t in page.items
        ],
        "has_more": page.has_more,
    }


@app.command("chart")
def ledger_chart(as_json: JsonOption = False) -> None:
    """The chart: every account code and transfer code, its name and the context that owns it."""
    chart = build_chart()
    if as_json:
        blocks = [
            {
                "context": b.context,
                "account_codes": [b.account_codes.first, b.account_codes.last],
                "transfer_codes": [b.transfer_codes.first, b.transfer_codes.last],
            }
            for b in chart.blocks
        ]
        accounts = [dataclasses.asdict(t) for t in chart.accounts]
        transfers = [dataclasses.asdict(t) for t in chart.transfers]
        print(json.dumps({"blocks": blocks, "accounts": accounts, "transfers": transfers}))
        return
    accounts_table = Table(title="account codes")
    for column in ("code", "name", "normal", "owner", "description"):
        accounts_table.add_column(column, justify="right" if column == "code" else "left")
    for a in chart.accounts:
        accounts_table.add_row(str(a.code), a.name, str(a.normal), a.owner, a.description)
    transfers_table = Table(title="transfer codes")
    for column in ("code", "name", "owner", "description"):
        transfers_table.add_column(column, justify="right" if column == "code" else "left")
    for t in chart.transfers:
        transfers_table.add_row(str(t.code), t.name, t.owner, t.description)
    out.print(accounts_table)
    out.print(transfers_table)
