"""The main job: a fresh marketplace on embedded SQLite, its API and live dashboard, and a few
weeks of simulated trade flowing through them.

``Demo.start`` creates the database, a tenant with an operator key and starts the API (with the
dashboard under ``/dashboard``) on localhost. ``Demo.simulate`` runs the ``fused`` scenario for
that tenant on the same ledger — the simulated days are the ones before today, on a clock that
then hands over to the wall clock, so what people do in the storefront afterwards happens now,
after the simulated history. ``Demo.check`` runs the full invariant check.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

import uvicorn

from embedfin.api import auth
from embedfin.api.app import create_app
from embedfin.api.platform import ApiSettings, Platform
from embedfin.client import Client
from embedfin.compliance.aml import watchlist
from embedfin.core.clock import HandoverClock
from embedfin.credit.service import ensure_champion
from embedfin.db.engine import DEFAULT_DATA_DIR, make_engine
from embedfin.db.migrate import upgrade
from embedfin.ledger.check import CheckReport
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.processors import default_channels
from embedfin.payments.channels.routing import Router
from embedfin.progress import Advance
from embedfin.security import audit_checkpoints
from embedfin.sim.engine import DAY_NS, Report, Simulation
from embedfin.sim.scenario import Scenario, load

DEMO_DB = "demo.db"
SHOPPER_TOP_UPS = (120_000, 120_000, 120_000)  # minor units of the scenario's currency
FUNDER_DEPOSIT = 5_000_000


#: Sign-ups whose names the shipped list holds: one listed person, one namesake of another.
LISTED_SIGN_UPS = ("Long Haitao", "Boris Zheleznov")


def fresh_demo_url(folder: Path = DEFAULT_DATA_DIR) -> str:
    """A new, empty demo database (an earlier demo's is removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DEMO_DB
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    anchors = audit_checkpoints.beside(path)  # the old audit log's checkpoints go with it
    for stale in (anchors, audit_checkpoints.public_keys_path(anchors)):
        stale.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def free_port(preferred: int, host: str = "127.0.0.1") -> int:
    """``preferred`` if nothing listens there, else a free port the system picks."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free TCP port")


@dataclass(frozen=True, slots=True)
class Keys:
    tenant: str
    operator: str
    merchant: str | None = None
    merchant_id: str | None = None


class Demo:
    def __init__(self, url: str, scenario: Scenario, host: str = "127.0.0.1", port: int = 8000):
        self.url = url
        self.scenario = scenario
        self.host = host
        self.port = port
        today = time.time_ns() // DAY_NS * DAY_NS
        self.clock = HandoverClock(today - scenario.days * DAY_NS)
        self.ledger = Ledger.open(url, self.clock)
        channels = default_channels(scenario.seed)
        for channel in channels:
            channel.latency_ms = 0
        self.router = Router(channels, exploration=0.05, seed=scenario.seed)
        # The worker (auto-confirmation, webhooks) starts when the simulated days are over: the
        # simulation confirms its own orders day by day.
        self.platform = Platform(self.ledger, ApiSettings(run_worker=False), router=self.router)
        self.app = create_app(self.platform)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.keys: Keys | None = None
        self.shopper: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- the platform -------------------------------------------------------------------------
    def start(self) -> Keys:
        """Create the tenant and its operator key; serve the API and dashboard."""
        upgrade(make_engine(self.url))
        now = self.clock.now_ns()
        with self.ledger.transaction() as tx:
            tenant = auth.create_tenant(tx.conn, "Demo marketplace", now)
            _, secret = auth.create_key(tx.conn, tenant, auth.Role.OPERATOR, "demo operator", now)
        self.keys = Keys(tenant, secret)
        config = uvicorn.Config(
            self.app, host=self.host, port=self.port, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="embedfin-demo-server")
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API server did not start on {self.base_url}")
            time.sleep(0.05)
        self._stock(secret)
        return self.keys

    def _stock(self, secret: str) -> None:
        """Through the API: a buyer for the storefront with money in the wallet, lending cash
        from the platform's funder, so that installments can be taken, and the shipped
        synthetic sanctions list with two sign-ups on it (the Screening page's hits)."""
        currency = self.scenario.currency
        with Client(secret, self.base_url) as api:
            listed = watchlist.SHIPPED.read_text(encoding="utf-8")
            api.load_watchlist("synthetic sanctions and PEPs", listed, idempotency_key="demo-list")
            for n, name in enumerate(LISTED_SIGN_UPS):
                api.create_customer(name=name, idempotency_key=f"demo-listed-{n}")
            shopper = api.create_customer(name="Demo Shopper", idempotency_key="demo-shopper")
            for n, amount in enumerate(SHOPPER_TOP_UPS):
                api.top_up(shopper.id, amount, currency, idempotency_key=f"demo-top-up-{n}")
            api.request(
                "POST",
                "/v1/funder_deposits",
                json={"amount": FUNDER_DEPOSIT, "currency": currency},
                idempotency_key="demo-funder-deposit",
            )
        self.shopper = shopper.id

    def simulate(self, progress: Callable[[str, int], AbstractContextManager[Advance]]) -> Report:
        """The scenario's days for the demo tenant, then live time and the worker."""
        assert self.keys is not None, "start() first"
        report = Simulation(
            self.scenario, ledger=self.ledger, tenant=self.keys.tenant, router=self.router
        ).run(progress)
        self.clock.go_live()
        ensure_champion(self.ledger)  # the bootstrap scorecard, before anyone waits
        self.app.state.worker.start()
        merchant_id = "m-0"
        now = self.clock.now_ns()
        with self.ledger.transaction() as tx:
            _, merchant_secret = auth.create_key(
                tx.conn, self.keys.tenant, auth.Role.MERCHANT, "demo merchant", now, merchant_id
            )
        self.keys = replace(self.keys, merchant=merchant_secret, merchant_id=merchant_id)
        return report

    def check(self) -> CheckReport:
        from embedfin.dashboard.queries.health import ledger_check

        with self.ledger.reader() as conn:
            return ledger_check(conn)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.app.state.worker.stop()
        self.ledger.close()


def scenario(consumers: int | None, days: int | None, seed: int | None) -> Scenario:
    return load("fused").scaled(consumers=consumers, days=days, seed=seed)
