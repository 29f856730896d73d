"""API fixtures: a platform on each store, two tenants with operator keys, a live server."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from embedfin.api import auth
from embedfin.api.app import create_app
from embedfin.api.platform import ApiSettings, Platform
from embedfin.core.clock import ManualClock
from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade
from embedfin.ledger.service import Ledger


@dataclass
class Tenant:
    id: str
    key_id: str
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


@dataclass
class Api:
    app: FastAPI
    platform: Platform
    client: TestClient
    a: Tenant
    b: Tenant
    clock: ManualClock

    def key(self, tenant: Tenant, role: auth.Role, merchant_id: str | None = None) -> Tenant:
        with self.platform.ledger.transaction() as tx:
            key, secret = auth.create_key(
                tx.conn, tenant.id, role, f"{role} key", self.clock.now_ns(), merchant_id
            )
        return Tenant(tenant.id, key.key_id, secret)

    def post(self, tenant: Tenant, path: str, body: Any = None, key: str | None = None) -> Any:
        """POST as the SDK does: with ``key`` as the Idempotency-Key, or a fresh one."""
        headers = tenant.headers | {"Idempotency-Key": key or f"test-{uuid.uuid4()}"}
        return self.client.post(path, json=body if body is not None else {}, headers=headers)

    def post_raw(self, tenant: Tenant, path: str, content: str | bytes, **headers: str) -> Any:
        """POST ``content`` as it is (no key unless given, ``application/json``)."""
        sent = tenant.headers | {"Content-Type": "application/json"} | headers
        return self.client.post(path, content=content, headers=sent)

    def get(self, tenant: Tenant, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=tenant.headers)

    def ok(self, response: Any, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    # --- a small marketplace -------------------------------------------------------------------
    def merchant(self, tenant: Tenant, **overrides: Any) -> str:
        """A merchant the operator has verified (registration alone leaves it pending)."""
        body = {
            "category": "books",
            "country": "DE",
            "settlement_currency": "EUR",
            "kyc_status": "verified",
        } | overrides
        return str(self.ok(self.post(tenant, "/v1/merchants", body), 201)["id"])

    def customer(self, tenant: Tenant, funds: int = 0) -> str:
        body = {"name": "Ada Lovelace", "phone": "+44 20 7946 0958", "email": "ada@example.org"}
        cid = str(self.ok(self.post(tenant, "/v1/customers", body), 201)["id"])
        if funds:
            top_up = {"amount": funds, "currency": "EUR"}
            self.ok(self.post(tenant, f"/v1/customers/{cid}/top_ups", top_up), 201)
        return cid

    def checkout(self, tenant: Tenant, customer: str, merchant: str, price: int = 2_500) -> str:
        body = {
            "customer": customer,
            "merchant": merchant,
            "currency": "EUR",
            "lines": [{"sku": "book", "quantity": 1, "unit_price": price}],
        }
        return str(self.ok(self.post(tenant, "/v1/checkouts", body), 201)["id"])


def make_tenant(platform: Platform, name: str) -> Tenant:
    now = platform.clock.now_ns()
    with platform.ledger.transaction() as tx:
        tenant = auth.create_tenant(tx.conn, name, now)
        key, secret = auth.create_key(tx.conn, tenant, auth.Role.OPERATOR, "operator", now)
    return Tenant(tenant, key.key_id, secret)


#: Tests deliver webhooks to receivers on loopback, over http: the development settings.
LOOPBACK = ("127.0.0.1", "::1")


def loopback_only(host: str, port: int, *_: Any) -> list[tuple[Any, ...]]:
    """The tests' resolver: loopback literals only, so no test ever delivers elsewhere."""
    if host not in LOOPBACK:
        raise socket.gaierror(f"tests resolve only {LOOPBACK}, not {host}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))]


def make_platform(url: str, clock: ManualClock, **settings: Any) -> Platform:
    engine = make_engine(url)
    upgrade(engine)
    options: dict[str, Any] = {
        "run_worker": False,
        "webhook_allow_http": True,
        "webhook_allow": LOOPBACK,
    }
    platform = Platform(Ledger(engine, clock), ApiSettings(**(options | settings)))
    platform.webhooks.resolver = loopback_only
    return platform


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    clock = ManualClock(1_795_000_000 * 10**9)
    platform = make_platform(db_url, clock)
    for channel in platform.router.channels.values():  # approvals must not hang on random ids
        channel.approval_rate = 1.0  # type: ignore[attr-defined]
    app = create_app(platform)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(
            app,
            platform,
            client,
            make_tenant(platform, "Tenant A"),
            make_tenant(platform, "Tenant B"),
            clock,
        )
    platform.ledger.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """The app under uvicorn on a loopback port, in a thread of this process."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
