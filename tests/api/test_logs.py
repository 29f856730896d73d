"""Logs never hold request bodies or SQL parameters: a small fuzz of hostile requests with
planted secrets, and errors nobody expected, with every log record captured."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from embedfin.api.failures import scrubbed_traceback
from embedfin.api.observability import JsonFormatter
from embedfin.commerce import customers as customer_store
from tests.api.conftest import Api

SECRET = "PLANTED-c0ffee-7f3a"

#: Routes a fuzz request goes to (``{id}`` becomes an id that does not exist).
PATHS = [
    "/v1/customers",
    "/v1/merchants",
    "/v1/checkouts",
    "/v1/orders",
    "/v1/customers/{id}/top_ups",
    "/v1/orders/{id}/reviews",
    "/v1/orders/{id}/refunds",
    "/v1/webhook_endpoints",
    "/v1/credit_lines",
    "/v1/reconciliations",
    "/v1/api_keys",
]
FIELDS = ["name", "text", "amount", "url", "email", "customer", "sku", "content", "category"]


#: The test's own HTTP client logs the requests it sends: not the server's logs.
CLIENT_LOGGERS = ("httpx", "httpcore")


def _records_text(records: list[logging.LogRecord]) -> str:
    """Everything a server-side record holds or a handler could print of it."""
    formatter, plain = JsonFormatter(), logging.Formatter()
    parts = []
    for record in records:
        if record.name.split(".")[0] in CLIENT_LOGGERS:
            continue
        parts.append(json.dumps(vars(record), default=repr))
        parts.append(formatter.format(record))
        if record.exc_info:
            parts.append(plain.formatException(record.exc_info))
    return "\n".join(parts)


def _planted(kind: int, field: str) -> str:
    """A body carrying the secret in one of the ways input goes wrong."""
    value = json.dumps(SECRET)
    return [
        f'{{"{field}": {value}}}',
        f'{{"{field}": "{SECRET}\\u0000"}}',
        f'{{"{field}": 1, "{field}": {value}}}',
        f'{{"{field}": {value}, ',
        f'{{"{field}": [{value}], "amount": "{SECRET}"}}',
        f'{{"{SECRET}": true}}',
        f'{{"{field}": "{SECRET}\\u202e", "amount": NaN}}',
    ][kind]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(PATHS),
    field=st.sampled_from(FIELDS),
    kind=st.integers(0, 6),
    keyed=st.booleans(),
)
def _fuzz(api: Api, path: str, field: str, kind: int, keyed: bool) -> None:
    concrete = path.replace("{id}", "ord_" + SECRET)
    headers = {"Idempotency-Key": f"k-{SECRET}-{kind}"} if keyed else {}
    answer = api.post_raw(api.a, f"{concrete}?q={SECRET}", _planted(kind, field), **headers)
    assert answer.status_code < 500, answer.text


def test_a_fuzz_of_bad_bodies_logs_none_of_their_content(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _fuzz(api)
    access = [r for r in caplog.records if r.name == "embedfin.access"]
    assert len(access) >= 40, "the access log logs every request"
    assert SECRET not in _records_text(caplog.records)


def _failing_insert(conn: Any, _cipher: Any, customer: Any) -> None:
    """A statement that fails with the customer's name as a parameter (PostgreSQL's message
    quotes it), then an error whose message is the name."""
    try:
        conn.execute(text("SELECT CAST(:name AS INTEGER)"), {"name": customer.name})
    except Exception as failed:
        raise RuntimeError(f"insert failed for {customer.name}") from failed
    raise RuntimeError(f"insert failed for {customer.name}")


def test_an_unexpected_error_logs_its_type_route_and_request_id_only(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(customer_store, "insert_customer", _failing_insert)
    answer = api.post(api.a, "/v1/customers", {"name": SECRET, "email": f"{SECRET}@example.org"})
    assert answer.status_code == 500
    problem = answer.json()
    assert (problem["code"], problem["detail"]) == ("internal_error", "internal error")
    assert problem["request_id"] == answer.headers["x-request-id"]
    assert SECRET not in answer.text
    assert SECRET not in _records_text(caplog.records)
    (failure,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    fields = failure.fields  # type: ignore[attr-defined]
    assert fields["error"] == "RuntimeError"
    assert fields["route"] == "/v1/customers"
    assert fields["request_id"] == problem["request_id"]
    assert "_failing_insert" in fields["traceback"]  # where it happened is kept
    assert failure.exc_info is None
    (access,) = [r for r in caplog.records if r.name == "embedfin.access"]
    assert access.fields["request_id"] == problem["request_id"]  # type: ignore[attr-defined]
    assert access.fields["status"] == 500  # type: ignore[attr-defined]


def test_the_scrubbed_traceback_names_types_and_frames_not_messages() -> None:
    def inner() -> None:
        raise KeyError(SECRET)

    try:
        try:
            inner()
        except KeyError as error:
            raise ValueError(SECRET) from error
    except ValueError as outer:
        shown = scrubbed_traceback(outer)
    assert SECRET not in shown
    assert "ValueError" in shown
    assert "KeyError" in shown
    assert "in inner" in shown


def test_library_log_exception_calls_are_formatted_without_messages() -> None:
    try:
        raise OSError(SECRET)
    except OSError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        record.exc_info = sys.exc_info()
    assert SECRET not in JsonFormatter().format(record)
