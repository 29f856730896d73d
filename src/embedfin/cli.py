"""The ``embedfin`` command: data on stdout (``--json`` for machines), progress on stderr."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

import embedfin.lending  # noqa: F401  (registers the lending invariants for `check`)
import embedfin.payments  # noqa: F401  (registers the payments invariants for `check`)
from embedfin.consumers.cli import app as consumers_app
from embedfin.core.errors import EmbedfinError
from embedfin.core.ids import format_id, parse_id
from embedfin.core.money import Money, currency_by_numeric, format_money
from embedfin.core.runtime import tune_gc
from embedfin.db.engine import default_url, make_engine
from embedfin.db.migrate import SchemaMissing, require_schema, upgrade
from embedfin.ledger.check import CheckReport, check
from embedfin.ledger.service import Ledger
from embedfin.progress import progress_factory

app = typer.Typer(no_args_is_help=True, help="embedfin: embedded finance for e-commerce.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks, each with a same-run baseline.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
ledger_app = typer.Typer(no_args_is_help=True, help="Look at accounts and transfers.")
app.add_typer(bench_app, name="bench")
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")
app.add_typer(consumers_app, name="consumers")

out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: EMBEDFIN_DATABASE_URL or embedded SQLite)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def main() -> None:
    try:
        app()
    except EmbedfinError as error:
        err.print(f"[red]error[/red] ({error.code}): {error.message}")
        sys.exit(2)


def _print_figures(title: str, result: Any, as_json: bool) -> None:
    """A benchmark's figures as a table for people; the last line is always one JSON object."""
    figures = dataclasses.asdict(result)
    if not as_json:
        table = Table(title=title)
        table.add_column("figure")
        table.add_column("value", justify="right")
        for key, value in figures.items():
            table.add_row(key, str(value))
        out.print(table)
    print(json.dumps(figures))


def _existing_database(url: str | None) -> Engine:
    """An engine for a database that must already hold the schema (never creates one)."""
    target = url or default_url()
    parsed = make_url(target)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        raise SchemaMissing(f"no database at {target}")
    engine = make_engine(target)
    require_schema(engine)
    return engine


def _amount(amount_minor: int, ledger: int) -> str:
    try:
        return format_money(Money(amount_minor, currency_by_numeric(ledger).code))
    except EmbedfinError:
        return f"{amount_minor} (ledger {ledger})"


def _print_report(report: CheckReport) -> None:
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


@app.command("check")
def check_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Verify the ledger's invariants on any database; exit 1 when one fails."""
    engine = _existing_database(db)
    with engine.connect() as conn:
        report = check(conn)
    engine.dispose()
    if as_json:
        print(json.dumps(dataclasses.asdict(report) | {"ok": report.ok}))
    else:
        _print_report(report)
    raise typer.Exit(0 if report.ok else 1)


