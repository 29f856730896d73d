"""Signed checkpoints of the audit chain's head, kept outside the database.

A checkpoint is Ed25519 over ``(seq, head hash, entry count, time)`` of the chain's newest
entry, one JSON object per line appended to a file the database cannot reach
(``embedfin audit checkpoint`` writes one; the API worker writes one at start, every
``audit_checkpoint_interval_s`` and at stop). The HMAC of each entry stops a database writer
from forging entries, but not from cutting off the newest ones or from rewriting the whole
chain in the unkeyed legacy scheme; a checkpoint names a head that must still be in the chain,
so both show. ``verify`` checks every checkpoint of the file.

The public key is written beside the file (``<name>.pub``: one ``ed25519 <base64>`` line per
signing key ever used), so verifying needs only it; ``--public-key`` pins a copy kept elsewhere.
A checkpoint is written only over a chain that verifies from the previous checkpoint: the
signer never vouches for a head it has not checked.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from embedfin.core.errors import EmbedfinError
from embedfin.db.engine import DEFAULT_DATA_DIR
from embedfin.security import audit
from embedfin.security.audit_keys import load_signing_key, public_key_bytes, signer_id

SUFFIX = ".audit-checkpoints.jsonl"
_DOMAIN = b"embedfin-audit-checkpoint-v1\n"
_FIELDS = ("seq", "head", "entries", "at_ns", "signer", "signature")


class CheckpointInvalid(EmbedfinError):
    """The checkpoint file cannot be trusted: unreadable, unsigned, or signed by no known key."""

    code = "audit_checkpoint_invalid"


class AuditChainBroken(EmbedfinError):
    """The chain does not verify, so no checkpoint vouches for its head."""

    code = "audit_chain_broken"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed head. ``signer`` names the public key (``audit_keys.signer_id``)."""

    seq: int
    head: str
    entries: int
    at_ns: int
    signer: str
    signature: str


def checkpoint_message(seq: int, head: str, entries: int, at_ns: int) -> bytes:
    return _DOMAIN + json.dumps([seq, head, entries, at_ns], separators=(",", ":")).encode()


def sign(key: Ed25519PrivateKey, seq: int, head: str, entries: int, at_ns: int) -> Checkpoint:
    raw = key.sign(checkpoint_message(seq, head, entries, at_ns))
    signer = signer_id(public_key_bytes(key))
    return Checkpoint(seq, head, entries, at_ns, signer, base64.b64encode(raw).decode())


def public_keys_path(checkpoints: Path) -> Path:
    """Where the public keys of a checkpoint file live: beside it, ``<stem>.pub``."""
    return checkpoints.with_suffix(".pub")


def default_checkpoints_path(url: str) -> Path | None:
    """Beside a SQLite file (``embedfin-data/demo.db`` → ``…/demo.audit-checkpoints.jsonl``);
    in the data directory for PostgreSQL, named by the database; none for in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return None
        return beside(Path(parsed.database))
    return DEFAULT_DATA_DIR / f"{parsed.database or 'postgres'}{SUFFIX}"


def beside(db_file: Path) -> Path:
    """The checkpoint file of a SQLite database file (removed with it by ``embedfin demo``)."""
    return db_file.with_name(db_file.stem + SUFFIX)


def read_public_keys(path: Path) -> dict[str, Ed25519PublicKey]:
    """Every ``ed25519 <base64>`` line of ``path`` by signer id (the id is recomputed)."""
    if not path.exists():
        raise CheckpointInvalid(f"no public key file {path} for the checkpoints")
    keys: dict[str, Ed25519PublicKey] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        kind, _, b64 = line.strip().partition(" ")
        if not line.strip():
            continue
        try:
            raw = base64.b64decode(b64, validate=True)
            if kind != "ed25519" or len(raw) != 32:
                raise ValueError(kind)
        except (binascii.Error, ValueError) as error:
            raise CheckpointInvalid(f"{path} line {number}: not an ed25519 public key") from error
        keys[signer_id(raw)] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


def parse_line(line: str, keys: Mapping[str, Ed25519PublicKey], where: str) -> Checkpoint:
    """One line of the file, its signature checked; ``CheckpointInvalid`` naming ``where``."""
    try:
        data = json.loads(line)
        checkpoint = Checkpoint(**{name: data[name] for name in _FIELDS})
        numbers = (checkpoint.seq, checkpoint.entries, checkpoint.at_ns)
        if not all(type(n) is int and n >= 0 for n in numbers):
            raise ValueError("seq, entries and at_ns are integers")
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise CheckpointInvalid(f"{where}: not a checkpoint ({error})") from error
    key = keys.get(checkpoint.signer)
    if key is None:
        raise CheckpointInvalid(f"{where}: signed by unknown key {checkpoint.signer!r}")
    message = checkpoint_message(
        checkpoint.seq, checkpoint.head, checkpoint.entries, checkpoint.at_ns
    )
    try:
        key.verify(signature, message)
    except InvalidSignature as error:
        raise CheckpointInvalid(f"{where}: the signature does not verify") from error
    if checkpoint.entries != checkpoint.seq:
        raise CheckpointInvalid(f"{where}: entry count {checkpoint.entries} is not its seq")
    return checkpoint


def read_checkpoints(path: Path, public_keys: Path | None = None) -> list[Checkpoint]:
    """Every checkpoint of the file, each signature verified; any bad line fails the file."""
    keys = read_public_keys(public_keys or public_keys_path(path))
    lines = path.read_text().splitlines()
    return [
        parse_line(line, keys, f"{path} line {number}")
        for number, line in enumerate(lines, 1)
        if line.strip()
    ]


def latest_checkpoint(path: Path, public_keys: Path | None = None) -> Checkpoint | None:
    """The file's last checkpoint, read from its tail (the file grows for ever)."""
    if not path.exists():
        return None
    with path.open("rb") as file:
        size = file.seek(0, os.SEEK_END)
        file.seek(max(0, size - 8192))
        tail = file.read().decode(errors="replace").splitlines()
    lines = [line for line in tail if line.strip()]
    if not lines:
        return None
    keys = read_public_keys(public_keys or public_keys_path(path))
    return parse_line(lines[-1], keys, f"{path} (last line)")


