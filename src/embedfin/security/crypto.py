"""Field-level encryption of personal data at rest: AES-256-GCM with a key ring.

A stored value reads ``enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``. The first key of
the ring encrypts; every key decrypts, so keys rotate without downtime: add a new key in front,
run ``embedfin keys rotate-data`` to re-encrypt, then drop the old key. The associated data binds
a ciphertext to its column and row, so a value copied to another row fails to decrypt.

Keys come from configuration: ``EMBEDFIN_DATA_KEYS="k2:<base64 32 bytes>,k1:<base64 32 bytes>"``.
Without it, a development key ring is created once next to the database (``data-keys`` in the
data directory, mode 0600) so that the two-command quick start works; production sets the
variable from its secret store.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from embedfin.core.errors import ConfigurationError, EmbedfinError

PREFIX = "enc:v1:"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
ENV = "EMBEDFIN_DATA_KEYS"


class DecryptionFailed(EmbedfinError):
    """A stored value could not be decrypted: unknown key id, tampering, or the wrong row."""

    code = "decryption_failed"


class FieldCipher:
    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise ConfigurationError("the data key ring is empty")
        for kid, key in keys.items():
            if not _KID.match(kid):
                raise ConfigurationError(f"data key id {kid!r} must be 1-32 of [A-Za-z0-9_-]")
            if len(key) != 32:
                raise ConfigurationError(f"data key {kid!r} must be 32 bytes (AES-256)")
        self.primary = next(iter(keys))
        self._aead = {kid: AESGCM(key) for kid, key in keys.items()}
        self._primary_key = keys[self.primary]

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose`` derived from the primary data key (HMAC-SHA256), so
        another secret (the risk challenge codes) needs no key of its own."""
        return hmac.new(self._primary_key, f"embedfin:{purpose}".encode(), "sha256").digest()

    @classmethod
    def parse(cls, spec: str) -> FieldCipher:
        """``kid:base64key[,kid:base64key…]``; the first key encrypts."""
        keys: dict[str, bytes] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            kid, sep, b64 = item.partition(":")
            if not sep:
                raise ConfigurationError(f"{ENV} entries are kid:base64key")
            try:
                keys[kid] = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError) as error:
                raise ConfigurationError(f"data key {kid!r} is not valid base64") from error
        return cls(keys)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead[self.primary].encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}{self.primary}:{body}"

    def decrypt(self, stored: str, context: str) -> str:
        if not stored.startswith(PREFIX):
            raise DecryptionFailed("value is not encrypted with this scheme")
        kid, _, body = stored[len(PREFIX) :].partition(":")
        aead = self._aead.get(kid)
        if aead is None:
            raise DecryptionFailed(f"no data key {kid!r} in the key ring")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError, binascii.Error) as error:
            raise DecryptionFailed("value does not decrypt under its key and context") from error

    def needs_rotation(self, stored: str) -> bool:
        return not stored.startswith(f"{PREFIX}{self.primary}:")

    def rotate(self, stored: str, context: str) -> str:
        return self.encrypt(self.decrypt(stored, context), context)


def new_key_spec(kid: str) -> str:
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def load_cipher(data_dir: Path | None = None) -> FieldCipher:
    """The configured key ring, or the development ring kept in ``data_dir``."""
    spec = os.environ.get(ENV)
    if spec:
        return FieldCipher.parse(spec)
    path = (data_dir or Path("embedfin-data")) / "data-keys"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(new_key_spec("dev1") + "\n")
        try:
            os.link(staged, path)  # atomic: exactly one process's ring wins
        except FileExistsError:
            pass
        finally:
            staged.unlink()
    return FieldCipher.parse(path.read_text().strip())


def mask(value: str, keep: int = 4) -> str:
    """``+44 20 7946 0958`` → ``•••• 0958``: enough to recognise, not to use."""
    tail = value[-keep:] if len(value) > keep else ""
    return f"•••• {tail}".rstrip()


def mask_name(name: str) -> str:
    """``Ada Lovelace`` → ``A** L*******``."""
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else mask(email)
