"""`embedfin audit verify`: the hash chain recomputed; exit 1 when it is broken."""

from __future__ import annotations

import json

from sqlalchemy import update

from embedfin.cli import app
from embedfin.db.engine import make_engine
from embedfin.db.tables import audit_log
from embedfin.security import audit
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