@app.command("demo")
def demo_command(
    exit_after: Annotated[
        bool, typer.Option("--exit-after", help="Stop after the run; exit 1 if the check fails.")
    ] = False,
    port: Annotated[int, typer.Option(help="Port to serve on (another if taken).")] = 8000,
    consumers: Annotated[int, typer.Option(min=1, help="Simulated buyers.")] = 1_500,
    days: Annotated[int, typer.Option(min=1, max=365, help="Simulated days.")] = 30,
    seed: Annotated[int | None, typer.Option(help="Scenario seed.")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress")] = False,
) -> None:
    """A fresh marketplace on embedded SQLite: API + live dashboard, a month of fused trade."""
    import time

    from embedfin.demo import Demo, free_port, fresh_demo_url, scenario
    from embedfin.sim import report as sim_report

    demo = Demo(fresh_demo_url(), scenario(consumers, days, seed), port=free_port(port))
    tune_gc()
    try:
        keys = demo.start()
        err.print(f"API and dashboard on {demo.base_url}  (simulating {days} days …)")
        result = demo.simulate(progress_factory(not no_progress))
        report = demo.check()
        keys = demo.keys or keys
        table = Table(title=f"{days} days of the fused marketplace ({consumers} buyers)")
        table.add_column("measure")
        table.add_column("value", justify="right")
        for field, title, _better in sim_report.CLAIMS:
            value = getattr(result, field)
            if field.endswith("_minor"):
                value = format_money(Money(round(value), demo.scenario.currency))
            table.add_row(title.replace(" (minor units)", ""), str(value))
        table.add_row("ledger transfers checked", str(report.transfers))
        table.add_row("invariants", "[green]all hold[/green]" if report.ok else "[red]BROKEN[/red]")
        out.print(table)
        if not report.ok:
            _print_report(report)
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


@bench_app.command("ledger")
def bench_ledger(
    db: DbOption = None,
    transfers: Annotated[int, typer.Option(min=1, help="How many transfers to post.")] = 200_000,
    batch_size: Annotated[int, typer.Option(min=1, max=8189)] = 8189,
    as_json: JsonOption = False,
    no_progress: Annotated[bool, typer.Option("--no-progress")] = False,
    sp_clients: Annotated[
        int,
        typer.Option(help="PostgreSQL: also measure a one-transfer-per-call stored procedure."),
    ] = 0,
) -> None:
    """Ledger throughput vs. a raw-driver baseline in the same run (fresh scratch databases)."""
    from embedfin.bench.ledger import run

    result = run(
        db, transfers, batch_size, progress_factory(not no_progress), sp_clients=sp_clients
    )
    _print_figures(f"bench ledger ({result.database})", result, as_json)


@bench_app.command("checkout")
def bench_checkout(
    db: DbOption = None,
    orders: Annotated[int, typer.Option(min=1, help="How many order lifecycles.")] = 2_000,
    batch: Annotated[int, typer.Option(min=1, max=4_000, help="Orders per command.")] = 1,
    as_json: JsonOption = False,
    no_progress: Annotated[bool, typer.Option("--no-progress")] = False,
) -> None:
    """Escrow lifecycles (place, pay, ship, confirm, payout) through the service layer."""
    from embedfin.bench.checkout import run

    result = run(db, orders, progress_factory(not no_progress), batch=batch)
    _print_figures(f"bench checkout ({result.database})", result, as_json)


@bench_app.command("credit")
def bench_credit(
    decisions: Annotated[int, typer.Option(min=100, help="In-process decisions.")] = 10_000,
    population: Annotated[int, typer.Option(min=1_000, help="Buyers to pre-approve.")] = 1_000_000,
    as_json: JsonOption = False,
    no_progress: Annotated[bool, typer.Option("--no-progress")] = False,
) -> None:
    """Credit decision latency and batch pre-approval throughput, each against its baseline."""
    from embedfin.bench.credit import run

    result = run(decisions, population, progress_factory(not no_progress))
    _print_figures("bench credit", result, as_json)


@bench_app.command("simulate")
def bench_simulate(
    consumers: Annotated[int, typer.Option(min=10, help="Simulated consumers.")] = 20_000,
    days: Annotated[int, typer.Option(min=1, help="Simulated days.")] = 30,
    as_json: JsonOption = False,
    no_progress: Annotated[bool, typer.Option("--no-progress")] = False,
) -> None:
    """Simulated orders per second through the service layer, against bulk checkout alone."""
    from embedfin.bench.simulate import run

    tune_gc()  # as `embedfin simulate` and `embedfin serve` run
    result = run(consumers, days, progress_factory(not no_progress))
    _print_figures("bench simulate", result, as_json)


@bench_app.command("api")
def bench_api(
    db: DbOption = None,
    requests: Annotated[int, typer.Option(min=100, help="Requests per phase.")] = 3_000,
    concurrency: Annotated[int, typer.Option(min=1, max=512, help="In flight.")] = 32,
    as_json: JsonOption = False,
) -> None:
    """Checkout requests/s through the live API vs an authenticated no-op of the same app."""
    from embedfin.bench.api import run

    err.print(f"bench api: {requests} pings, then {requests} checkouts, {concurrency} in flight …")
    result = run(db, requests, concurrency)
    _print_figures(f"bench api ({result.database})", result, as_json)


@app.command("recon")
def recon_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    channel: Annotated[str, typer.Option(help="The channel that sent the file.")],
    tenant: Annotated[str, typer.Option(help="The marketplace tenant.")],
    db: DbOption = None,
    amount_tolerance: Annotated[int, typer.Option(min=0, help="Minor units.")] = 0,
    days: Annotated[int, typer.Option(min=0, help="Value-date window in days.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Reconcile a channel settlement file (CSV or camt.053) against the books; store breaks."""
    from embedfin.payments.reconciliation import Reconciliation, report_json

    recon = Reconciliation(Ledger(_existing_database(db)), tenant)
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


@app.command("breaks")
def breaks_command(
    tenant: Annotated[str, typer.Option(help="The marketplace tenant.")],
    db: DbOption = None,
    resolve: Annotated[str | None, typer.Option(help="A break id to resolve.")] = None,
    note: Annotated[str | None, typer.Option(help="Why the break is resolved.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List open reconciliation breaks, or resolve one with a note."""
    from embedfin.payments.reconciliation import Reconciliation

    recon = Reconciliation(Ledger(_existing_database(db)), tenant)
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
    for column in ("break_id", "kind", "reference", "expected", "actual"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(str(row[c]) for c in ("break_id", "kind", "reference", "expected", "actual"))
        )
    out.print(table)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the schema to the newest version."""
    engine = make_engine(db)
    upgrade(engine)
    out.print(f"schema up to date: {engine.url.render_as_string(hide_password=True)}")


@ledger_app.command("account")
def ledger_account(account_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show one account and its balances."""
    ledger = Ledger(_existing_database(db))
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
        shown = _amount(value, a.ledger) if key.startswith(("debits", "credits")) else str(value)
        table.add_row(key, shown)
    out.print(table)


@ledger_app.command("transfers")
def ledger_transfers(
    account_id: str,
    db: DbOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    starting_after: Annotated[str | None, typer.Option(help="Transfer id cursor.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List an account's transfers, newest first."""
    ledger = Ledger(_existing_database(db))
    page = ledger.get_account_transfers(
        parse_id(account_id),
        limit=limit,
        starting_after=parse_id(starting_after) if starting_after else None,
    )
    if as_json:
        print(
            json.dumps(
                {
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
            )
        )
        return
    table = Table(title=f"transfers of {account_id}")
    for column in ("id", "debit", "credit", "amount", "code", "flags", "timestamp"):
        table.add_column(column)
    for t in page.items:
        table.add_row(
            format_id(t.id),
            format_id(t.debit_account_id),
            format_id(t.credit_account_id),
            _amount(t.amount, t.ledger),
            str(t.code),
            str(t.flags),
            str(t.timestamp),
        )
    out.print(table)
    if page.next_cursor:
        out.print(f"more: --starting-after {format_id(page.next_cursor)}")


# --- API, tenants, security ----------------------------------------------------------------------
tenants_app = typer.Typer(no_args_is_help=True, help="Marketplace tenants and their keys.")
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")
keys_app = typer.Typer(no_args_is_help=True, help="Data encryption keys.")
app.add_typer(tenants_app, name="tenants")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")


@app.command("serve")
def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Serve the open API (docs at /docs, OpenAPI at /openapi.json, metrics at /metrics)."""
    import os

    import uvicorn

    from embedfin.api.observability import configure_logging

    url = db or default_url()
    upgrade(make_engine(url))
    if workers > 1 and make_url(url).get_backend_name() == "sqlite":
        raise typer.BadParameter("several workers need PostgreSQL (SQLite has one writer)")
    os.environ["EMBEDFIN_DATABASE_URL"] = url
    configure_logging(log_level)
    err.print(f"embedfin API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "embedfin.api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


@tenants_app.command("create")
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


@audit_app.command("verify")
def audit_verify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Recompute the audit log's hash chain; exit 1 at the first broken entry."""
    from embedfin.security import audit

    engine = _existing_database(db)
    with engine.connect() as conn:
        report = audit.verify(conn)
    if as_json:
        out.print_json(json.dumps(dataclasses.asdict(report)))
    elif report.ok:
        out.print(f"[green]audit log intact[/green]: {report.entries} entries")
    else:
        out.print(f"[red]audit log broken[/red] at entry {report.first_bad_seq}: {report.reason}")
    raise typer.Exit(0 if report.ok else 1)


@keys_app.command("rotate-data")
def keys_rotate_data(db: DbOption = None) -> None:
    """Re-encrypt personal data under the first key of EMBEDFIN_DATA_KEYS."""
    from embedfin.security.rotation import rotate_all

    engine = _existing_database(db)
    with engine.begin() as conn:
        changed = rotate_all(conn)
    out.print(f"re-encrypted {changed} fields")


# --- credit --------------------------------------------------------------------------------------
credit_app = typer.Typer(no_args_is_help=True, help="Credit models: training and validation.")
app.add_typer(credit_app, name="credit")


@credit_app.command("evaluate")
def credit_evaluate(
    dataset: Annotated[
        str | None, typer.Option(help="A shipped dataset: german (Statlog German credit).")
    ] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Any tabular dataset with a binary target.")
    ] = None,
    target: Annotated[str | None, typer.Option(help="The target column of --csv.")] = None,
    bad_value: Annotated[
        str | None, typer.Option(help="The target's value for a bad outcome (else 1 = bad).")
    ] = None,
    folds: Annotated[int, typer.Option(min=2, max=20)] = 5,
    seed: Annotated[int, typer.Option()] = 42,
    as_json: JsonOption = False,
) -> None:
    """Scorecard and challenger under stratified k-fold CV, with a one-hot LR baseline."""
    from embedfin.credit.evaluate import evaluate, german, load_csv

    if (dataset is None) == (csv is None):
        raise typer.BadParameter("give either --dataset or --csv")
    if dataset is not None:
        if dataset != "german":
            raise typer.BadParameter("the shipped dataset is: german")
        X, y = german()
        name = "german"
    else:
        assert csv is not None
        if target is None:
            raise typer.BadParameter("--csv needs --target")
        X, y = load_csv(csv, target, bad_value)
        name = csv.name
    err.print(f"evaluating on {name}: {len(X)} rows, {folds}-fold CV, seed {seed} …")
    _print_figures(f"credit evaluate ({name})", evaluate(X, y, name, folds, seed), as_json)


@credit_app.command("train")
def credit_train(
    db: DbOption = None,
    synthetic: Annotated[
        int | None, typer.Option(help="Train on N seeded synthetic buyers (before loan data).")
    ] = None,
    csv: Annotated[Path | None, typer.Option(help="A table of features with a target.")] = None,
    target: Annotated[str | None, typer.Option(help="The target column of --csv.")] = None,
    window: Annotated[str, typer.Option(help="The data window, for the registry.")] = "synthetic",
    seed: Annotated[int, typer.Option()] = 42,
    as_json: JsonOption = False,
) -> None:
    """Train a scorecard and its gradient-boosting challenger, validate both on a 30% holdout,
    register both (the scorecard is champion if none is; promote either later)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from embedfin.credit import registry
    from embedfin.credit.compiled import CompiledScorecard
    from embedfin.credit.evaluate import ks, load_csv
    from embedfin.credit.gbm import GbmDecisionModel
    from embedfin.credit.models import ChallengerModel, ScorecardModel
    from embedfin.credit.synthetic import buyers

    if (synthetic is None) == (csv is None):
        raise typer.BadParameter("give either --synthetic N or --csv FILE --target COL")
    if csv is not None:
        if target is None:
            raise typer.BadParameter("--csv needs --target")
        X, y = load_csv(csv, target)
    else:
        assert synthetic is not None
        X, y = buyers(synthetic, seed)
    x_train, x_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    fitted = ScorecardModel().fit(x_train, y_train)
    pd_test = fitted.probability_of_default(x_test)
    metrics = {
        "auc": round(float(roc_auc_score(y_test, pd_test)), 4),
        "ks": round(ks(np.asarray(y_test), pd_test), 4),
        "rows": float(len(X)),
        "bad_rate": round(float(np.mean(y)), 4),
    }
    compiled = CompiledScorecard.compile(fitted)
    challenger = ChallengerModel(fitted, seed).fit(x_train, y_train)
    gbm = GbmDecisionModel.from_challenger(challenger, compiled)
    pd_gbm = challenger.probability_of_default(x_test)
    gbm_metrics = {
        "auc": round(float(roc_auc_score(y_test, pd_gbm)), 4),
        "ks": round(ks(np.asarray(y_test), pd_gbm), 4),
        "rows": float(len(X)),
        "bad_rate": metrics["bad_rate"],
    }
    ledger = Ledger.open(db)
    train_columns = {c: x_train[c].to_numpy(dtype=float) for c in x_train.columns}
    with ledger.transaction() as tx:
        entry = registry.register(
            tx.conn,
            compiled,
            data_window=window,
            metrics=metrics,
            reference_scores=fitted.score(x_train),
            now_ns=ledger.clock.now_ns(),
        )
        other = registry.register(
            tx.conn,
            gbm,
            data_window=window,
            metrics=gbm_metrics,
            reference_scores=gbm.score_many(train_columns),
            now_ns=ledger.clock.now_ns() + 1,
        )
    figures = {
        "model_id": entry.model_id,
        "status": entry.status,
        "sha256": entry.sha256,
        **metrics,
        "challenger_id": other.model_id,
        "challenger_auc": gbm_metrics["auc"],
    }
    if as_json:
        out.print_json(json.dumps(figures))
    else:
        for key, value in figures.items():
            out.print(f"{key:10} {value}")


@credit_app.command("models")
def credit_models(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The registered models, newest first."""
    from embedfin.credit import registry

    with _existing_database(db).connect() as conn:
        models = registry.list_models(conn)
    rows = [
        {"model_id": m.model_id, "status": m.status, "window": m.data_window, **m.metrics}
        for m in models
    ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title="credit models")
    for column in ("model_id", "status", "window", "auc", "ks"):
        table.add_column(column)
    for r in rows:
        table.add_row(*(str(r.get(c, "")) for c in ("model_id", "status", "window", "auc", "ks")))
    out.print(table)


@credit_app.command("promote")
def credit_promote(model_id: str, db: DbOption = None) -> None:
    """Make a registered model the champion (the previous one becomes a challenger)."""
    from embedfin.credit import registry

    with _existing_database(db).begin() as conn:
        registry.promote(conn, model_id)
    out.print(f"{model_id} is the champion")


def _credit_service(db: str | None, tenant: str, jurisdiction: str) -> Any:
    from embedfin.credit.service import CreditService
    from embedfin.lending.products import JURISDICTIONS, default_catalog
    from embedfin.lending.servicing import Lending
    from embedfin.payments.escrow import Checkout

    if jurisdiction not in JURISDICTIONS:
        raise typer.BadParameter(f"jurisdiction must be one of {sorted(JURISDICTIONS)}")
    ledger = Ledger.open(db)
    lending = Lending(Checkout(ledger, tenant), default_catalog(JURISDICTIONS[jurisdiction]))
    return CreditService(lending)


@credit_app.command("features")
def credit_features(
    tenant: Annotated[str, typer.Option(help="The marketplace tenant.")],
    db: DbOption = None,
    csv: Annotated[Path | None, typer.Option(help="Write the features table here.")] = None,
) -> None:
    """Every buyer's features now (batch, point-in-time), from the outbox."""
    import dataclasses as dc

    import pandas as pd

    service = _credit_service(db, tenant, "CN")
    service.pipeline.consume()
    table = service.pipeline.batch(tenant, service.lending.clock.now_ns())
    frame = pd.DataFrame([{"buyer_id": b, **dc.asdict(f)} for b, f in sorted(table.items())])
    if csv is not None:
        frame.to_csv(csv, index=False)
        out.print(f"{len(frame)} buyers → {csv}")
    else:
        out.print(frame.to_string(index=False) if len(frame) else "no buyers yet")


@credit_app.command("preapprove")
def credit_preapprove(
    tenant: Annotated[str, typer.Option(help="The marketplace tenant.")],
    db: DbOption = None,
    currency_code: Annotated[str, typer.Option("--currency")] = "EUR",
    jurisdiction: Annotated[str, typer.Option()] = "CN",
    as_json: JsonOption = False,
) -> None:
    """Recompute every buyer's pre-approved limit with the champion model."""
    service = _credit_service(db, tenant, jurisdiction)
    limits = service.preapprove(currency_code)
    approved = sum(1 for v in limits.values() if v > 0)
    figures = {"buyers": len(limits), "approved": approved, "model_id": service.model.version}
    if as_json:
        out.print(json.dumps(figures))
    else:
        out.print(f"{approved} of {len(limits)} buyers pre-approved ({service.model.version})")


@app.command("simulate")
def simulate_command(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenario names (gateway, fused) or TOML files.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for report.json and report.html.")] = Path(
        "embedfin-data/simulation"
    ),
    consumers: Annotated[int | None, typer.Option(min=1, help="Override the scale.")] = None,
    merchants: Annotated[int | None, typer.Option(min=1)] = None,
    days: Annotated[int | None, typer.Option(min=1)] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    as_json: JsonOption = False,
    no_progress: Annotated[bool, typer.Option("--no-progress")] = False,
) -> None:
    """Run scenarios on fresh embedded databases and compare them (JSON + HTML report)."""
    from embedfin.db.scratch import scratch_database
    from embedfin.sim import report
    from embedfin.sim.engine import Simulation
    from embedfin.sim.scenario import load

    tune_gc()
    results = []
    for name in scenarios or ["gateway", "fused"]:
        scenario = load(name).scaled(consumers=consumers, merchants=merchants, days=days, seed=seed)
        with scratch_database(None, f"sim-{scenario.name}") as url:
            results.append(Simulation(scenario, url).run(progress_factory(not no_progress)))
    json_path, html_path = report.write(results, out)
    if as_json:
        out.mkdir(parents=True, exist_ok=True)
        print(json.dumps(report.as_json(results)["claims"], separators=(",", ":")))
        return
    table = Table(title="simulation")
    table.add_column("claim")
    for r in results:
        table.add_column(r.scenario, justify="right")
    for field, title, better in report.CLAIMS:
        table.add_row(f"{title} ({better})", *(str(getattr(r, field)) for r in results))
    out_console = Console()
    out_console.print(table)
    out_console.print(f"report: {html_path}  ·  {json_path}")


if __name__ == "__main__":
    main()
