"""Field encryption, personal data at rest, the audit chain, rate limits, logs and metrics."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from embedfin.api.app import create_app
from embedfin.api.ratelimit import TokenBuckets
from embedfin.core.clock import ManualClock
from embedfin.core.errors import ConfigurationError
from embedfin.db.tables import (
    aml_parties,
    audit_log,
    customers,
    merchant_bank_accounts,
    wallet_movements,
)
from embedfin.security import audit
from embedfin.security.crypto import DecryptionFailed, FieldCipher, new_key_spec
from embedfin.security.rotation import rotate_all
from tests.api.conftest import Api, make_platform, make_tenant

OLD, NEW = new_key_spec("old"), new_key_spec("new")


@given(st.text(max_size=300), st.text(min_size=1, max_size=50))
def test_encryption_round_trips_and_binds_its_context(plain: str, context: str) -> None:
    cipher = FieldCipher.parse(OLD)
    sealed = cipher.encrypt(plain, context)
    assert cipher.decrypt(sealed, context) == plain
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(sealed, context + "x")


def test_tampering_unknown_keys_and_bad_configuration_fail() -> None:
    cipher = FieldCipher.parse(OLD)
    sealed = cipher.encrypt("+44 20 7946 0958", "ctx")
    body = sealed.rsplit(":", 1)[1]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(sealed.rsplit(":", 1)[0] + ":" + flipped, "ctx")
    with pytest.raises(DecryptionFailed):
        FieldCipher.parse(NEW).decrypt(sealed, "ctx")
    with pytest.raises(ConfigurationError):
        FieldCipher.parse("k1:" + base64.b64encode(b"short").decode())
    with pytest.raises(ConfigurationError):
        FieldCipher.parse("no-colon")
    with pytest.raises(ConfigurationError):
        FieldCipher.parse("")


def test_personal_data_is_encrypted_at_rest_and_keys_rotate(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)
    api.ok(
        api.post(
            a,
            f"/v1/merchants/{merchant}/bank_account",
            {"bank_token": "tok_secretbank99", "bank_last4": "4242"},
        )
    )
    buyer = api.customer(a, funds=1_000)
    engine = api.platform.engine
    with engine.connect() as conn:
        raw = json.dumps(
            [
                [str(v) for v in row]
                for table in (customers, merchant_bank_accounts, wallet_movements, aml_parties)
                for row in conn.execute(select(table)).all()
            ]
        )
    # a ciphertext is random base64: "Ada" turns up inside one about once in a few thousand runs
    raw = re.sub(r"enc:v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+", "enc:…", raw)
    # the phone's digits whole: four digits alone turn up in long random numbers (ids, MACs)
    for secret in ("Ada", "Lovelace", "7946 0958", "ada@example.org", "tok_secretbank99"):
        assert secret not in raw
    shown = api.ok(api.get(a, f"/v1/customers/{buyer}"))
    assert shown["name"] == "A** L*******"
    assert shown["phone"] == "•••• 0958"
    # rotation: a new primary key re-encrypts everything; the old key can then go
    current = os.environ["EMBEDFIN_DATA_KEYS"]
    rotated = FieldCipher.parse(f"{NEW},{current}")
    with engine.begin() as conn:
        assert rotate_all(conn, rotated) >= 5  # with the buyer's screened name
        assert rotate_all(conn, rotated) == 0
    api.platform.cipher = FieldCipher.parse(NEW)
    assert api.ok(api.get(a, f"/v1/customers/{buyer}"))["name"] == "A** L*******"


def test_the_audit_chain_detects_edits_and_deletions(api: Api) -> None:
    a = api.a
    for _ in range(3):
        api.merchant(a)
    engine = api.platform.engine
    with engine.connect() as conn:
        report = audit.verify(conn)
    assert (report.ok, report.entries) == (True, 3)
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="someone_else"))
    with engine.connect() as conn:
        broken = audit.verify(conn)
    assert (broken.ok, broken.first_bad_seq) == (False, 2)
    url = str(engine.url.render_as_string(hide_password=False))
    cli = subprocess.run(
        [sys.executable, "-m", "embedfin.cli", "audit", "verify", "--db", url, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 1, cli.stderr
    assert json.loads(cli.stdout)["ok"] is False
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    with engine.connect() as conn:
        assert audit.verify(conn).ok  # an empty log is intact; deletions are caught below
    for _ in range(3):
        api.merchant(a)
    with engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 2))
    with engine.connect() as conn:
        gap = audit.verify(conn)
    assert (gap.ok, gap.first_bad_seq) == (False, 2)


def test_token_buckets_refill_at_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k") == pytest.approx(0.5)
    assert buckets.take("other") == 0.0
    now[0] = 0.5
    assert buckets.take("k") == 0.0
    assert buckets.take("k") > 0


def test_rate_limits_answer_429_with_retry_after(sqlite_url: str) -> None:
    platform = make_platform(sqlite_url, ManualClock(), rate_per_s=0.5, burst=2)
    tenant = make_tenant(platform, "Limited")
    with TestClient(create_app(platform)) as client:
        statuses = [client.get("/v1/ping", headers=tenant.headers) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].headers["retry-after"] == "2"
    assert statuses[2].json()["code"] == "rate_limited"


def test_logs_are_json_without_personal_data_and_metrics_are_exposed(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="embedfin.access")
    buyer = api.customer(api.a, funds=100)
    lines = [r for r in caplog.records if r.name == "embedfin.access"]
    assert lines
    fields = [r.fields for r in lines]  # type: ignore[attr-defined]
    assert {"method", "route", "status", "ms", "key"} <= set(fields[0])
    assert any(f["route"] == "/v1/customers/{customer_id}/top_ups" for f in fields)
    text_of_logs = json.dumps(fields)
    assert buyer not in text_of_logs
    assert "Ada" not in text_of_logs
    assert api.a.secret not in text_of_logs
    metrics = api.client.get("/metrics").text
    assert "embedfin_http_request_duration_seconds_bucket" in metrics
    assert 'embedfin_channel_success_rate{channel="card-acquirer"}' in metrics
