"""Group commit: concurrent wallet checkouts share a transaction yet answer one by one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from embedfin.api.group_commit import CheckoutJob
from embedfin.api.idempotency import fingerprint_digest
from embedfin.api.schemas.orders import CheckoutCreate
from embedfin.bootstrap import check_all
from embedfin.core.errors import EmbedfinError
from embedfin.db.tables import orders
from tests.api.conftest import Api


def _jobs(api: Api, bodies: list[dict[str, Any]], keys: list[str]) -> list[CheckoutJob]:
    principal = api.platform.keys.verify(api.platform.ledger.reader, api.a.secret)
    jobs = []
    for body, key in zip(bodies, keys, strict=True):
        parsed = CheckoutCreate(**body)
        digest = fingerprint_digest({"instance": "/v1/checkouts", **parsed.model_dump()})
        order_id = f"ord_{key:0>26}"
        jobs.append(CheckoutJob(principal, (principal.key_id, key), digest, parsed, order_id))
    return jobs


def _outcome(job: CheckoutJob) -> int | str:
    error = job.future.exception()
    if error is not None:
        assert isinstance(error, EmbedfinError)
        return error.code
    return job.future.result()[0]


def test_one_batch_answers_each_request_and_keeps_failures_out(api: Api) -> None:
    merchant = api.merchant(api.a)
    rich, poor = api.customer(api.a, funds=10_000), api.customer(api.a, funds=1_500)

    def body(customer: str, price: int) -> dict[str, Any]:
        return {
            "customer": customer,
            "merchant": merchant,
            "currency": "EUR",
            "lines": [{"sku": "x", "quantity": 1, "unit_price": price}],
        }

    bodies = [
        body(rich, 1_000),
        body(poor, 1_000),  # fits
        body(poor, 1_000),  # the same buyer again: no longer fits
        body("cus_nobody", 10),
        body(rich, 2_000) | {"currency": "USD"},  # the merchant sells in EUR: named as such
        body(rich, 500),
    ]
    keys = ["k1", "k2", "k3", "k4", "k5", "k6"]
    jobs = _jobs(api, bodies, keys)
    api.platform.batcher.run_batch(jobs)
    assert [_outcome(j) for j in jobs] == [
        201,
        201,
        "insufficient_funds",
        "not_found",
        "currency_mismatch",
        201,
    ]
    with api.platform.ledger.reader() as conn:
        placed = conn.execute(select(func.count()).select_from(orders)).scalar_one()
        assert check_all(conn).ok
    assert placed == 3  # the refused checkouts left no order behind
    balance = api.ok(api.get(api.a, f"/v1/customers/{poor}/balance", currency="EUR"))
    assert balance["available"] == 500
    # the same keys again: every answer (success or refusal) is replayed, nothing runs twice
    again = _jobs(api, bodies, keys)
    api.platform.batcher.run_batch(again)
    assert again[0].future.result()[2] is True
    status, problem, replayed = again[2].future.result()
    assert (status, problem["code"], replayed) == (402, "insufficient_funds", True)
    with api.platform.ledger.reader() as conn:
        assert conn.execute(select(func.count()).select_from(orders)).scalar_one() == 3
    # a key reused with other parameters inside a batch is refused, the rest go on
    mixed = _jobs(api, [body(rich, 999), body(rich, 100)], ["k1", "k7"])
    api.platform.batcher.run_batch(mixed)
    assert [_outcome(j) for j in mixed] == ["idempotency_key_reused", 201]


def test_concurrent_checkouts_through_http(api: Api) -> None:
    merchant = api.merchant(api.a)
    buyers = [api.customer(api.a, funds=3_000) for _ in range(4)]

    def buy(n: int) -> int:
        body = {
            "customer": buyers[n % 4],
            "merchant": merchant,
            "currency": "EUR",
            "lines": [{"sku": "x", "quantity": 1, "unit_price": 1_000}],
        }
        return int(api.post(api.a, "/v1/checkouts", body, key=f"c-{n}").status_code)

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(buy, range(20)))
    assert statuses.count(201) == 12  # each buyer affords exactly three
    assert statuses.count(402) == 8
    for buyer in buyers:
        wallet = api.ok(api.get(api.a, f"/v1/customers/{buyer}/balance", currency="EUR"))
        assert wallet["available"] == 0
    with api.platform.ledger.reader() as conn:
        assert check_all(conn).ok
