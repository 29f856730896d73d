"""`embedfin audit verify --checkpoints FILE` catches every way a database writer without the
audit key can rewrite the log: the seven tamper kinds of issue 12, on SQLite and PostgreSQL.

Each test builds six keyed entries, writes a signed checkpoint of the head outside the
database, tampers with committed rows through the database only, and expects exit 1 naming the
first bad entry. Kinds 1–4 went undetected by the unkeyed chain without checkpoints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, update

from embedfin.cli import app
from embedfin.db.engine import make_engine
from embedfin.db.tables import audit_log
from embedfin.security import audit
from embedfin.security.audit_checkpoints import write_checkpoint
from tests.cli.helpers import runner
from tests.security import tamper

ENTRIES = 6


@dataclass
class Log:
    url: str
    engine: Engine
    checkpoints: Path

    def tamper(self, change: Callable[[Connection], object]) -> None:
        with self.engine.begin() as conn:
            change(conn)

    def verify(self) -> dict[str, Any]:
        result = runner.invoke(
            app,
            ["audit", "verify", "--db", self.url, "--checkpoints", str(self.checkpoints), "--json"],
        )
        report: dict[str, Any] = json.loads(result.stdout)
        assert result.exit_code == (0 if report["ok"] else 1), result.output
        return report


def record_entries(engine: Engine, n: int, first: int = 0) -> None:
    with engine.begin() as conn:
        for i in range(first, first + n):
            audit.record(
                conn,
                tenant="shop-1",
                actor="key_ops",
                action="order.refund",
                target=f"o-{i}",
                detail={"amount": 100 + i},
                at_ns=1_000 + i,
            )


@pytest.fixture
def log(db_url: str, tmp_path: Path) -> Iterator[Log]:
    engine = make_engine(db_url)
    record_entries(engine, ENTRIES)
    checkpoints = tmp_path / "audit-checkpoints.jsonl"
    with engine.connect() as conn:
        write_checkpoint(conn, checkpoints, now_ns=2_000)
    intact = Log(db_url, engine, checkpoints)
    assert intact.verify()["ok"]
    yield intact
    engine.dispose()


def assert_broken_at(report: dict[str, Any], seq: int, *words: str) -> None:
    assert (report["ok"], report["first_bad_seq"]) == (False, seq), report
    for word in words:
        assert word in report["reason"], report


@pytest.mark.parametrize("scheme", ["legacy", "guessed_key"])
def test_an_edit_with_the_chain_recomputed_is_detected(log: Log, scheme: tamper.Scheme) -> None:
    log.tamper(lambda conn: tamper.edit_and_rechain(conn, scheme, seq=3, from_seq=3))
    reason = "unkeyed" if scheme == "legacy" else "HMAC"
    assert_broken_at(log.verify(), 3, reason)


def test_the_whole_chain_recomputed_unkeyed_is_caught_by_the_checkpoint(log: Log) -> None:
    """Rewritten in the legacy scheme from entry 1, the chain links up and no entry is keyed:
    only the head kept outside the database shows it."""
    log.tamper(lambda conn: tamper.edit_and_rechain(conn, "legacy", seq=3, from_seq=1))
    assert_broken_at(log.verify(), ENTRIES, "checkpoint", "rewritten")


@pytest.mark.parametrize("scheme", ["legacy", "guessed_key"])
def test_a_deletion_with_the_rest_renumbered_is_detected(log: Log, scheme: tamper.Scheme) -> None:
    log.tamper(lambda conn: tamper.delete_and_renumber(conn, scheme, seq=3))
    assert_broken_at(log.verify(), 3)


@pytest.mark.parametrize("scheme", ["legacy", "guessed_key"])
def test_a_forged_entry_appended_with_a_correct_hash_is_detected(
    log: Log, scheme: tamper.Scheme
) -> None:
    log.tamper(lambda conn: tamper.append_forged(conn, scheme))
    assert_broken_at(log.verify(), ENTRIES + 1)


def test_cutting_off_the_newest_entries_is_detected(log: Log) -> None:
    log.tamper(lambda conn: tamper.truncate_newest(conn, keep=4))
    assert_broken_at(log.verify(), 5, "newest entries were removed")


def test_an_edit_is_detected(log: Log) -> None:
    log.tamper(lambda conn: tamper.edit(conn, seq=2))
    assert_broken_at(log.verify(), 2, "HMAC")


def test_a_deletion_is_detected(log: Log) -> None:
    log.tamper(lambda conn: tamper.delete_one(conn, seq=4))
    assert_broken_at(log.verify(), 4, "missing")


def test_a_swap_of_two_entries_is_detected(log: Log) -> None:
    log.tamper(lambda conn: tamper.swap(conn, 2, 5))
    assert_broken_at(log.verify(), 2)


def test_entries_after_the_checkpoint_verify_and_a_new_checkpoint_covers_them(log: Log) -> None:
    record_entries(log.engine, 3, first=ENTRIES)
    with log.engine.connect() as conn:
        latest = write_checkpoint(conn, log.checkpoints, now_ns=3_000)
    assert latest.seq == ENTRIES + 3
    report = log.verify()
    assert (report["ok"], report["entries"], report["checkpoints"]) == (True, ENTRIES + 3, 2)
    log.tamper(lambda conn: tamper.truncate_newest(conn, keep=ENTRIES + 1))
    assert_broken_at(log.verify(), ENTRIES + 2, "removed")


def test_a_change_to_any_column_of_an_entry_is_detected(db_url: str) -> None:
    """Every stored column is covered: changed in a transaction, verified, rolled back."""
    engine = make_engine(db_url)
    record_entries(engine, 3)
    changes = {
        "seq": 9,
        "tenant": "shop-2",
        "actor": "key_other",
        "action": "order.cancel",
        "target": "o-x",
        "detail": '{"amount":1}',
        "at": 5,
        "prev_hash": "f" * 64,
        "hash": "e" * 64,
        "key_id": None,
    }
    assert set(changes) == set(audit_log.c.keys())
    with engine.connect() as conn:
        for column, value in changes.items():
            with conn.begin():
                conn.execute(update(audit_log).where(audit_log.c.seq == 2).values({column: value}))
                report = audit.verify(conn)
                assert (report.ok, report.first_bad_seq) == (False, 2), column
                conn.rollback()
        assert audit.verify(conn).ok
    engine.dispose()
