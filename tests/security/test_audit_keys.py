"""The audit key ring lives outside the database; keys rotate; old entries keep verifying."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select, text

from embedfin.core.errors import ConfigurationError
from embedfin.db.engine import make_engine
from embedfin.db.tables import audit_log
from embedfin.security import audit
from embedfin.security.audit_keys import (
    KEY_ENV,
    KEY_FILE,
    SIGNING_ENV,
    SIGNING_FILE,
    AuditKeys,
    load_audit_keys,
    load_signing_key,
    new_audit_key_spec,
    public_key_bytes,
)

OLD = new_audit_key_spec("a1")
NEW = new_audit_key_spec("a2")


def write(url: str, keys: AuditKeys, n: int) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for i in range(n):
            audit.record(
                conn,
                tenant="t",
                actor="k",
                action="api_key.create",
                target=f"key_{i}",
                detail={},
                at_ns=i,
                keys=keys,
            )
    engine.dispose()


def verify(url: str, keys: AuditKeys) -> audit.VerifyReport:
    engine = make_engine(url)
    with engine.connect() as conn:
        report = audit.verify(conn, keys.keys)
    engine.dispose()
    return report


def test_a_rotated_ring_chains_with_the_new_key_and_verifies_the_old_entries(
    sqlite_url: str,
) -> None:
    write(sqlite_url, AuditKeys.parse(OLD), 2)
    rotated = AuditKeys.parse(f"{NEW},{OLD}")
    write(sqlite_url, rotated, 2)
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        key_ids = conn.execute(select(audit_log.c.key_id).order_by(audit_log.c.seq)).scalars()
        assert list(key_ids) == ["a1", "a1", "a2", "a2"]
    engine.dispose()
    assert verify(sqlite_url, rotated).ok
    dropped_too_early = verify(sqlite_url, AuditKeys.parse(NEW))
    assert (dropped_too_early.ok, dropped_too_early.first_bad_seq) == (False, 1)
    assert "'a1', not in the audit key ring" in dropped_too_early.reason


def test_the_key_is_never_stored_in_the_database(sqlite_url: str) -> None:
    keys = AuditKeys.parse(OLD)
    write(sqlite_url, keys, 3)
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        stored = repr(conn.execute(text("SELECT * FROM audit_log")).all())
    engine.dispose()
    assert OLD.partition(":")[2] not in stored
    assert keys.primary_key.hex() not in stored


def test_without_configuration_a_development_ring_is_made_once_and_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert load_audit_keys(tmp_path, create=False) is None  # a verifier never invents a key
    assert not (tmp_path / KEY_FILE).exists()
    ring = load_audit_keys(tmp_path)
    assert ring is not None
    assert ring.primary.startswith("dev-")
    assert stat.S_IMODE(os.stat(tmp_path / KEY_FILE).st_mode) == 0o600
    assert load_audit_keys(tmp_path) == ring


def test_without_configuration_a_development_signing_key_is_made_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SIGNING_ENV, raising=False)
    first = public_key_bytes(load_signing_key(tmp_path))
    assert stat.S_IMODE(os.stat(tmp_path / SIGNING_FILE).st_mode) == 0o600
    assert public_key_bytes(load_signing_key(tmp_path)) == first


@pytest.mark.parametrize(
    "spec",
    ["", "a1", "a1:not base64!", "a1:" + "QUJD", "bad id:" + OLD.partition(":")[2]],
    ids=["empty", "no-secret", "not-base64", "short", "bad-id"],
)
def test_a_malformed_ring_is_a_configuration_error(spec: str) -> None:
    with pytest.raises(ConfigurationError):
        AuditKeys.parse(spec)
