"""kill -9 a writer in the middle of batches; after restart nothing acknowledged is missing.

Each round starts a writer process, lets it commit a few batches, then kills it with SIGKILL at
a random moment (most of a writer's time is inside a batch). Afterwards ``embedfin check`` (the
real command, in a new process) must pass and every acknowledged transfer must be stored.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embedfin.ledger.service import Ledger
from embedfin.ledger.types import Account, AccountFlags

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 3


def _acknowledged(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line, 16) for line in path.read_text().split() if len(line) == 32]


def _crash_rounds(url: str, tmp_path: Path) -> None:
    ledger = Ledger(url)
    accounts = [Account(1, 840, 1)] + [
        Account(a, 840, 2, AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS) for a in range(2, 22)
    ]
    assert set(ledger.create_accounts(accounts)) == {"ok"}
    ledger.close()
    ack = tmp_path / "acknowledged.txt"
    rng = random.Random(5)
    for round_no in range(ROUNDS):
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.ledger.crash_writer", url, str(ack), str(round_no)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        before = len(_acknowledged(ack))
        deadline = time.monotonic() + 120
        while len(_acknowledged(ack)) < before + 2_000:
            assert writer.poll() is None, "writer died on its own"
            assert time.monotonic() < deadline, "writer made no progress"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.05, 0.4))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        assert writer.returncode == -signal.SIGKILL

    checked = subprocess.run(
        [sys.executable, "-m", "embedfin.cli", "check", "--db", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    acknowledged = _acknowledged(ack)
    assert len(acknowledged) >= ROUNDS * 2_000
    reopened = Ledger(url)
    stored = set()
    for start in range(0, len(acknowledged), 5_000):
        stored |= {t.id for t in reopened.lookup_transfers(acknowledged[start : start + 5_000])}
    assert stored == set(acknowledged)
    reopened.close()


@pytest.mark.slow
def test_kill_9_mid_batch_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    _crash_rounds(sqlite_url, tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_9_mid_batch_postgres(pg_url: str, tmp_path: Path) -> None:
    _crash_rounds(pg_url, tmp_path)
