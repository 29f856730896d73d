"""The audit log's secrets, held outside the database: the HMAC key ring and the signing key.

Found the way the field cipher's key ring is (``crypto.load_cipher``):

* **HMAC key ring** that chains entries: ``EMBEDFIN_AUDIT_KEY="a2:<base64 32 bytes>,a1:…"``. The
  first key chains new entries; every key verifies, and each row names its key id, so a key
  rotates by putting a new one in front and keeping the old ones for as long as their entries
  must verify. Without the variable a development ring is created once in the data directory
  (``embedfin-data/audit-keys``, mode 0600) with a random key id, so a verifier that has another
  ring says "unknown key" rather than "tampered".
* **Checkpoint signing key** (Ed25519): ``EMBEDFIN_AUDIT_SIGNING_KEY=<base64 32-byte seed>``, or
  the development key ``embedfin-data/audit-signing-key`` (0600). Only its public key is needed to
  verify checkpoints; it is written beside the checkpoint file.

A database writer sees neither secret: the database holds key ids and MACs, never keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from embedfin.core.errors import ConfigurationError
from embedfin.db.engine import DEFAULT_DATA_DIR

KEY_ENV = "EMBEDFIN_AUDIT_KEY"
SIGNING_ENV = "EMBEDFIN_AUDIT_SIGNING_KEY"
KEY_FILE = "audit-keys"
SIGNING_FILE = "audit-signing-key"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True, slots=True)
class AuditKeys:
    """The HMAC key ring: ``primary`` chains new entries, every key in ``keys`` verifies."""

    primary: str
    keys: Mapping[str, bytes]

    @classmethod
    def parse(cls, spec: str) -> AuditKeys:
        """``kid:base64key[,kid:base64key…]``; the first key chains new entries."""
        keys: dict[str, bytes] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            kid, sep, b64 = item.partition(":")
            if not sep or not _KID.match(kid):
                raise ConfigurationError(
                    f"{KEY_ENV} entries are kid:base64key, kid of [A-Za-z0-9_-]"
                )
            try:
                key = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError) as error:
                raise ConfigurationError(f"audit key {kid!r} is not valid base64") from error
            if len(key) != 32:
                raise ConfigurationError(f"audit key {kid!r} must be 32 bytes")
            keys[kid] = key
        if not keys:
            raise ConfigurationError("the audit key ring is empty")
        return cls(next(iter(keys)), keys)

    @property
    def primary_key(self) -> bytes:
        return self.keys[self.primary]


def new_audit_key_spec(kid: str | None = None) -> str:
    """A fresh ``kid:base64key`` (a random ``dev-…`` id unless one is given)."""
    kid = kid or f"dev-{secrets.token_hex(4)}"
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def new_signing_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _write_once(path: Path, content: str) -> None:
    """Create ``path`` (0600) with ``content`` unless it exists; exactly one process wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(content + "\n")
    try:
        os.link(staged, path)
    except FileExistsError:
        pass
    finally:
        staged.unlink()


_RINGS: dict[tuple[str, str], AuditKeys] = {}


def load_audit_keys(data_dir: Path | None = None, *, create: bool = True) -> AuditKeys | None:
    """The configured ring, or the development ring in ``data_dir``.

    ``create=False`` (verifying) never makes a ring: a verifier without the writer's key must
    report the entries as unverifiable, not invent a key that makes them look tampered.
    """
    spec = os.environ.get(KEY_ENV)
    if spec:
        return _cached(("env", spec), lambda: spec)
    path = (data_dir or DEFAULT_DATA_DIR) / KEY_FILE
    if (ring := _RINGS.get(("file", os.path.abspath(path)))) is not None:
        return ring
    if not path.exists():
        if not create:
            return None
        _write_once(path, new_audit_key_spec())
    return _cached(("file", os.path.abspath(path)), lambda: path.read_text().strip())


def _cached(source: tuple[str, str], spec: Callable[[], str]) -> AuditKeys:
    """Parsed rings by source: an entry is written on every privileged request, and the
    development ring's file is read once per process."""
    ring = _RINGS.get(source)
    if ring is None:
        ring = _RINGS[source] = AuditKeys.parse(spec())
    return ring


def parse_signing_key(text: str, env: str = SIGNING_ENV) -> Ed25519PrivateKey:
    try:
        seed = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ConfigurationError(f"{env} is not valid base64") from error
    if len(seed) != 32:
        raise ConfigurationError(f"{env} must be a 32-byte Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_signing_key(
    data_dir: Path | None = None, env: str = SIGNING_ENV, file: str = SIGNING_FILE
) -> Ed25519PrivateKey:
    """A signing key: the variable ``env`` (the audit checkpoints' by default), or the
    development key ``file`` in ``data_dir`` (0600), made once."""
    text = os.environ.get(env)
    if text:
        return parse_signing_key(text, env)
    path = (data_dir or DEFAULT_DATA_DIR) / file
    if not path.exists():
        _write_once(path, new_signing_key_text())
    return parse_signing_key(path.read_text(), env)


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def signer_id(public_key: bytes) -> str:
    """A public key's short name in checkpoints: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]
