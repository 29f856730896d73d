"""``embedfin bench api``: the API under load from another process, against its own baseline.

The server runs as in production (``uvicorn embedfin.api.asgi:app`` with uvloop and httptools,
one worker, the background worker on, no access log) on a scratch database on loopback. A
separate driver process keeps ``concurrency`` requests in flight with one keep-alive connection
each: first ``requests`` authenticated ``GET /v1/ping`` (the baseline: the same app, auth and
middleware, no database write), then ``requests`` ``POST /v1/checkouts`` (place an order and
pay it from the buyer's wallet into escrow; one Idempotency-Key each). ``ratio`` is checkout
requests per second over baseline requests per second in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from embedfin.api import auth
from embedfin.bootstrap import Services
from embedfin.commerce import customers
from embedfin.core.money import Money
from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade
from embedfin.db.scratch import scratch_database
from embedfin.ledger.service import Ledger
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.security.crypto import load_cipher

MERCHANTS = 20
BUYERS = 200


@dataclass(frozen=True, slots=True)
class ApiBenchResult:
    database: str
    requests: int
    concurrency: int
    checkout_rps: float
    baseline_rps: float
    ratio: float
    p50_ms: float
    p99_ms: float
    baseline_p50_ms: float
    baseline_p99_ms: float
    errors: int
    server_rss_mb: float


def _seed(url: str, orders: int, buyer_count: int = BUYERS) -> tuple[str, list[str], list[str]]:
    ledger = Ledger(make_engine(url))
    now = ledger.clock.now_ns()
    cipher = load_cipher()
    with ledger.transaction() as tx:
        tenant = auth.create_tenant(tx.conn, "bench", now)
        _, secret = auth.create_key(tx.conn, tenant, auth.Role.OPERATOR, "bench", now)
    services = Services(ledger, cipher=cipher).tenant(tenant)
    shop = services.checkout
    merchants = [f"mer_bench{i:04d}" for i in range(MERCHANTS)]
    for m in merchants:
        shop.register_merchant(m, category="books", country="DE", settlement_currency="EUR")
    buyers = [f"cus_bench{i:04d}" for i in range(buyer_count)]
    wallets = services.wallets
    per_buyer = (orders // buyer_count + 2) * 1_000
    with ledger.transaction() as tx:
        for b in buyers:
            customers.insert_customer(
                tx.conn, cipher, customers.Customer(tenant, b, "Bench Buyer", None, None, now)
            )
            wallets.top_up(b, Money(per_buyer, "EUR"), "card-acquirer", f"seed-{b}")
    settle_channel(
        ledger,
        tenant,
        "card-acquirer",
        Money(per_buyer * buyer_count, "EUR"),
        Money(0, "EUR"),
        "seed",
    )
    ledger.close()
    return secret, merchants, buyers


def run(
    url: str | None,
    requests: int,
    concurrency: int,
    *,
    env: dict[str, str] | None = None,
    buyer_count: int = BUYERS,
) -> ApiBenchResult:
    """Seed a scratch database, serve it, and drive the baseline and the checkouts at it
    (``env``: extra settings for the server, ``buyer_count``: buyers the checkouts spread over)."""
    with scratch_database(url, "api") as db:
        engine = make_engine(db)
        upgrade(engine)
        engine.dispose()
        secret, merchants, buyers = _seed(db, requests, buyer_count)
        port = _free_port()
        server = _start_server(db, port, env or {})
        try:
            _wait_ready(f"http://127.0.0.1:{port}", server)
            spec = {
                "host": "127.0.0.1",
                "port": port,
                "secret": secret,
                "requests": requests,
                "concurrency": concurrency,
                "merchants": merchants,
                "buyers": buyers,
            }
            driver = subprocess.run(
                [sys.executable, "-m", "embedfin.bench.api"],
                input=json.dumps(spec),
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(driver.stdout.strip().splitlines()[-1])
            rss = _rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return ApiBenchResult(
        database=make_engine(db).dialect.name if url else "sqlite",
        requests=requests,
        concurrency=concurrency,
        checkout_rps=figures["checkout_rps"],
        baseline_rps=figures["baseline_rps"],
        ratio=round(figures["checkout_rps"] / figures["baseline_rps"], 3),
        p50_ms=figures["p50_ms"],
        p99_ms=figures["p99_ms"],
        baseline_p50_ms=figures["baseline_p50_ms"],
        baseline_p99_ms=figures["baseline_p99_ms"],
        errors=figures["errors"],
        server_rss_mb=rss,
    )


def _start_server(db: str, port: int, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    """The API as in production, one worker, on ``db``, on loopback."""
    env = (
        os.environ
        | extra
        | {
            "EMBEDFIN_DATABASE_URL": db,
            # the load comes from one key: lift its rate limit, keep every other production default
            "EMBEDFIN_API_RATE_PER_S": "1000000",
            "EMBEDFIN_API_BURST": "1000000",
        }
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "embedfin.api.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
    )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_ready(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the API server exited during start-up")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the API server did not become ready")


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return 0.0
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


# --- the driver (a separate process) -------------------------------------------------------------
class _Connection:
    """One keep-alive HTTP/1.1 connection. A load generator must cost little next to the server
    it measures (both share the machine), so this speaks just enough HTTP: fixed requests,
    Content-Length bodies, as uvicorn answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, head: bytes, body: bytes = b"") -> int:
        self.writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status = int((await self.reader.readline()).split(b" ", 2)[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def _load(spec: dict[str, Any], checkout: bool) -> tuple[float, list[float], int]:
    n, concurrency = spec["requests"], spec["concurrency"]
    host, port = spec["host"], spec["port"]
    auth_header = f"Authorization: Bearer {spec['secret']}\r\n".encode()
    ping = b"GET /v1/ping HTTP/1.1\r\nHost: bench\r\n" + auth_header
    post = (
        b"POST /v1/checkouts HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        + auth_header
    )
    latencies: list[float] = []
    errors = 0

    async def one(conn: _Connection, numbers: Any) -> None:
        nonlocal errors
        for i in numbers:
            t0 = time.perf_counter()
            if checkout:
                body = json.dumps(
                    {
                        "customer": spec["buyers"][i % len(spec["buyers"])],
                        "merchant": spec["merchants"][i % len(spec["merchants"])],
                        "currency": "EUR",
                        "lines": [{"sku": "book", "quantity": 1, "unit_price": 1_000}],
                    }
                ).encode()
                key = f"Idempotency-Key: {uuid.uuid4()}\r\n".encode()
                ok = await conn.request(post + key, body) == 201
            else:
                ok = await conn.request(ping) == 200
            latencies.append(time.perf_counter() - t0)
            errors += not ok

    connections = [await _Connection.open(host, port) for _ in range(concurrency)]
    try:
        warm = iter(range(n, n + min(n, 200)))  # warm-up: connections, caches, first queries
        await asyncio.gather(*(one(c, warm) for c in connections))
        latencies.clear()
        errors = 0
        numbers = iter(range(n))
        started = time.perf_counter()
        await asyncio.gather(*(one(c, numbers) for c in connections))
        seconds = time.perf_counter() - started
    finally:
        for c in connections:
            c.close()
    return seconds, sorted(latencies), errors


def _pct(sorted_values: list[float], q: float) -> float:
    return round(sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))] * 1000, 2)


def drive(spec: dict[str, Any]) -> dict[str, Any]:
    base_s, base_lat, base_err = asyncio.run(_load(spec, checkout=False))
    s, lat, err = asyncio.run(_load(spec, checkout=True))
    return {
        "baseline_rps": round(spec["requests"] / base_s, 1),
        "baseline_p50_ms": _pct(base_lat, 0.5),
        "baseline_p99_ms": _pct(base_lat, 0.99),
        "checkout_rps": round(spec["requests"] / s, 1),
        "p50_ms": _pct(lat, 0.5),
        "p99_ms": _pct(lat, 0.99),
        "errors": base_err + err,
    }


if __name__ == "__main__":
    import gc

    gc.disable()  # the driver's own pauses must not count as server latency (it runs briefly)
    print(json.dumps(drive(json.loads(sys.stdin.read()))))