def _append_line(path: Path, line: str) -> None:
    """One ``write`` with O_APPEND, then fsync: concurrent writers never interleave a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def append_checkpoint(path: Path, checkpoint: Checkpoint, key: Ed25519PrivateKey) -> None:
    """Append ``checkpoint``; first publish the signer's public key beside the file."""
    pub = public_keys_path(path)
    known = read_public_keys(pub) if pub.exists() else {}
    if checkpoint.signer not in known:
        raw = public_key_bytes(key)
        _append_line(pub, f"ed25519 {base64.b64encode(raw).decode()}")
    _append_line(path, json.dumps(asdict(checkpoint), separators=(",", ":")))


def write_checkpoint(
    conn: Connection,
    path: Path,
    now_ns: int,
    *,
    signing_key: Ed25519PrivateKey | None = None,
    keys: Mapping[str, bytes] | None = None,
) -> Checkpoint:
    """Verify the chain after the file's latest checkpoint, then sign and append its head.

    Raises ``AuditChainBroken`` (nothing written) when the chain does not verify.
    """
    key = signing_key or load_signing_key()
    report = audit.verify(conn, keys, after=latest_checkpoint(path))
    if not report.ok:
        raise AuditChainBroken(f"audit log broken at entry {report.first_bad_seq}: {report.reason}")
    checkpoint = sign(key, report.head_seq, report.head_hash, report.head_seq, now_ns)
    append_checkpoint(path, checkpoint, key)
    return checkpoint


def checkpoint_entry(checkpoint: Checkpoint) -> str:
    """A checkpoint as the entry the platform's verifiable ``audit`` log keeps of it."""
    return json.dumps({"kind": "audit_checkpoint", **asdict(checkpoint)}, separators=(",", ":"))


class Checkpointer:
    """A checkpoint every ``interval_s`` for a long-running process (the API worker), handed
    to ``publish`` too (the platform appends it to its verifiable ``audit`` log, so cutting the
    file off or rewriting it shows against a log members can check).

    Nothing is read or created until the first checkpoint is due (``interval_s`` after start,
    or ``write()`` called directly); ``interval_s <= 0`` turns the schedule off.
    """

    def __init__(
        self,
        path: Path,
        interval_s: float,
        read: Callable[[], Connection],
        now_ns: Callable[[], int],
        publish: Callable[[Checkpoint], object] | None = None,
    ) -> None:
        self.path = path
        self.interval_s = interval_s
        self._read = read
        self._now_ns = now_ns
        self._publish = publish
        self._next_at = time.monotonic() + interval_s

    def due(self) -> bool:
        return self.interval_s > 0 and time.monotonic() >= self._next_at

    def maybe_write(self) -> Checkpoint | None:
        return self.write() if self.due() else None

    def write(self) -> Checkpoint:
        self._next_at = time.monotonic() + self.interval_s  # a failure retries next period
        with self._read() as conn:
            checkpoint = write_checkpoint(conn, self.path, self._now_ns())
        if self._publish is not None:
            self._publish(checkpoint)
        return checkpoint
