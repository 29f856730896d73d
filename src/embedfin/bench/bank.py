"""``embedfin bench bank``: a Jepsen-style bank workload through the HTTP API, and its verdict.

A fresh database (SQLite in a temporary folder, or a scratch PostgreSQL database dropped
afterwards), a tenant made with ``embedfin tenants create``, and ``embedfin serve`` started as a
child process (``--workers N`` needs PostgreSQL). Setup creates merchants and buyers through the
API and funds the wallets; then ``clients`` threads send the bank mix (``bank_ops.py``) for
``seconds``. With ``kill_every`` the server is SIGKILLed at random moments around that period
and restarted, and the clients retry under the same keys until answered (the kill loop).

The verdict (``bank_checks.py``): every answer replayed or judged against the books, balances,
the database, ``embedfin check`` (conservation and every invariant) and ``embedfin audit
verify``. A correct server scores 0 on every violation count; the CLI exits 1 otherwise.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from embedfin.bench.bank_checks import (
    Violations,
    check_balances,
    check_books,
    check_bursts,
    replay_all,
)
from embedfin.bench.bank_ops import CURRENCY, BankClient, History, Market, Op
from embedfin.bench.bank_server import ServeProcess, create_tenant, run_cli
from embedfin.core.errors import InvalidInput
from embedfin.db.engine import make_engine
from embedfin.db.scratch import scratch_database

Track = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]
SEED_FUNDS_MINOR = 200_000


@dataclass(frozen=True, slots=True)
class BankOptions:
    """How big and how hostile a run is.

    Attributes:
        db: a PostgreSQL server URL (a scratch database is made on it), or None/SQLite.
        workers: ``embedfin serve --workers`` (more than one needs PostgreSQL).
        clients: client threads sending the mix.
        seconds: how long they send.
        seed: the mix's seed (same seed, same sequence of requests per client).
        kill_every: SIGKILL the server about every this many seconds of its up time (None:
            never); clients then retry every request under its key until it is answered.
        kills: with ``kill_every``, exactly this many kills (the run lasts until they are done
            and ``seconds`` of up time have passed); None: as many as ``seconds`` allows.
        merchants, buyers: the market's size (buyers default to two per client).
        log_dir: where the server's log goes (default: a temporary folder, kept only when
            the run found a violation).
        retry_deadline_s: how long a retrying client keeps at one request (longer than the
            lease of a claim a crash leaves behind).
        replay_sample: how many answered ops are replayed after the run (all unanswered are).
    """

    db: str | None = None
    workers: int = 1
    clients: int = 16
    seconds: float = 30.0
    seed: int = 0
    kill_every: float | None = None
    kills: int | None = None
    merchants: int = 4
    buyers: int | None = None
    log_dir: Path | None = None
    retry_deadline_s: float = 180.0
    replay_sample: int = 200


@dataclass(frozen=True, slots=True)
class BankResult:
    """A run's figures and its verdict.

    Attributes:
        seconds: wall time of the load phase (restarts included).
        kills: SIGKILLs of the server during it.
        ops: requests under distinct Idempotency-Keys (setup top-ups included); a burst is one.
        acknowledged: ops answered 2xx (``acknowledged_by_kind``: per kind of op);
            ``acknowledged_ops_per_s`` over ``seconds``.
        answers: every answer received (copies, retries and replays of the load included).
        transport_errors: requests that got no answer at all (connection refused, reset).
        violations: every violation count by name (``bank_checks.Violations``); all must be 0.
        samples: a few violations and unexpected answers, described, for a person to follow.
        server_log: the server's log, kept when a violation was found.
        phases: wall seconds of start-up, setup, load and verdict.
    """

    database: str
    workers: int
    clients: int
    seconds: float
    kills: int
    ops: int
    acknowledged: int
    acknowledged_by_kind: dict[str, int]
    acknowledged_ops_per_s: float
    bursts: int
    answers: int
    transport_errors: int
    violations: dict[str, int]
    total_violations: int
    samples: list[str] = field(default_factory=list)
    server_log: str = ""
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.total_violations == 0


def run(options: BankOptions, track: Track) -> BankResult:
    """Run the workload on a fresh database and judge it."""
    database = make_url(options.db).get_backend_name() if options.db else "sqlite"
    if options.workers > 1 and database == "sqlite":
        raise InvalidInput("several workers need PostgreSQL (SQLite has one writer): pass --db")
    log_dir = options.log_dir or Path(tempfile.mkdtemp(prefix="embedfin-bank-"))
    log_path = log_dir / "serve.log"
    phases = _Phases()
    with scratch_database(options.db, "bank") as url:
        secret = create_tenant(url)
        server = ServeProcess(url, options.workers, log_path)
        server.start()
        phases.mark("start_s")
        try:
            market = _setup(server.base_url, secret, options)
            history = History()
            for op in _seed_ops(market):
                history.add(op)
            phases.mark("setup_s")
            elapsed = _load(server, market, history, options, track)
            phases.mark("load_s")
            found = _judge(url, server, market, history, options)
        finally:
            server.stop()
        _check_cli(url, server.checkpoints_path, found)
        phases.mark("verdict_s")
    acknowledged = sum(op.acknowledged for op in history.ops)
    counts = found.counts()
    if options.log_dir is None and not any(counts.values()):
        shutil.rmtree(log_dir, ignore_errors=True)  # nothing to look into
    return BankResult(
        database=database,
        workers=options.workers,
        clients=options.clients,
        seconds=round(elapsed, 1),
        kills=server.kills,
        ops=len(history.ops),
        acknowledged=acknowledged,
        acknowledged_by_kind=dict(Counter(op.kind for op in history.ops if op.acknowledged)),
        acknowledged_ops_per_s=round(acknowledged / max(elapsed, 1e-9), 1),
        bursts=sum(op.copies > 1 for op in history.ops),
        answers=sum(len(op.answers) for op in history.ops),
        transport_errors=history.transport_errors,
        violations=counts,
        total_violations=sum(counts.values()),
        samples=found.samples + history.unexpected[:10],
        server_log=str(log_path) if log_path.exists() else "",
        phases=phases.seconds,
    )


class _Phases:
    """Wall seconds of each phase of a run (where a slow run spends its time)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.monotonic()

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(now - self._last, 1)
        self._last = now


