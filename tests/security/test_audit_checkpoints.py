"""Signed checkpoints: written outside the database, trusted only when their signature holds."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from embedfin.api.app import Worker
from embedfin.core.clock import ManualClock
from embedfin.db.engine import make_engine
from embedfin.security import audit
from embedfin.security.audit_checkpoints import (
    AuditChainBroken,
    Checkpointer,
    CheckpointInvalid,
    default_checkpoints_path,
    public_keys_path,
    read_checkpoints,
    write_checkpoint,
)
from embedfin.transparency.service import PLATFORM
from tests.api.conftest import make_platform
from tests.security import tamper
from tests.security.test_audit_tamper import record_entries


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    record_entries(engine, 3)
    yield engine
    engine.dispose()


def checkpoint(
    engine: Engine, path: Path, now_ns: int = 5, signing_key: Ed25519PrivateKey | None = None
) -> None:
    with engine.connect() as conn:
        write_checkpoint(conn, path, now_ns, signing_key=signing_key)


def test_a_checkpoint_names_the_head_and_publishes_its_public_key(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "cp.jsonl"
    checkpoint(engine, path)
    [line] = path.read_text().splitlines()
    written = json.loads(line)
    with engine.connect() as conn:
        head = audit.verify(conn)
    assert (written["seq"], written["head"], written["entries"]) == (3, head.head_hash, 3)
    assert written["at_ns"] == 5
    assert public_keys_path(path).read_text().startswith("ed25519 ")
    assert [c.seq for c in read_checkpoints(path)] == [3]


def test_an_edited_checkpoint_line_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    checkpoint(engine, path)
    line = json.loads(path.read_text())
    path.write_text(json.dumps(line | {"seq": 2, "entries": 2}) + "\n")
    with pytest.raises(CheckpointInvalid, match="line 1: the signature does not verify"):
        read_checkpoints(path)


def test_a_checkpoint_by_a_key_not_pinned_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    checkpoint(engine, path, signing_key=Ed25519PrivateKey.generate())
    pinned = tmp_path / "pinned.pub"
    checkpoint(engine, tmp_path / "other.jsonl")  # the configured key's public key
    pinned.write_text(public_keys_path(tmp_path / "other.jsonl").read_text())
    with pytest.raises(CheckpointInvalid, match="signed by unknown key"):
        read_checkpoints(path, pinned)


def test_no_checkpoint_is_written_over_a_broken_chain(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    checkpoint(engine, path)
    with engine.begin() as conn:
        tamper.append_forged(conn, "guessed_key")
    with pytest.raises(AuditChainBroken, match="entry 4"):
        checkpoint(engine, path, now_ns=6)
    assert len(path.read_text().splitlines()) == 1


def test_after_a_cut_off_no_new_checkpoint_hides_it(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    checkpoint(engine, path)
    with engine.begin() as conn:
        tamper.truncate_newest(conn, keep=2)
    with pytest.raises(AuditChainBroken, match="entry 3"):
        checkpoint(engine, path, now_ns=6)


def test_the_default_file_sits_beside_the_database() -> None:
    beside = default_checkpoints_path("sqlite:///embedfin-data/demo.db")
    assert beside == Path("embedfin-data/demo.audit-checkpoints.jsonl")
    named = default_checkpoints_path("postgresql+psycopg://u@127.0.0.1/books")
    assert named == Path("embedfin-data/books.audit-checkpoints.jsonl")
    assert default_checkpoints_path("sqlite://") is None


def test_the_schedule_writes_only_when_due(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    later = Checkpointer(path, 3600, engine.connect, lambda: 7)
    assert later.maybe_write() is None
    assert not path.exists()
    now = Checkpointer(path, 1e-9, engine.connect, lambda: 7)
    written = now.maybe_write()
    assert written is not None
    assert written.seq == 3
    assert Checkpointer(path, 0, engine.connect, lambda: 7).due() is False


def test_the_api_worker_checkpoints_at_start_and_at_stop(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "worker.jsonl"
    platform = make_platform(sqlite_url, ManualClock(10**18), audit_checkpoints=str(path))
    record_entries(platform.engine, 2)
    worker = Worker(platform)
    worker.start()
    worker.stop()
    assert [c.seq for c in read_checkpoints(path)] == [2, 2]
    # each one published to the platform's verifiable audit log too
    log = platform.tenant(PLATFORM).log
    assert log.root("audit")[0] == 2
    assert json.loads(log.entry("audit", 1).body)["seq"] == 2


def test_the_platform_audit_log_is_signed_as_published_and_served_by_origin(
    sqlite_url: str, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from embedfin.api.app import create_app
    from embedfin.transparency import checkpoints, merkle

    platform = make_platform(
        sqlite_url, ManualClock(10**18), audit_checkpoints=str(tmp_path / "worker.jsonl")
    )
    record_entries(platform.engine, 3)
    worker = Worker(platform)
    worker.start()
    worker.stop()
    log = platform.tenant(PLATFORM).log
    signed = log.latest_checkpoint("audit")  # signed when appended, before anyone asked
    assert signed is not None
    assert signed.checkpoint.size == 2
    client = TestClient(create_app(platform))  # no API key: the platform's logs are public
    origin = {"origin": log.origin("audit")}
    served = client.get("/v1/public/logs/checkpoint", params=origin).json()
    assert served["note"] == signed.note
    head = checkpoints.open_note(served["note"], [log.verifier], log.origin("audit"))
    proof = client.get("/v1/public/logs/proofs/inclusion", params=origin | {"index": 1}).json()
    leaf = merkle.leaf_hash(log.entry("audit", 1).body.encode())
    merkle.verify_inclusion(1, 2, leaf, [base64.b64decode(p) for p in proof["proof"]], head.root)
    assert "seq" not in json.dumps(proof)  # hashes only, never the entry
    platform.ledger.close()
