"""``embedfin aml``: scan a file of transfers for laundering typologies; make and score data."""

from __future__ import annotations

import enum
import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from embedfin.cli.common import DbOption, JsonOption, NoProgressOption, TenantOption, out
from embedfin.core.errors import InvalidInput
from embedfin.progress import progress_factory


class Engine(enum.StrEnum):
    duckdb = "duckdb"
    spark = "spark"


app = typer.Typer(
    no_args_is_help=True,
    help="Anti-money laundering: typology scans, screening, monitoring and reports.",
)

FileArg = Annotated[Path, typer.Argument(help="CSV or Parquet: src, dst, amount, timestamp|step.")]
ParamsOption = Annotated[
    Path | None, typer.Option("--params", help="A JSON object of detector thresholds.")
]


def _params(path: Path | None):  # type: ignore[no-untyped-def]
    from embedfin.compliance.aml.detectors import AmlParams

    return AmlParams() if path is None else AmlParams.from_mapping(_json_object(path))


def _json_object(path: Path) -> dict[str, object]:
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InvalidInput(f"{path}: not a readable JSON object ({error})") from None
    if not isinstance(values, dict):
        raise InvalidInput(f"{path}: the parameters are a JSON object")
    return values


def _rates(path: Path) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for code, value in _json_object(path).items():
        try:
            rate = Decimal(str(value)) if not isinstance(value, bool) else Decimal("NaN")
        except InvalidOperation:
            rate = Decimal("NaN")
        if not re.fullmatch(r"[A-Z]{3}", code) or not rate.is_finite() or rate <= 0:
            raise InvalidInput(f"{path}: rate {code!r}: {value!r} is not a positive rate")
        found[code] = rate
    return found


@app.command("scan")
def scan_command(
    file: FileArg,
    params: ParamsOption = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the alerts here, one JSON per line.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Alerts as JSON lines on stdout, then a summary line.")
    ] = False,
    pack: Annotated[
        list[str] | None,
        typer.Option(
            "--pack",
            help="A threshold rule pack to apply too: prc, us or a TOML file (repeatable).",
        ),
    ] = None,
    rates: Annotated[
        Path | None,
        typer.Option("--rates", help='A JSON object of rates for the packs, e.g. {"EUR": "1.08"}.'),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="Where the detectors run: DuckDB in this process, or Apache Spark (local mode "
            "unless EMBEDFIN_SPARK_MASTER names a cluster). Both find the same alerts."
        ),
    ] = Engine.duckdb,
    no_progress: NoProgressOption = False,
) -> None:
    """Every typology in FILE: fan-in/out, cycles, scatter-gather, gather-scatter, bipartite,
    stacks, pass-through chains, structuring and smurfing — each alert with its accounts,
    transactions, window, amount, score and reasons. With --pack, also each same-day total a
    jurisdiction's large-value (PRC) or currency transaction (FinCEN CTR) rules must report."""
    from embedfin.compliance.aml import rulepacks
    from embedfin.compliance.aml.alerts import dumps
    from embedfin.compliance.aml.scan import scan

    packs = [rulepacks.load(name) for name in pack or ()]
    result = scan(
        file,
        _params(params),
        progress=progress_factory(not no_progress),
        packs=packs,
        rates=None if rates is None else _rates(rates),
        engine=engine.value,
    )
    lines = list(result.lines())
    if out_file is not None:
        with out_file.open("w") as f:
            for line in lines:
                f.write(dumps(line) + "\n")
    by_typology: dict[str, int] = {}
    for alert in result.alerts:
        by_typology[alert.typology] = by_typology.get(alert.typology, 0) + 1
    summary = {
        "rows": result.loaded.rows,
        "alerts": len(lines),
        "by_typology": by_typology,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }
    if as_json:
        if out_file is None:
            for line in lines:
                print(dumps(line))
        print(json.dumps(summary))
        return
    table = Table(title=f"{file.name}: {result.loaded.rows:,} transfers, {len(lines)} alerts")
    for column in ("typology", "accounts", "transactions", "amount", "score", "why"):
        table.add_column(column)
    for line in lines[:50]:
        accounts = ", ".join(line["accounts"][:4]) + ("…" if len(line["accounts"]) > 4 else "")
        table.add_row(
            line["typology"], accounts, str(len(line["transactions"])),
            f"{line['amount']} {line['currency']}".strip(), f"{line['score']:.2f}",
            line["reasons"][0],
        )  # fmt: skip
    out.print(table)
    if len(lines) > 50:
        out.print(f"… and {len(lines) - 50} more (--out FILE writes them all)")


