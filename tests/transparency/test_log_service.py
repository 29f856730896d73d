"""The log kept in the database, on both stores: appends, proofs read from stored nodes,
signed checkpoints, witnesses, immutability, bad input and another tenant apart."""

from __future__ import annotations

import base64
import threading

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from embedfin.bootstrap import Services, check_all
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.db.tables import tlog_entries, tlog_nodes
from embedfin.ledger.service import Ledger
from embedfin.risk.config import RiskSettings
from embedfin.transparency import checkpoints, merkle
from embedfin.transparency.checkpoints import CheckpointInvalid
from embedfin.transparency.merkle import ProofInvalid
from embedfin.transparency.service import BeyondTree, TransparencyLog
from embedfin.transparency.witnesses import WitnessNotRegistered


@pytest.fixture
def services(ledger: Ledger) -> Services:
    return Services(ledger, risk=RiskSettings(enabled=False))


def _log(services: Services, tenant: str = "ten_a") -> TransparencyLog:
    return services.tenant(tenant).log


def test_appends_prove_inclusion_and_consistency_against_signed_checkpoints(
    services: Services,
) -> None:
    log = _log(services)
    bodies = [f'{{"event":"issued","n":{i}}}' for i in range(37)]
    assert log.append("scf", bodies[:5]) == [0, 1, 2, 3, 4]
    first = log.checkpoint("scf")
    assert log.append("scf", bodies[5:]) == list(range(5, 37))
    second = log.checkpoint("scf")
    verifier = log.verifier
    old = checkpoints.open_note(first.note, [verifier], log.origin("scf"))
    new = checkpoints.open_note(second.note, [verifier], log.origin("scf"))
    assert (old.size, new.size) == (5, 37)
    assert new.root == merkle.root_of([merkle.leaf_hash(b.encode()) for b in bodies])
    for index in (0, 4, 5, 36):
        entry = log.entry("scf", index)
        assert entry.body == bodies[index]
        size, proof = log.inclusion("scf", index)
        merkle.verify_inclusion(index, size, entry.leaf_hash, proof, new.root)
    size, proof = log.consistency("scf", 5)
    merkle.verify_consistency(5, size, old.root, new.root, proof)
    # the same size again: the stored checkpoint, not a new signature
    assert log.checkpoint("scf").note == second.note
    assert [i.size for i in log.logs()] == [37]


def test_a_proof_beyond_the_tree_and_bad_appends_are_refused_and_write_nothing(
    services: Services,
) -> None:
    log = _log(services)
    log.append("scf", ["a", "b", "c"])
    with pytest.raises(BeyondTree):
        log.inclusion("scf", 0, size=4)
    with pytest.raises(BeyondTree):
        log.consistency("scf", 1, 9)
    with pytest.raises(InvalidInput):
        log.inclusion("scf", 3, size=3)
    with pytest.raises(InvalidInput):
        log.consistency("scf", 0, 3)
    with pytest.raises(NotFound):
        log.entry("scf", 3)
    with pytest.raises(NotFound):
        log.root("nothing")
    for bad in (["ok", ""], ["ok", 7], [], ["x" * (64 * 1024 + 1)]):
        with pytest.raises(InvalidInput):
            log.append("scf", bad)  # type: ignore[arg-type]
    for name in ("", "Upper", "a" * 33, "../x", "a b"):
        with pytest.raises(InvalidInput):
            log.append(name, ["x"])
    assert log.root("scf")[0] == 3
    with services.ledger.reader() as conn:
        assert conn.execute(select(func.count()).select_from(tlog_entries)).scalar() == 3


def test_another_tenant_has_its_own_logs_origins_and_sees_none_of_these(
    services: Services,
) -> None:
    a, b = _log(services, "ten_a"), _log(services, "ten_b")
    a.append("scf", ["mine"])
    with pytest.raises(NotFound):
        b.entry("scf", 0)
    b.append("scf", ["theirs", "and more"])
    assert a.origin("scf") != b.origin("scf")
    note_b = b.checkpoint("scf").note
    with pytest.raises(CheckpointInvalid, match="not"):
        checkpoints.open_note(note_b, [a.verifier], a.origin("scf"))
    assert a.root("scf")[0] == 1


def test_entries_and_nodes_cannot_be_changed_or_deleted_in_the_database(
    services: Services,
) -> None:
    log = _log(services)
    log.append("scf", ["a", "b"])
    for statement in (
        update(tlog_entries).values(body="forged"),
        delete(tlog_entries),
        update(tlog_nodes).values(hash=bytes(32)),
        delete(tlog_nodes),
    ):
        with (
            pytest.raises(DBAPIError, match="cannot be changed or deleted"),
            services.ledger.engine.begin() as conn,
        ):
            conn.execute(statement)
    assert log.entry("scf", 1).body == "b"


