"""Signed tree heads as C2SP checkpoints in signed notes, pure.

A checkpoint (c2sp.org/tlog-checkpoint) is three lines — the log's *origin* (a schema-less URL
naming it), the tree size in decimal, the root hash in base64 — signed as a note
(c2sp.org/signed-note): the text, a blank line, then one line per signature, ``— <key name>
base64(key ID ‖ Ed25519 signature)`` with key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4].
The format is the one transparency-dev's witnesses and Go's sumdb read, so a member can check our
checkpoints with their tools as well as with ``embedfin log verify``.

A verifier key is written ``<name>+<key ID hex>+<base64(0x01 ‖ public key)>`` (the note
verifier key format).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from embedfin.core.errors import InvalidInput
from embedfin.transparency.merkle import HASH_SIZE

ED25519 = b"\x01"
DASH = "\u2014"
_NAME = re.compile(r"^[^\s+]{1,200}$")
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,19})$")
#: A note may carry a witness's cosignatures too; beyond this many it is refused unread.
MAX_SIGNATURES = 16


class CheckpointInvalid(InvalidInput):
    """A checkpoint that does not parse, or whose signature does not verify."""

    code = "checkpoint_invalid"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


@dataclass(frozen=True, slots=True)
class Verifier:
    """A signer's name and Ed25519 public key."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def __str__(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        name, _, rest = text.strip().partition("+")
        hex_id, _, encoded = rest.partition("+")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise CheckpointInvalid("a verifier key is name+keyid+base64(0x01 ‖ key)") from None
        if not _NAME.match(name) or len(raw) != 33 or raw[:1] != ED25519:
            raise CheckpointInvalid("a verifier key is name+keyid+base64(0x01 ‖ Ed25519 key)")
        verifier = cls(name, raw[1:])
        if verifier.key_id.hex() != hex_id.lower():
            raise CheckpointInvalid(f"the verifier key of {name} names the wrong key ID")
        return verifier


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_of(name: str, key: Ed25519PrivateKey) -> Verifier:
    return Verifier(name, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def sign(checkpoint: Checkpoint, name: str, key: Ed25519PrivateKey) -> str:
    """The checkpoint as a signed note."""
    if not _NAME.match(name):
        raise InvalidInput("a signer's name has no spaces or '+'")
    text = checkpoint.text()
    signature = key_id(name, verifier_of(name, key).public_key) + key.sign(text.encode())
    return f"{text}\n{signature_line(name, signature)}"


def add_signature(note: str, name: str, key: Ed25519PrivateKey) -> str:
    """``note`` with one more signature over the same text (a witness's cosignature)."""
    text, _ = split_note(note)
    signature = key_id(name, verifier_of(name, key).public_key) + key.sign(text.encode())
    return note + signature_line(name, signature)


def signature_line(name: str, signature: bytes) -> str:
    """A note's signature line: ``— <name> base64(key ID ‖ signature)`` and its newline."""
    return f"{DASH} {name} {base64.b64encode(signature).decode()}\n"


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The note's text and its signatures (name, key ID ‖ signature), unverified."""
    if any(ord(c) < 0x20 and c != "\n" for c in note) or not note.endswith("\n"):
        raise CheckpointInvalid("a note is UTF-8 text ending in a newline, no control characters")
    at = note.rfind("\n\n")
    if at < 0:
        raise CheckpointInvalid("a note has a blank line before its signatures")
    text, lines = note[: at + 1], note[at + 2 :].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise CheckpointInvalid(f"a note has 1 to {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        dash, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise CheckpointInvalid(f"a signature line does not parse: {line[:80]!r}") from None
        if dash != DASH or not _NAME.match(name) or len(raw) < 5:
            raise CheckpointInvalid(f"a signature line does not parse: {line[:80]!r}")
        signatures.append((name, raw))
    return text, signatures


def parse_text(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CheckpointInvalid("a checkpoint is origin, size and root hash, a line each")
    origin, size, root = lines[0], lines[1], lines[2]
    if not origin or not _SIZE.match(size):
        raise CheckpointInvalid("a checkpoint's origin is a line and its size a decimal number")
    try:
        raw = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointInvalid("a checkpoint's root hash is base64") from None
    if len(raw) != HASH_SIZE:
        raise CheckpointInvalid(f"a checkpoint's root hash is {HASH_SIZE} bytes")
    return Checkpoint(origin, int(size), raw)


def verifies(verifier: Verifier, signature: bytes, text: str) -> bool:
    """Whether ``signature`` is ``verifier``'s Ed25519 signature of the note text."""
    try:
        Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(signature, text.encode())
    except InvalidSignature:
        return False
    return True


def _checked(note: str, verifiers: Iterable[Verifier]) -> tuple[str, set[str], set[str]]:
    """The note's text, the known signers whose signature verifies, and those whose does not."""
    text, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    good: set[str] = set()
    bad: set[str] = set()
    for name, raw in signatures:
        verifier = known.get((name, raw[:4]))
        if verifier is None:
            continue  # C2SP: signatures of unknown keys are ignored
        (good if verifies(verifier, raw[4:], text) else bad).add(name)
    return text, good, bad


def open_note(note: str, verifiers: Iterable[Verifier], origin: str | None = None) -> Checkpoint:
    """The checkpoint of ``note`` once a known key's signature verifies (C2SP: a known key's bad
    signature refuses the note)."""
    text, good, bad = _checked(note, verifiers)
    if bad:
        raise CheckpointInvalid(f"the signature of {sorted(bad)[0]} does not verify")
    if not good:
        raise CheckpointInvalid("no signature of a known key on this checkpoint")
    checkpoint = parse_text(text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointInvalid(f"the checkpoint is of {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


def signed_by(note: str, verifiers: Iterable[Verifier]) -> set[str]:
    """The names of ``verifiers`` whose signature on ``note`` verifies."""
    return _checked(note, verifiers)[1]
