"""Configured witnesses, on both stores: only a registered witness's verifying line is kept,
one per checkpoint and name (a different second line is a conflict, the same line no change);
a log is public once it has a witness; the platform's logs are signed as they grow."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from embedfin.bootstrap import Services
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.ledger.service import Ledger
from embedfin.risk.config import RiskSettings
from embedfin.transparency import checkpoints
from embedfin.transparency.checkpoints import CheckpointInvalid
from embedfin.transparency.service import (
    PLATFORM,
    BeyondTree,
    TransparencyLog,
    public_log,
)
from embedfin.transparency.witnesses import (
    MAX_WITNESSES,
    CosignatureConflict,
    WitnessNameTaken,
    WitnessNotRegistered,
)


@pytest.fixture
def log(ledger: Ledger) -> TransparencyLog:
    found = Services(ledger, risk=RiskSettings(enabled=False)).tenant("ten_a").log
    found.append("scf", ["a", "b", "c"])
    return found


def _cosigned(log: TransparencyLog, name: str, key: Ed25519PrivateKey) -> str:
    return checkpoints.add_signature(log.checkpoint("scf").note, name, key)


def test_a_cosignature_of_a_key_nobody_registered_is_refused_and_not_kept(
    log: TransparencyLog,
) -> None:
    with pytest.raises(WitnessNotRegistered):
        log.cosign("scf", _cosigned(log, "anyone", Ed25519PrivateKey.generate()))
    assert log.checkpoint("scf").witnesses == ()


def test_a_witness_registered_under_a_name_is_the_only_key_that_name_cosigns_with(
    log: TransparencyLog,
) -> None:
    key = Ed25519PrivateKey.generate()
    log.add_witness("scf", checkpoints.verifier_of("w1", key))
    impostor = _cosigned(log, "w1", Ed25519PrivateKey.generate())  # its key id is not w1's
    with pytest.raises(WitnessNotRegistered):
        log.cosign("scf", impostor)
    kept, fresh = log.cosign("scf", _cosigned(log, "w1", key))
    assert (kept.witnesses, fresh) == (("w1",), ["w1"])


def test_the_same_cosignature_again_changes_nothing(log: TransparencyLog) -> None:
    key = Ed25519PrivateKey.generate()
    log.add_witness("scf", checkpoints.verifier_of("w1", key))
    note = _cosigned(log, "w1", key)
    first, _ = log.cosign("scf", note)
    again, fresh = log.cosign("scf", note)
    assert (again.note, fresh) == (first.note, [])


def test_a_second_different_cosignature_for_a_slot_taken_is_a_conflict(
    log: TransparencyLog,
) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    log.add_witness("scf", checkpoints.verifier_of("w1", old))
    kept, _ = log.cosign("scf", _cosigned(log, "w1", old))
    log.remove_witness("scf", "w1")  # re-keyed: the name now verifies under another key
    log.add_witness("scf", checkpoints.verifier_of("w1", new))
    with pytest.raises(CosignatureConflict):
        log.cosign("scf", _cosigned(log, "w1", new))
    assert log.checkpoint("scf").note == kept.note  # the first line stays, nothing dropped


def test_one_name_holds_one_key_and_the_logs_own_name_is_no_witness(
    log: TransparencyLog,
) -> None:
    key = Ed25519PrivateKey.generate()
    first, added = log.add_witness("scf", checkpoints.verifier_of("w1", key))
    again, added_again = log.add_witness("scf", checkpoints.verifier_of("w1", key))
    assert (added, added_again, again) == (True, False, first)
    with pytest.raises(WitnessNameTaken):
        log.add_witness("scf", checkpoints.verifier_of("w1", Ed25519PrivateKey.generate()))
    with pytest.raises(InvalidInput, match="own key name"):
        log.add_witness("scf", checkpoints.verifier_of(log.signer.prefix, key))
    with pytest.raises(NotFound):
        log.add_witness("nothing", checkpoints.verifier_of("w2", key))
    with pytest.raises(NotFound):
        log.remove_witness("scf", "w2")
    for n in range(2, MAX_WITNESSES + 1):
        log.add_witness("scf", checkpoints.verifier_of(f"w{n}", key))
    with pytest.raises(InvalidInput, match="at most"):
        log.add_witness("scf", checkpoints.verifier_of("one-too-many", key))
    assert len(log.witnesses("scf")) == MAX_WITNESSES


def test_a_registered_witness_bad_line_alone_is_refused(log: TransparencyLog) -> None:
    key = Ed25519PrivateKey.generate()
    witness = checkpoints.verifier_of("w1", key)
    log.add_witness("scf", witness)
    text = log.checkpoint("scf").note
    bad = checkpoints.signature_line("w1", witness.key_id + bytes(64))
    with pytest.raises(CheckpointInvalid, match="does not verify"):
        log.cosign("scf", text + bad)


def test_a_log_is_public_once_it_has_a_witness_and_the_platform_logs_always(
    ledger: Ledger, log: TransparencyLog
) -> None:
    with pytest.raises(NotFound):
        public_log(ledger, log.origin("scf"))
    log.add_witness("scf", checkpoints.verifier_of("w1", Ed25519PrivateKey.generate()))
    assert public_log(ledger, log.origin("scf")) == ("ten_a", "scf")
    log.remove_witness("scf", "w1")
    with pytest.raises(NotFound):
        public_log(ledger, log.origin("scf"))
    platform = Services(ledger, risk=RiskSettings(enabled=False)).tenant(PLATFORM).log
    platform.append("audit", ["checkpoint 1"])
    assert public_log(ledger, platform.origin("audit")) == (PLATFORM, "audit")


def test_the_platform_audit_log_is_signed_as_it_grows(ledger: Ledger) -> None:
    platform = Services(ledger, risk=RiskSettings(enabled=False)).tenant(PLATFORM).log
    signed = platform.append_signed("audit", ["checkpoint 1", "checkpoint 2"])
    latest = platform.latest_checkpoint("audit")
    assert latest is not None
    assert (signed.checkpoint.size, latest.note) == (2, signed.note)
    opened = checkpoints.open_note(signed.note, [platform.verifier], platform.origin("audit"))
    assert opened.root == platform.root("audit")[1]


def test_an_index_or_first_size_past_the_tree_is_beyond_the_tree(log: TransparencyLog) -> None:
    with pytest.raises(BeyondTree):
        log.inclusion("scf", 3)
    with pytest.raises(BeyondTree):
        log.inclusion("scf", 2, size=2)
    with pytest.raises(BeyondTree):
        log.consistency("scf", 4)
    with pytest.raises(BeyondTree):
        log.consistency("scf", 3, 2)
    assert log.consistency("scf", 3) == (3, [])  # a tree is consistent with itself


def test_a_checkpoint_asked_inside_a_unit_of_work_is_of_that_units_size(
    ledger: Ledger, log: TransparencyLog
) -> None:
    log.checkpoint("scf")  # size 3 signed and committed
    with ledger.transaction() as tx:
        log.append_in(tx, "scf", ["d"])
        assert log.checkpoint("scf").checkpoint.size == 4
    assert log.latest_checkpoint("scf") is not None
    assert log.checkpoint("scf").checkpoint.size == 4


def test_a_replayed_or_refused_cosignature_takes_no_write(
    log: TransparencyLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Ed25519PrivateKey.generate()
    log.add_witness("scf", checkpoints.verifier_of("w1", key))
    plain = log.checkpoint("scf").note
    note = checkpoints.add_signature(plain, "w1", key)
    kept, _ = log.cosign("scf", note)

    def no_write() -> None:
        raise AssertionError("a write transaction was opened")

    monkeypatch.setattr(log.ledger, "transaction", no_write)
    assert log.cosign("scf", note) == (kept, [])
    with pytest.raises(WitnessNotRegistered):
        log.cosign("scf", checkpoints.add_signature(plain, "w2", Ed25519PrivateKey.generate()))