def test_a_registered_witness_cosigns_a_checkpoint_and_a_forged_cosignature_is_refused(
    services: Services,
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    log = _log(services)
    log.append("scf", ["a", "b", "c"])
    head = log.checkpoint("scf")
    key = Ed25519PrivateKey.generate()
    witness = checkpoints.verifier_of("witness.example", key)
    log.add_witness("scf", witness)
    cosigned = checkpoints.add_signature(head.note, "witness.example", key)
    kept, fresh = log.cosign("scf", cosigned)
    assert (kept.witnesses, fresh) == (("witness.example",), ["witness.example"])
    assert checkpoints.signed_by(kept.note, [log.verifier, witness]) == {
        log.origin("scf").split("/")[0],
        "witness.example",
    }
    other = Ed25519PrivateKey.generate()
    with pytest.raises(WitnessNotRegistered):  # another key under the witness's name
        log.cosign("scf", checkpoints.add_signature(head.note, "witness.example", other))
    forged = checkpoints.sign(
        checkpoints.Checkpoint(log.origin("scf"), 3, bytes(32)), "witness.example", key
    )
    with pytest.raises(CheckpointInvalid, match="signed no such checkpoint"):
        log.cosign("scf", forged)


def test_concurrent_appends_to_one_log_make_one_tree(services: Services) -> None:
    log = _log(services)
    log.append("scf", ["seed"])
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(5):
                log.append("scf", [f"w{n}-{i}-{j}" for j in range(3)])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    size, root = log.root("scf")
    assert size == 1 + 4 * 5 * 3
    bodies = [log.entry("scf", i).body for i in range(size)]
    assert len(set(bodies)) == size
    assert root == merkle.root_of([merkle.leaf_hash(b.encode()) for b in bodies])
    with pytest.raises(ProofInvalid):
        merkle.verify_inclusion(
            0, size, merkle.leaf_hash(b"other"), log.inclusion("scf", 0)[1], root
        )


def _drop_guards(services: Services) -> None:
    """What a database writer can do: the triggers are the store's, not the math's."""
    with services.ledger.engine.begin() as conn:
        for table in ("tlog_entries", "tlog_nodes"):
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"DROP TRIGGER {table}_immutable ON {table}"))
            else:
                for event in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER {table}_immutable_{event}"))


def test_embedfin_check_finds_a_tree_that_is_not_its_entries(services: Services) -> None:
    log = _log(services)
    log.append("scf", [f"e{i}" for i in range(11)])
    log.checkpoint("scf")
    with services.ledger.reader() as conn:
        report = check_all(conn)
    assert report.ok, report.violations
    assert report.checked["log_trees_whole"]
    assert report.checked["log_checkpoints_match_trees"]
    _drop_guards(services)
    with services.ledger.engine.begin() as conn:  # a body rewritten, a node lost
        conn.execute(update(tlog_entries).where(tlog_entries.c.idx == 4).values(body="forged"))
        conn.execute(delete(tlog_nodes).where(tlog_nodes.c.level == 1, tlog_nodes.c.idx == 0))
    with services.ledger.reader() as conn:
        failed = "\n".join(v.detail for v in check_all(conn).violations)
    assert "4 nodes at level 1, not 5" in failed
    assert "the entries' bodies do not make checkpoint 11's root" in failed


def test_a_rolled_back_append_leaves_no_node_behind_in_memory(services: Services) -> None:
    """Nodes of 256 leaves and more are cached once read; a unit of work that appended and then
    rolled back must not leave its nodes there for the next append's proofs."""
    log = _log(services)
    log.append("scf", [f"a{i}" for i in range(300)])
    log.inclusion("scf", 10)  # the cache holds the committed level-8 node now

    def append_sign_and_fail() -> None:
        with services.ledger.transaction() as tx:
            log.append_in(tx, "scf", [f"x{i}" for i in range(300)])
            log.checkpoint("scf")  # reads the uncommitted nodes, inside the unit of work
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        append_sign_and_fail()
    log.append("scf", [f"b{i}" for i in range(300)])
    size, root = log.root("scf")
    bodies = [f"a{i}" for i in range(300)] + [f"b{i}" for i in range(300)]
    assert (size, root) == (600, merkle.root_of([merkle.leaf_hash(b.encode()) for b in bodies]))
    for index in (0, 299, 300, 599):
        leaf = merkle.leaf_hash(bodies[index].encode())
        merkle.verify_inclusion(index, size, leaf, log.inclusion("scf", index)[1], root)
    merkle.verify_consistency(
        300, 600, log.root("scf", 300)[1], root, log.consistency("scf", 300)[1]
    )


def test_a_cosignature_keeps_the_line_that_verifies(services: Services) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    log = _log(services)
    log.append("scf", ["a"])
    head = log.checkpoint("scf")
    key = Ed25519PrivateKey.generate()
    witness = checkpoints.verifier_of("wit1", key)
    log.add_witness("scf", witness)
    bogus = f"\u2014 wit1 {base64.b64encode(witness.key_id + bytes(64)).decode()}\n"
    note = checkpoints.add_signature(head.note + bogus, "wit1", key)
    kept, _ = log.cosign("scf", note)
    assert checkpoints.open_note(kept.note, [witness]).size == 1
