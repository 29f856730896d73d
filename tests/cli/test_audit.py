"""`embedfin audit verify` and `audit checkpoint`: the keyed chain recomputed and checked against
the signed checkpoints; exit 1 when it is broken (the seven tamper kinds: tests/security/)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import update

from embedfin.bootstrap import Services
from embedfin.cli import app
from embedfin.core.clock import SystemClock
from embedfin.db.engine import make_engine
from embedfin.db.tables import audit_log
from embedfin.ledger.service import Ledger
from embedfin.security import audit
from embedfin.transparency.service import PLATFORM
from tests.cli.helpers import runner


def test_verify_passes_on_an_intact_log_and_fails_on_an_edited_one(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        for n in range(3):
            audit.record(
                conn,
                tenant="shop-1",
                actor="key_1",
                action="refund",
                target=f"o-{n}",
                detail={"n": n},
                at_ns=n,
            )
    intact = runner.invoke(app, ["audit", "verify", "--db", sqlite_url, "--json"])
    assert intact.exit_code == 0, intact.output
    assert json.loads(intact.stdout)["entries"] == 3
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(action="edited"))
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify", "--db", sqlite_url])
    assert broken.exit_code == 1
    assert "audit log broken at entry 2" in broken.stdout


def test_checkpoint_then_verify_uses_the_file_beside_the_database(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        audit.record(
            conn, tenant="shop-1", actor="key_1", action="refund", target="o-1", detail={}, at_ns=1
        )
    engine.dispose()
    written = runner.invoke(app, ["audit", "checkpoint", "--db", sqlite_url, "--json"])
    assert written.exit_code == 0, written.output
    assert json.loads(written.stdout)["file"].endswith("embedfin.audit-checkpoints.jsonl")
    report = runner.invoke(app, ["audit", "verify", "--db", sqlite_url])
    assert report.exit_code == 0, report.output
    assert "1 entries, 1 checkpoints checked" in report.stdout
    # and the checkpoint is an entry of the platform's verifiable audit log
    log = Services(Ledger(make_engine(sqlite_url), SystemClock())).tenant(PLATFORM).log
    entry = json.loads(log.entry("audit", 0).body)
    assert (entry["kind"], entry["head"]) == (
        "audit_checkpoint",
        json.loads(written.stdout)["head"],
    )


def test_verify_fails_when_the_named_checkpoint_file_is_missing(
    sqlite_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.jsonl"
    result = runner.invoke(
        app, ["audit", "verify", "--db", sqlite_url, "--checkpoints", str(missing), "--json"]
    )
    assert result.exit_code == 1
    assert "no checkpoint file" in json.loads(result.stdout)["reason"]