# --- setup --------------------------------------------------------------------------------------
def _setup(base_url: str, secret: str, options: BankOptions) -> Market:
    """Merchants and buyers through the API (the seed top-ups are sent by ``_seed_ops``)."""
    headers = {"Authorization": f"Bearer {secret}"}
    buyers_wanted = options.buyers or max(2 * options.clients, 4)
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        merchants = [
            _created(
                http,
                "/v1/merchants",
                {"category": "books", "country": "DE", "settlement_currency": CURRENCY},
                f"bank-setup-merchant-{i}",
            )
            for i in range(options.merchants)
        ]
        buyers = [
            _created(http, "/v1/customers", {"name": f"Buyer {i}"}, f"bank-setup-buyer-{i}")
            for i in range(buyers_wanted)
        ]
    return Market(base_url, secret, tuple(buyers), tuple(merchants))


def _created(http: httpx.Client, path: str, body: dict[str, object], key: str) -> str:
    response = http.post(path, json=body, headers={"Idempotency-Key": key})
    if response.status_code != 201:
        raise RuntimeError(f"setup {path}: {response.status_code} {response.text[:300]}")
    return str(response.json()["id"])


def _seed_ops(market: Market) -> Iterator[Op]:
    """Fund every wallet, then settle the card channel so the client reserve holds the money
    (withdrawals draw on it)."""
    with httpx.Client(base_url=market.base_url, headers=market.headers, timeout=60) as http:
        for buyer in market.buyers:
            op = Op(
                "top_up",
                f"bank-setup-top-up-{buyer}",
                f"/v1/customers/{buyer}/top_ups",
                {"amount": SEED_FUNDS_MINOR, "currency": CURRENCY},
                buyer,
            )
            response = http.post(op.path, json=op.body, headers={"Idempotency-Key": op.key})
            op.answers.append((response.status_code, response.json()))
            op.settle()
            if not op.acknowledged:
                raise RuntimeError(f"setup top-up: {response.status_code} {response.text[:300]}")
            yield op
        settled = {
            "kind": "channel_settlement",
            "channel": "card-acquirer",
            "amount": SEED_FUNDS_MINOR * len(market.buyers),
            "fee": 0,
            "currency": CURRENCY,
        }
        response = http.post(
            "/v1/settlement_runs", json=settled, headers={"Idempotency-Key": "bank-setup-settle"}
        )
        if response.status_code != 201:
            raise RuntimeError(f"setup settlement: {response.status_code} {response.text[:300]}")


