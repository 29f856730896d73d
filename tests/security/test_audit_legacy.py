"""Entries written before the chain was keyed (migration 0022) still verify, as a prefix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, text

from embedfin.db.engine import make_engine
from embedfin.db.migrate import alembic_config, upgrade
from embedfin.db.scratch import scratch_database
from embedfin.security import audit
from embedfin.security.audit_chain import GENESIS, legacy_hash
from tests.security import tamper
from tests.security.test_audit_tamper import record_entries


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def before_keying(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database at the revision before keying (0021), before the audit log had a key id column."""
    server = None if request.param == "sqlite" else request.getfixturevalue("pg_server")
    with scratch_database(server, "audit22") as url:
        engine = make_engine(url)
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0021_idempotency_claims")
        yield engine
        engine.dispose()


def write_unkeyed(engine: Engine, n: int) -> None:
    """Entries the way the code before keying wrote them (plain SHA-256, no key id)."""
    prev = GENESIS
    with engine.begin() as conn:
        for seq in range(1, n + 1):
            fields = ("shop-1", "key_old", "merchant.create", f"m-{seq}", '{"kyc":"verified"}', seq)
            digest = legacy_hash(prev, seq, *fields)
            conn.execute(
                text(
                    "INSERT INTO audit_log (seq, tenant, actor, action, target, detail, at, "
                    "prev_hash, hash) VALUES (:seq, :t, :a, :ac, :tg, :d, :at, :p, :h)"
                ),
                dict(zip(("t", "a", "ac", "tg", "d", "at"), fields, strict=True))
                | {"seq": seq, "p": prev, "h": digest},
            )
            prev = digest


def test_entries_from_before_keying_verify_and_keyed_ones_continue_the_chain(
    before_keying: Engine,
) -> None:
    write_unkeyed(before_keying, 3)
    upgrade(before_keying)
    record_entries(before_keying, 2)
    with before_keying.connect() as conn:
        report = audit.verify(conn)
        key_ids = conn.execute(text("SELECT key_id FROM audit_log ORDER BY seq")).scalars().all()
    assert (report.ok, report.entries, report.legacy_entries) == (True, 5, 3)
    assert key_ids[:3] == [None, None, None]
    assert None not in key_ids[3:]


def test_a_legacy_entry_edited_before_the_first_keyed_one_is_still_caught(
    before_keying: Engine,
) -> None:
    write_unkeyed(before_keying, 3)
    upgrade(before_keying)
    record_entries(before_keying, 2)
    with before_keying.begin() as conn:
        tamper.edit(conn, seq=2)
    with before_keying.connect() as conn:
        report = audit.verify(conn)
    assert (report.ok, report.first_bad_seq) == (False, 2)


def test_an_unkeyed_entry_after_keyed_ones_is_refused(before_keying: Engine) -> None:
    write_unkeyed(before_keying, 2)
    upgrade(before_keying)
    record_entries(before_keying, 2)
    with before_keying.begin() as conn:
        forged = tamper.append_forged(conn, "legacy")
    with before_keying.connect() as conn:
        report = audit.verify(conn)
    assert (report.ok, report.first_bad_seq) == (False, forged)
    assert "unkeyed" in report.reason
