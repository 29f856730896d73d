"""``embedfin bench``: each benchmark against a baseline measured in the same run."""

from __future__ import annotations

from typing import Annotated

import typer

from embedfin.cli.common import DbOption, JsonOption, NoProgressOption, err, print_figures
from embedfin.core.runtime import tune_gc
from embedfin.progress import progress_factory

app = typer.Typer(no_args_is_help=True, help="Benchmarks, each with a same-run baseline.")


@app.command("ledger")
def bench_ledger(
    db: DbOption = None,
    transfers: Annotated[int, typer.Option(min=1, help="How many transfers to post.")] = 200_000,
    batch_size: Annotated[int, typer.Option(min=1, max=8189)] = 8189,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
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
    print_figures(f"bench ledger ({result.database})", result, as_json)


@app.command("checkout")
def bench_checkout(
    db: DbOption = None,
    orders: Annotated[int, typer.Option(min=1, help="How many order lifecycles.")] = 2_000,
    batch: Annotated[int, typer.Option(min=1, max=4_000, help="Orders per command.")] = 1,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Escrow lifecycles (place, pay, ship, confirm, payout) through the service layer."""
    from embedfin.bench.checkout import run

    result = run(db, orders, progress_factory(not no_progress), batch=batch)
    print_figures(f"bench checkout ({result.database})", result, as_json)


@app.command("credit")
def bench_credit(
    decisions: Annotated[int, typer.Option(min=100, help="In-process decisions.")] = 10_000,
    population: Annotated[int, typer.Option(min=1_000, help="Buyers to pre-approve.")] = 1_000_000,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Credit decision latency and batch pre-approval throughput, each against its baseline."""
    from embedfin.bench.credit import run

    result = run(decisions, population, progress_factory(not no_progress))
    print_figures("bench credit", result, as_json)


@app.command("simulate")
def bench_simulate(
    consumers: Annotated[int, typer.Option(min=10, help="Simulated consumers.")] = 20_000,
    days: Annotated[int, typer.Option(min=1, help="Simulated days.")] = 30,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Simulated orders per second through the service layer, against bulk checkout alone."""
    from embedfin.bench.simulate import run

    tune_gc()  # as `embedfin simulate` and `embedfin serve` run
    result = run(consumers, days, progress_factory(not no_progress))
    print_figures("bench simulate", result, as_json)


@app.command("api")
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
    print_figures(f"bench api ({result.database})", result, as_json)


@app.command("fraud")
def bench_fraud(
    days: Annotated[int, typer.Option(min=3, help="Days per simulated month.")] = 30,
    buyers: Annotated[int, typer.Option(min=50, help="Honest buyers.")] = 300,
    seed: Annotated[int, typer.Option(help="The training month's seed.")] = 11,
    api_requests: Annotated[
        int, typer.Option(min=0, help="API checkouts per phase (0: skip the API ratio).")
    ] = 2_000,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Fraud losses with no risk control, rules, rules + model on a month the model never saw;
    the check's p99; API checkouts/s with risk on against off."""
    from embedfin.bench.fraud import run

    result = run(days, buyers, seed, progress_factory(not no_progress), api_requests=api_requests)
    print_figures("bench fraud", result, as_json)


@app.command("aml")
def bench_aml(
    transactions: Annotated[
        int, typer.Option(min=1_000, help="Transfers in the synthetic month.")
    ] = 10_000_000,
    seed: Annotated[int, typer.Option(help="The data's seed.")] = 7,
    stream_transactions: Annotated[
        int, typer.Option(min=0, help="Movements through the streaming monitor (0: skip).")
    ] = 200_000,
    db: Annotated[
        str | None,
        typer.Option(help="A PostgreSQL server URL: the stream runs in a scratch database."),
    ] = None,
    spark: Annotated[
        bool, typer.Option(help="Scan the same file on the Spark engine too (spark_seconds).")
    ] = True,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """The AML batch scan of a synthetic month with every typology injected: seconds, peak
    memory, per-typology recall and precision; the streaming monitor's rate; the same scan on
    Spark."""
    from embedfin.bench.aml import run

    result = run(
        transactions, seed, progress_factory(not no_progress), stream_transactions, db, spark
    )
    print_figures("bench aml", result, as_json)


@app.command("log")
def bench_log(
    entries: Annotated[
        int, typer.Option(min=1_000, help="Entries appended to the log.")
    ] = 1_000_000,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Entries per append.")] = 10_000,
    proofs: Annotated[
        int, typer.Option(min=10, help="Inclusion and consistency proofs each.")
    ] = 2_000,
    seed: Annotated[int, typer.Option(help="The seed of the entries and the proofs drawn.")] = 7,
    db: Annotated[
        str | None,
        typer.Option(help="A PostgreSQL server URL: the log runs in a scratch database."),
    ] = None,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """The verifiable log: durable appends per second (against a bare insert of the same rows),
    inclusion and consistency proofs served from stored nodes and verified, p99."""
    from embedfin.bench.log import run

    result = run(entries, batch, proofs, seed, db, progress_factory(not no_progress))
    print_figures("bench log", result, as_json)


@app.command("scf")
def bench_scf(
    certificates: Annotated[
        int, typer.Option(min=10, help="Certificates issued, split, passed on, discounted.")
    ] = 1_000,
    log_entries: Annotated[
        int, typer.Option(min=1_000, help="Entries of the log benchmark.")
    ] = 200_000,
    db: Annotated[
        str | None,
        typer.Option(help="A PostgreSQL server URL: the bench runs in scratch databases."),
    ] = None,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """Supply-chain finance: certificate operations per second through the service layer
    (against wallet top-ups in the same run), and the scf log's appends, proofs and checks."""
    from embedfin.bench.scf import run

    tune_gc()  # as `embedfin serve` runs the API that takes the batches
    result = run(certificates, log_entries=log_entries, db=db,
                 progress=progress_factory(not no_progress))  # fmt: skip
    print_figures("bench scf", result, as_json)


@app.command("systemic")
def bench_systemic(
    nodes: Annotated[int, typer.Option(min=10, help="Nodes of the random network.")] = 10_000,
    edges: Annotated[int, typer.Option(min=10, help="Debts between them.")] = 200_000,
    seed: Annotated[int, typer.Option(help="The network's seed.")] = 7,
    holders: Annotated[
        int, typer.Option(min=0, help="Fund pool holders to accrue a day for (0: none).")
    ] = 1_000_000,
    as_json: JsonOption = False,
) -> None:
    """Systemic risk: Eisenberg–Noe clearing and DebtRank on a random sparse network (targets:
    under a second each at 10,000 nodes and 200,000 edges), and the fund pool's daily accrual
    for a million holders on SQLite (target: under 10 s)."""
    from embedfin.bench.systemic import run

    if edges > nodes * (nodes - 1):
        raise typer.BadParameter(f"--edges: at most {nodes * (nodes - 1)} for {nodes} nodes")
    print_figures("bench systemic", run(nodes, edges, seed, holders), as_json)


@app.command("bank")
def bench_bank(
    db: DbOption = None,
    workers: Annotated[int, typer.Option(min=1, help="serve --workers (>1: PostgreSQL).")] = 1,
    clients: Annotated[int, typer.Option(min=1, max=256, help="Client threads.")] = 16,
    seconds: Annotated[float, typer.Option(min=1, help="How long the clients send.")] = 30,
    seed: Annotated[int, typer.Option(help="The request mix's seed.")] = 0,
    kill_every: Annotated[
        float | None, typer.Option(min=1, help="SIGKILL and restart the server about every S s.")
    ] = None,
    as_json: JsonOption = False,
    no_progress: NoProgressOption = False,
) -> None:
    """A Jepsen-style bank workload through the live API; exit 1 on any violation."""
    from embedfin.bench.bank import BankOptions, print_bank, run

    options = BankOptions(
        db=db, workers=workers, clients=clients, seconds=seconds, seed=seed, kill_every=kill_every
    )
    result = run(options, progress_factory(not no_progress))
    print_bank(result, as_json)
    if not result.ok:
        raise typer.Exit(1)
