"""C2SP checkpoints in signed notes: signing, opening, cosigning, tampering."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from embedfin.transparency import checkpoints as cp
from embedfin.transparency.checkpoints import Checkpoint, CheckpointInvalid, Verifier

ORIGIN = "embedfin.example/ten_a/scf"


def test_a_signed_checkpoint_opens_with_its_key_and_only_with_it() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    head = Checkpoint(ORIGIN, 8, bytes(range(32)))
    note = cp.sign(head, "log.example", key)
    text, signatures = cp.split_note(note)
    assert text == f"{ORIGIN}\n8\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    assert note.splitlines()[-1].startswith("\u2014 log.example ")
    verifier = cp.verifier_of("log.example", key)
    assert Verifier.parse(str(verifier)) == verifier
    assert cp.open_note(note, [verifier], ORIGIN) == head
    with pytest.raises(CheckpointInvalid, match="no signature of a known key"):
        cp.open_note(note, [cp.verifier_of("log.example2", other)])
    # the same name and key ID with another key: the signature fails and the note is refused
    impostor = Verifier(
        "log.example", verifier.public_key[:-1] + bytes([verifier.public_key[-1] ^ 1])
    )
    with pytest.raises(CheckpointInvalid):
        cp.open_note(note, [impostor])
    with pytest.raises(CheckpointInvalid, match="not 'other'"):
        cp.open_note(note, [verifier], "other")


@pytest.mark.parametrize(
    "edit",
    [
        lambda n: n.replace("\n8\n", "\n9\n"),  # another size
        lambda n: n.replace("AAEC", "AAED"),  # another root
        lambda n: n.replace(ORIGIN, ORIGIN + "x"),  # another log
        lambda n: n[:-12] + ("A" if n[-12] != "A" else "B") + n[-11:],  # the signature itself
    ],
    ids=["size", "root", "origin", "signature"],
)
def test_a_tampered_checkpoint_is_refused(edit: object) -> None:
    key = Ed25519PrivateKey.generate()
    note = cp.sign(Checkpoint(ORIGIN, 8, bytes(range(32))), "log.example", key)
    assert callable(edit)
    with pytest.raises(CheckpointInvalid):
        cp.open_note(edit(note), [cp.verifier_of("log.example", key)])


def test_a_witness_cosigns_the_same_text() -> None:
    log, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    note = cp.sign(Checkpoint(ORIGIN, 3, bytes(32)), "log.example", log)
    cosigned = cp.add_signature(note, "witness.example", witness)
    both = [cp.verifier_of("log.example", log), cp.verifier_of("witness.example", witness)]
    assert cp.signed_by(cosigned, both) == {"log.example", "witness.example"}
    assert cp.open_note(cosigned, both[1:]).size == 3


@pytest.mark.parametrize(
    "note",
    [
        "",
        "a\n1\nAAAA\n",
        "a\n1\nAAAA\n\n\u2014 k AAAAAAAA\n",
        "a\n01\n" + "A" * 44 + "\n\n\u2014 k AAAAAAAA\n",
        "a\x00\n1\n\n\u2014 k AAAAAAAA\n",
        "a\n1\nx\n\n- k AAAAAAAA\n",
    ],
)
def test_garbage_is_refused_with_a_typed_error(note: str) -> None:
    with pytest.raises(CheckpointInvalid):
        cp.open_note(note, [cp.verifier_of("k", Ed25519PrivateKey.generate())])


def test_bad_verifier_keys_are_refused() -> None:
    good = cp.verifier_of("k", Ed25519PrivateKey.generate())
    _, key_id, encoded = str(good).split("+", 2)
    for text in ("", "k", f"k+{key_id}+!!", f"k+00000000+{encoded}", f"k x+{key_id}+{encoded}"):
        with pytest.raises(CheckpointInvalid):
            Verifier.parse(text)
