"""The kill -9 loop: ``embedfin serve`` SIGKILLed at random moments under load, restarted each
time, on both stores.

Two client threads send top-ups, withdrawals, checkouts and refunds, each under its own
Idempotency-Key, and retry the *same* key after a connection error, a 5xx or a 409 "in flight"
until the request is answered. Afterwards: no acknowledged request lost, no effect applied
twice (each wallet is exactly what its acknowledged ops add up to), ``embedfin check`` and
``embedfin audit verify`` pass, and no Idempotency-Key claim is stuck (a retry of every key
after the last restart gets its answer, the acknowledged ones unchanged).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from embedfin.bench.bank import BankOptions, BankResult, quiet_track, run

KILLS = int(os.environ.get("EMBEDFIN_KILL_LOOP_KILLS", "4"))
#: What a crash may not cause. ``server_errors`` is reported, not asserted: a request cut off
#: by a crash is retried by design, and the checks below judge what the retries left behind.
MUST_BE_ZERO = (
    "unanswered",
    "lost_acknowledged",
    "unacknowledged_effects",
    "wallet_mismatches",
    "negative_balances",
    "duplicate_audit_entries",
    "burst_violations",
    "replay_mismatches",
    "stuck_claims",
    "check_failed",
    "audit_failed",
)


@pytest.fixture(autouse=True)
def short_claim_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's claim lease, short enough for a test (production keeps 120 s)."""
    monkeypatch.setenv("EMBEDFIN_API_IDEMPOTENCY_LEASE_S", "8")


def _kill_loop(db: str | None, tmp_path: Path) -> BankResult:
    options = BankOptions(
        db,
        clients=2,
        seconds=2.0 * KILLS,
        kill_every=1.5,
        kills=KILLS,
        buyers=6,
        replay_sample=400,
        log_dir=tmp_path,
        # a crash leaves the claims of the requests in flight; they are taken over once their
        # lease runs out (EMBEDFIN_API_IDEMPOTENCY_LEASE_S, shortened below), so a client
        # retrying the same key waits that long
        retry_deadline_s=90,
    )
    result = run(options, quiet_track)
    assert result.kills == KILLS
    assert result.transport_errors > 0  # the clients did meet the crashes, and retried
    assert result.acknowledged > 2 * KILLS
    broken = {name: result.violations[name] for name in MUST_BE_ZERO if result.violations[name]}
    assert broken == {}, "\n".join(result.samples)
    return result


@pytest.mark.slow
def test_kill_loop_on_sqlite_loses_no_acknowledged_request(tmp_path: Path) -> None:
    _kill_loop(None, tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_loop_on_postgresql_loses_no_acknowledged_request(
    pg_server: str, tmp_path: Path
) -> None:
    _kill_loop(pg_server, tmp_path)
