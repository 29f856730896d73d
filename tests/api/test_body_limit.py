"""Request bodies over their path's limit are refused with 413 before a route reads them."""

from __future__ import annotations

from collections.abc import Iterator

from embedfin.api.body_limit import DEFAULT_LIMIT, LIMITS
from tests.api.conftest import Api


def _chunks(total: int, size: int = 64 << 10) -> Iterator[bytes]:
    yield b'{"name": "'
    sent = 0
    while sent < total:
        yield b"a" * size
        sent += size
    yield b'"}'


def test_a_body_over_the_limit_is_refused_and_changes_nothing(api: Api) -> None:
    huge = '{"name": "' + "a" * (DEFAULT_LIMIT + 1) + '"}'
    refused = api.post_raw(api.a, "/v1/customers", huge, **{"Idempotency-Key": "big-1"})
    assert refused.status_code == 413
    assert refused.json()["code"] == "payload_too_large"
    assert refused.headers["content-type"].startswith("application/problem+json")
    headers = api.a.headers | {"Idempotency-Key": "big-2", "Content-Type": "application/json"}
    chunked = api.client.post("/v1/customers", content=_chunks(DEFAULT_LIMIT), headers=headers)
    assert chunked.status_code == 413
    assert api.ok(api.get(api.a, "/v1/customers"))["data"] == []


def test_a_body_under_the_limit_goes_through(api: Api) -> None:
    headers = api.a.headers | {"Idempotency-Key": "small", "Content-Type": "application/json"}
    small = api.client.post("/v1/customers", content=_chunks(1_000, 100), headers=headers)
    assert small.status_code == 422  # read whole and validated: a name of 1,000 characters
    assert small.json()["code"] == "invalid_request"


def test_a_list_may_be_larger_than_a_command(api: Api) -> None:
    assert LIMITS["/v1/aml/watchlists"] > DEFAULT_LIMIT + 300_000
    body = '{"name": "big", "ftm": "' + "a" * (DEFAULT_LIMIT + 200_000) + '"}'
    answer = api.post_raw(api.a, "/v1/aml/watchlists", body, **{"Idempotency-Key": "list-1"})
    assert answer.status_code == 422  # past the command limit, read, and refused by its schema
    assert answer.json()["code"] == "invalid_request"