@app.command("generate")
def generate_command(
    out_file: Annotated[Path, typer.Argument(help="The CSV of transfers to write.")],
    transactions: Annotated[int, typer.Option(min=1_000, help="About this many rows.")] = 100_000,
    seed: Annotated[int, typer.Option(help="The seed: same seed, same data.")] = 7,
    truth: Annotated[
        Path | None, typer.Option(help="Where to write the ground truth (default: beside it).")
    ] = None,
    steps: Annotated[
        bool, typer.Option("--steps", help="Whole-day steps, not timestamps.")
    ] = False,
    currency: Annotated[
        str | None, typer.Option(help="Write a currency column with this code (e.g. USD).")
    ] = None,
    channels: Annotated[
        bool,
        typer.Option(
            "--channels", help="Write a channel column: structuring, smurfing and 10% cash."
        ),
    ] = False,
) -> None:
    """Seeded AMLSim-style transfers with every typology injected; the ground truth apart."""
    from embedfin.compliance.aml import generator

    if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidInput(f"--currency {currency!r} is not a 3-letter upper-case code")
    data = generator.generate(transactions, seed)
    generator.write_csv(data, out_file, steps=steps, currency=currency, channels=channels)
    truth_file = truth or out_file.with_name(out_file.stem + ".truth.csv")
    generator.write_truth(data, truth_file)
    print(json.dumps({"rows": len(data.rows), "laundering": len(data.truth),
                      "instances": data.instances, "truth": str(truth_file)}))  # fmt: skip


