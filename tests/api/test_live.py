"""The app under uvicorn on loopback: the SDK against it, and Schemathesis over every operation.

Schemathesis generates requests from the OpenAPI document and checks every answer: no 5xx, the
status code, content type, headers and body all as documented. Every operation of the schema
runs, on SQLite (``EMBEDFIN_SCHEMATHESIS_EXAMPLES`` cases each) and on PostgreSQL (fewer:
``EMBEDFIN_SCHEMATHESIS_PG_EXAMPLES``; text with NUL bytes fails there, not on SQLite); a test
afterwards checks that no operation was left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from embedfin.api.app import create_app
from embedfin.api.platform import Platform
from embedfin.client import ApiError, Client, verify_webhook
from embedfin.core.clock import ManualClock
from embedfin.db.scratch import scratch_database
from tests.api.conftest import LiveServer, Tenant, make_platform, make_tenant
from tests.conftest import fresh_sqlite

EXAMPLES = int(os.environ.get("EMBEDFIN_SCHEMATHESIS_EXAMPLES", "15"))
PG_EXAMPLES = int(os.environ.get("EMBEDFIN_SCHEMATHESIS_PG_EXAMPLES", "6"))


#: The generated tests and the check that they covered every operation share one pytest-xdist
#: worker, in definition order (``python3 dev.py test`` runs ``--dist loadgroup``).
pytestmark = pytest.mark.xdist_group("live")
#: The schema is generated on the first request: a loaded CI machine can take longer than
#: Schemathesis's default 10 s to answer it.
SCHEMA_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def live_platform(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Platform]]:
    url = fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("live"))
    platform = make_platform(url, ManualClock(1_795_000_000 * 10**9), rate_per_s=10_000.0)
    with LiveServer(create_app(platform)) as server:
        yield server, platform
    platform.ledger.close()


@pytest.fixture(scope="module")
def live(live_platform: tuple[LiveServer, Platform]) -> tuple[LiveServer, Tenant]:
    """The tenant the schema fuzz drives: any setting of its may be anything afterwards."""
    server, platform = live_platform
    return server, make_tenant(platform, "Live")


@pytest.fixture
def fresh(live_platform: tuple[LiveServer, Platform]) -> tuple[LiveServer, Tenant]:
    """A tenant of its own on the same server, for a test that starts from the defaults."""
    server, platform = live_platform
    return server, make_tenant(platform, "Fresh")


@pytest.fixture(scope="module")
def live_schema(live: tuple[LiveServer, Tenant]) -> schemathesis.BaseSchema:
    server, _ = live
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", timeout=SCHEMA_TIMEOUT_S)


@pytest.fixture(scope="module")
def live_pg(pg_server: str) -> Iterator[tuple[LiveServer, Tenant]]:
    with scratch_database(pg_server, "live") as url:
        platform = make_platform(url, ManualClock(1_795_000_000 * 10**9), rate_per_s=10_000.0)
        tenant = make_tenant(platform, "Live")
        with LiveServer(create_app(platform)) as server:
            yield server, tenant
        platform.ledger.close()


@pytest.fixture(scope="module")
def live_pg_schema(live_pg: tuple[LiveServer, Tenant]) -> schemathesis.BaseSchema:
    server, _ = live_pg
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", timeout=SCHEMA_TIMEOUT_S)


schema = schemathesis.pytest.from_fixture("live_schema")
pg_schema = schemathesis.pytest.from_fixture("live_pg_schema")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_conforms_to_its_schema(
    case: schemathesis.Case[Any], live: tuple[LiveServer, Tenant]
) -> None:
    _, tenant = live
    CALLS.append(case.operation.label)
    case.call_and_validate(headers=tenant.headers, checks=CHECKS)


@pytest.mark.postgres
@pg_schema.parametrize()
@settings(
    max_examples=PG_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_conforms_to_its_schema_on_postgresql(
    case: schemathesis.Case[Any], live_pg: tuple[LiveServer, Tenant]
) -> None:
    _, tenant = live_pg
    PG_CALLS.append(case.operation.label)
    case.call_and_validate(headers=tenant.headers, checks=CHECKS)


CALLS: list[str] = []
PG_CALLS: list[str] = []


def _every_operation(server: LiveServer) -> set[str]:
    """Every operation the app documents, labelled as Schemathesis labels them."""
    document = httpx.get(f"{server.url}/openapi.json").json()
    verbs = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    return {
        f"{verb.upper()} {path}"
        for path, item in document["paths"].items()
        for verb in item
        if verb in verbs
    }


@pytest.mark.parametrize(
    ("store", "fixture"),
    [("sqlite", "live"), pytest.param("postgresql", "live_pg", marks=pytest.mark.postgres)],
)
def test_schemathesis_ran_every_operation_of_the_schema(
    store: str, fixture: str, request: pytest.FixtureRequest
) -> None:
    """Runs after the generated tests (definition order): none of the schema may be left out."""
    calls = CALLS if store == "sqlite" else PG_CALLS
    if not calls:
        pytest.skip("run together with the generated Schemathesis tests")
    server, _ = request.getfixturevalue(fixture)
    every = _every_operation(server)
    assert len(every) >= 60
    assert set(calls) == every
    assert len(calls) >= 3 * len(every)


def test_the_sdk_runs_a_checkout_end_to_end(fresh: tuple[LiveServer, Tenant]) -> None:
    server, tenant = fresh
    with Client(tenant.secret, server.url) as api:
        assert api.ping().tenant == tenant.id
        merchant = api.create_merchant(
            category="books", country="FR", settlement_currency="EUR", kyc_status="verified"
        )
        buyer = api.create_customer(name="Grace Hopper", email="grace@example.org")
        api.top_up(buyer.id, 5_000, "EUR")
        body = {
            "customer": buyer.id,
            "merchant": merchant.id,
            "currency": "EUR",
            "lines": [{"sku": "compiler", "quantity": 2, "unit_price": 1_200}],
        }
        order = api.checkout(idempotency_key="sdk-1", **body)
        assert api.checkout(idempotency_key="sdk-1", **body).id == order.id
        assert order.status == "paid"
        assert api.ship(order.id, "UPS-9").status == "shipped"
        done = api.confirm(order.id)
        assert done.amount_released + done.commission == 2_400
        assert order.id in [o.id for o in api.list_orders()]
        assert api.customer_balance(buyer.id, "EUR").available == 2_600
        with pytest.raises(ApiError) as refused:
            api.top_up(buyer.id, -1, "EUR")
        assert (refused.value.status, refused.value.code) == (422, "invalid_request")
        with pytest.raises(ApiError) as missing:
            api.get_order("ord_missing")
        assert missing.value.code == "not_found"
        endpoint = api.create_webhook_endpoint("http://127.0.0.1:9/h", ["*"])
        assert endpoint.secret is not None
        assert api.rotate_webhook_secret(endpoint.id).secret != endpoint.secret


def test_the_sdk_screens_a_merchant_and_decides_its_case(fresh: tuple[LiveServer, Tenant]) -> None:
    from embedfin.compliance.aml.watchlist import SHIPPED

    server, tenant = fresh
    with Client(tenant.secret, server.url) as api:
        loaded = api.load_watchlist("synthetic", SHIPPED.read_text(encoding="utf-8"))
        assert loaded.active
        merchant = api.create_merchant(category="books", country="DE", settlement_currency="EUR")
        party = api.record_party(
            "merchant",
            merchant.id,
            name="Northern Pearl Logistics GmbH",
            kind="organization",
            country="DE",
        )
        assert party.held is not None
        (hit,) = [h for h in api.screening_hits(status="open") if h.party_id == merchant.id]
        assert api.risk_case(hit.case).kind == "sanctions_hit"
        api.decide_case(hit.case, "release", "another company: registry number differs")
        assert api.party("merchant", merchant.id).held is None


def test_sdk_retries_reuse_one_idempotency_key() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.headers.get("Idempotency-Key")))
        if len(seen) == 1:
            raise httpx.ConnectError("connection reset", request=request)
        if len(seen) == 2:
            return httpx.Response(503, json={"code": "unavailable"})
        if len(seen) == 3:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"code": "rate_limited"})
        return httpx.Response(
            201,
            json={
                "object": "customer",
                "id": "cus_1",
                "name": "A*",
                "phone": None,
                "email": None,
                "created": None,
            },
        )

    with Client("efk_x", transport=httpx.MockTransport(handler), backoff_s=0.001) as api:
        assert api.create_customer(name="Ada").id == "cus_1"
    assert len(seen) == 4
    assert len({key for _, key in seen}) == 1
    assert seen[0][1] is not None
    with (
        Client(
            "efk_x",
            transport=httpx.MockTransport(lambda r: httpx.Response(503, json={})),
            max_retries=2,
            backoff_s=0.001,
        ) as api,
        pytest.raises(ApiError) as failed,
    ):
        api.ping()
    assert failed.value.status == 503


def test_the_sdk_ships_the_webhook_verifier() -> None:
    from embedfin.client.signing import header_value

    header = header_value(["whsec_a"], 100, b"{}")
    assert verify_webhook(b"{}", header, "whsec_a", now=100) == 100


def test_the_sdk_sets_the_rule_pack_runs_the_monitor_and_reads_reports(
    fresh: tuple[LiveServer, Tenant],
) -> None:
    server, tenant = fresh
    with Client(tenant.secret, server.url) as api:
        assert api.rule_pack().id == "prc-pboc-2016-3"
        assert api.set_rule_pack("us").deadline == "15 calendar days"
        with pytest.raises(ApiError) as bad:
            api.set_rule_pack(pack={"id": "x"})
        assert bad.value.code == "rule_pack_invalid"
        assert api.rule_pack().id == "us-fincen-ctr"
        run = api.run_monitor(days=7)
        assert run.new_alerts == len(api.aml_alerts())
        assert all(r.status in ("due", "filed") for r in api.aml_reports())
        with pytest.raises(ApiError) as missing:
            api.file_report("rep_missing", "nothing")
        assert missing.value.code == "not_found"


def test_the_sdk_verifies_a_buyer(fresh: tuple[LiveServer, Tenant]) -> None:
    server, tenant = fresh
    with Client(tenant.secret, server.url) as api:  # a fresh tenant's pack: none
        buyer = api.create_customer(name="Ada Lovelace")
        standing = api.verify_buyer(buyer.id, ["bank_card", "mobile_carrier", "tax_records"])
        assert (standing.level, standing.remaining) == ("any", None)
        assert api.verification(buyer.id).channels == sorted(standing.channels)