# --- load ---------------------------------------------------------------------------------------
def _load(
    server: ServeProcess, market: Market, history: History, options: BankOptions, track: Track
) -> float:
    """The clients for ``seconds`` of server up time (and the killer, if asked); the wall
    time they took."""
    stop = threading.Event()
    clients = [
        BankClient(
            n,
            market,
            history,
            options.seed,
            retry=options.kill_every is not None,
            retry_deadline_s=options.retry_deadline_s,
        )
        for n in range(options.clients)
    ]
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in clients]
    killer = _Killer(server, options)
    started = time.monotonic()
    for t in threads:
        t.start()
    killer.start(stop)
    total = max(int(options.seconds), 1)
    up_s, shown, last = 0.0, 0, time.monotonic()
    with track(f"bank: {options.clients} clients, {options.workers} worker(s)", total) as advance:
        while up_s < options.seconds or not killer.done():
            time.sleep(0.1)
            now = time.monotonic()
            up_s += 0 if killer.restarting.is_set() else now - last
            last = now
            if min(int(up_s), total) > shown:
                advance(min(int(up_s), total) - shown)
                shown = min(int(up_s), total)
    stop.set()
    killer.join()
    for t in threads:
        t.join()
    return time.monotonic() - started


class _Killer:
    """SIGKILL and restart the server at random moments of its up time (uniform in 0.5–1.5 ×
    ``kill_every``), ``kills`` times or until stopped."""

    def __init__(self, server: ServeProcess, options: BankOptions) -> None:
        self.server = server
        self.every_s = options.kill_every
        self.kills = options.kills
        self.rng = random.Random(f"kill:{options.seed}")
        self.restarting = threading.Event()
        self._thread: threading.Thread | None = None

    def done(self) -> bool:
        """No kill is still owed (a kill in progress is owed until its restart is ready)."""
        if self.every_s is None or self.kills is None:
            return not self.restarting.is_set()
        return self.server.kills >= self.kills and not self.restarting.is_set()

    def start(self, stop: threading.Event) -> None:
        if self.every_s is not None:
            self._thread = threading.Thread(target=self._run, args=(stop,), daemon=True)
            self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _run(self, stop: threading.Event) -> None:
        assert self.every_s is not None
        while self.kills is None or self.server.kills < self.kills:
            if stop.wait(self.every_s * self.rng.uniform(0.5, 1.5)):
                return
            self.restarting.set()
            try:
                self.server.restart()
            finally:
                self.restarting.clear()


# --- verdict ------------------------------------------------------------------------------------
def _judge(
    url: str, server: ServeProcess, market: Market, history: History, options: BankOptions
) -> Violations:
    found = Violations()
    found.server_errors += history.server_errors
    replay_all(market, history, found, options.seed, options.replay_sample)
    check_bursts(history, found)
    check_balances(market, history, found)
    with httpx.Client(base_url=server.base_url, headers=market.headers, timeout=60) as http:
        tenant = str(http.get("/v1/ping").json()["tenant"])
    engine = make_engine(url)
    try:
        check_books(engine, tenant, history, found)
    finally:
        engine.dispose()
    return found


def _check_cli(url: str, checkpoints: Path | None, found: Violations) -> None:
    """``embedfin check`` (the books balance, every invariant) and ``embedfin audit verify``
    (against the signed checkpoints the server's worker wrote, when it wrote any)."""
    checked = run_cli("check", "--db", url, "--json")
    if not checked.ok:
        found.flag("check_failed", checked.stdout[-800:] or checked.stderr[-800:])
    anchors = ["--checkpoints", str(checkpoints)] if checkpoints and checkpoints.exists() else []
    verified = run_cli("audit", "verify", "--db", url, *anchors)
    if not verified.ok:
        found.flag("audit_failed", verified.stdout[-800:] or verified.stderr[-800:])


@contextmanager
def quiet_track(_label: str, _total: int) -> Iterator[Callable[[int], None]]:
    """A ``Track`` that shows nothing (tests)."""
    yield lambda _n: None


def print_bank(result: BankResult, as_json: bool) -> None:
    """The figures and every violation count; the last stdout line is one JSON object."""
    import dataclasses
    import json

    from rich.console import Console
    from rich.table import Table

    figures = dataclasses.asdict(result)
    if not as_json:
        table = Table(title=f"bench bank ({result.database}, {result.workers} worker(s))")
        table.add_column("figure")
        table.add_column("value", justify="right")
        for key, value in figures.items():
            if key not in ("violations", "samples"):
                table.add_row(key, str(value))
        for name, count in result.violations.items():
            table.add_row(name, f"[red]{count}[/red]" if count else "0")
        console = Console()
        console.print(table)
        for sample in result.samples:
            console.print(f"[red]✗[/red] {sample}", markup=False, highlight=False)
    print(json.dumps(figures))