@app.command("evaluate")
def evaluate_command(
    file: FileArg,
    truth: Annotated[Path, typer.Argument(help="tx_id, typology, instance (from generate).")],
    params: ParamsOption = None,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Scan FILE and score the alerts against TRUTH: per typology recall and precision."""
    from embedfin.compliance.aml.scan import evaluate_file

    figures, result = evaluate_file(file, truth, _params(params), progress_factory(not no_progress))
    summary = figures.as_dict() | {
        "rows": result.loaded.rows,
        "alerts": len(result.alerts),
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }
    if not as_json:
        table = Table(title=f"{file.name}: F1 {figures.f1:.3f}")
        for column in ("typology", "instances", "found", "tx recall", "tx precision", "alerts"):
            table.add_column(column)
        for name, f in figures.by_typology.items():
            precision = "—" if f.tx_precision is None else f"{f.tx_precision:.2f}"
            table.add_row(name, str(f.instances), str(f.instances_found), f"{f.tx_recall:.2f}",
                          precision, str(f.alerts))  # fmt: skip
        out.print(table)
    print(json.dumps(summary))


@app.command("screen")
def screen_command(
    name: Annotated[str, typer.Argument(help="The party's name, in any script.")],
    birth_date: Annotated[
        str | None, typer.Option("--birth-date", help="YYYY-MM-DD: breaks ties.")
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="ISO 3166-1 alpha-2: breaks ties.")
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="person or organization (default: both).")
    ] = None,
    watchlist: Annotated[
        Path | None,
        typer.Option("--list", help="A FollowTheMoney file (default: the synthetic list)."),
    ] = None,
    params: Annotated[
        Path | None, typer.Option("--params", help="A JSON object of screening thresholds.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per hit.")] = False,
) -> None:
    """Screen NAME against a sanctions / PEP list: every hit with its score and reasons."""
    from embedfin.compliance.aml.screening import ScreeningParams, Subject, Watchlist
    from embedfin.compliance.aml.watchlist import SHIPPED, read_file

    if kind not in (None, "person", "organization"):
        raise InvalidInput("--kind is person or organization")
    thresholds = ScreeningParams.from_mapping(_json_object(params)) if params else ScreeningParams()
    entries = read_file(watchlist or SHIPPED).entries
    subject = Subject(name, birth_date, country, kind)  # type: ignore[arg-type]
    hits = Watchlist(entries, thresholds).screen(subject)
    if as_json:
        for hit in hits:
            print(json.dumps(hit.to_json(), ensure_ascii=False))
        return
    if not hits:
        out.print(f"no hit for {name!r} among {len(entries):,} entries")
        return
    for hit in hits:
        out.print(f"[bold]{hit.entity_id}[/] {hit.caption} ({hit.category}) score {hit.score:.3f}")
        for reason in hit.reasons:
            out.print(f"  · {reason}")


@app.command("load-list")
def load_list_command(
    tenant: TenantOption,
    watchlist: Annotated[
        Path | None,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="A FollowTheMoney file (default: the shipped synthetic list).",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="What to call the list.")] = None,
    actor: Annotated[str, typer.Option(help="Who loads it (the audit trail).")] = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a sanctions / PEP list the tenant's active one and screen every known buyer and
    merchant against it; each hit opens a case and holds the party's payouts and withdrawals."""
    from embedfin.bootstrap import Services
    from embedfin.compliance.aml.watchlist import SHIPPED, read_file
    from embedfin.db.migrate import open_existing
    from embedfin.ledger.service import Ledger

    path = watchlist or SHIPPED
    parsed = read_file(path)
    screening = Services(Ledger(open_existing(db))).tenant(tenant).screening
    loaded = screening.load_list(parsed, name or path.name, actor)
    figures = {
        "list_id": loaded.watchlist.list_id,
        "entries": loaded.watchlist.entries,
        "skipped": loaded.watchlist.skipped,
        "screened": loaded.screened,
        "new_hits": loaded.new_hits,
        "already_active": loaded.already_active,
    }
    if as_json:
        print(json.dumps(figures))
        return
    if loaded.already_active:
        out.print(f"{loaded.watchlist.list_id} is already the active list: nothing changed")
        return
    out.print(
        f"{loaded.watchlist.list_id}: {loaded.watchlist.entries:,} entries; screened"
        f" {loaded.screened:,} parties, {loaded.new_hits:,} new hits (see /v1/risk/cases)"
    )


@app.command("monitor")
def monitor_command(
    tenant: TenantOption,
    days: Annotated[int, typer.Option(min=1, max=400, help="How far back to scan.")] = 30,
    db: DbOption = None,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Catch the journal up (consumer ``aml-monitor``), then run every typology detector over
    its last ``--days`` days; each new alert opens an ``aml_alert`` case."""
    from embedfin.bootstrap import Services, build_consumers
    from embedfin.consumers import Runner
    from embedfin.db.migrate import open_existing
    from embedfin.ledger.service import Ledger
    from embedfin.risk.config import RiskSettings

    ledger = Ledger(open_existing(db))
    stream = [c for c in build_consumers(ledger, RiskSettings(enabled=False))
              if c.name == "aml-monitor"]  # fmt: skip
    journaled = Runner(ledger, stream).run_all()["aml-monitor"]
    monitoring = Services(ledger).tenant(tenant).monitoring
    run = monitoring.scan(days=days, actor="cli", progress=progress_factory(not no_progress))
    figures = {"journaled": journaled, "transactions": run.transactions, "alerts": run.alerts,
               "new_alerts": run.new_alerts, "by_typology": run.by_typology}  # fmt: skip
    if as_json:
        print(json.dumps(figures))
        return
    out.print(
        f"journaled {journaled:,} new movements; scanned {run.transactions:,} over {days} days:"
        f" {run.alerts:,} alerts, {run.new_alerts:,} new (cases in /v1/risk/cases)"
    )
    for typology, n in sorted(run.by_typology.items()):
        out.print(f"  {typology}: {n}")


@app.command("reports")
def reports_command(
    tenant: TenantOption,
    status: Annotated[str | None, typer.Option(help="due or filed (default: both).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The tenant's large-value and suspicious-transaction reports, due ones first, with the
    working days left to each deadline (negative: late)."""
    from datetime import UTC, datetime

    from embedfin.bootstrap import Services
    from embedfin.db.migrate import open_existing
    from embedfin.ledger.service import Ledger

    ledger = Ledger(open_existing(db))
    reports = Services(ledger).tenant(tenant).reports
    today = datetime.fromtimestamp(ledger.clock.now_ns() // 1_000_000_000, UTC).date()
    found = reports.list(status=status, limit=limit)
    rows = [
        {"id": r.report_id, "kind": r.kind, "status": r.status, "subject": r.subject,
         "amount": format(r.amount.normalize(), "f"), "currency": r.currency,
         "due_on": r.due_on, "days_left": r.days_left(today) if r.status == "due" else None,
         "late": r.late(today), "digest": r.digest}
        for r in found
    ]  # fmt: skip
    if as_json:
        print(json.dumps({"reports": rows, "counts": reports.counts(today)}))
        return
    table = Table("report", "kind", "status", "subject", "amount", "due on", "days left")
    for row in rows:
        left = "" if row["days_left"] is None else str(row["days_left"])
        table.add_row(str(row["id"]), str(row["kind"]), str(row["status"]), str(row["subject"]),
                      f"{row['amount']} {row['currency']}", str(row["due_on"]),
                      f"[red]{left}[/red]" if row["late"] else left)  # fmt: skip
    out.print(table)
