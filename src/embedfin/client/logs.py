"""The SDK's side of the verifiable logs: calls, and the checks a consortium member runs.

    from embedfin.client import Client
    from embedfin.client.logs import Logs, KeptCheckpoints

    with Client("efk_…", base_url) as api:
        logs = Logs(api)
        kept = KeptCheckpoints(Path("scf.checkpoints"))
        verified = logs.verify("scf", verifier, kept.latest(origin), entries=[12])
        kept.add(verified.note)

:meth:`Logs.verify` trusts nothing the server says without proof: the checkpoint must carry a
good signature of the pinned verifier key for the pinned origin, must not be smaller than the
last one kept, must prove consistent with it (RFC 9162 §2.1.4.2), and every entry asked for
must prove included in it (§2.1.3.2). :meth:`Logs.witness` does the same from the last
checkpoint *it* cosigned, then adds its cosignature — a log that showed two histories can never
get both cosigned. Both need only ``merkle.py`` and ``checkpoints.py``, which are pure.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from embedfin.transparency import checkpoints, merkle
from embedfin.transparency.checkpoints import Checkpoint, CheckpointInvalid, Verifier
from embedfin.transparency.merkle import ProofInvalid

if TYPE_CHECKING:
    from embedfin.client import Client


class SplitView(ProofInvalid):
    """The log showed a history that does not extend the one seen before."""

    code = "split_view"


@dataclass(frozen=True, slots=True)
class Verified:
    checkpoint: Checkpoint
    note: str
    #: the size of the kept checkpoint it was proved consistent with (None: the first)
    since: int | None
    entries: tuple[int, ...]


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


class Logs:
    def __init__(self, api: Client) -> None:
        self.api = api

    # --- calls ---------------------------------------------------------------------------------
    def info(self, log_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.request("GET", f"/v1/logs/{log_id}")
        return found

    def append(
        self, log_id: str, entries: Sequence[str], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        found: dict[str, Any] = self.api.request(
            "POST", f"/v1/logs/{log_id}/entries", json={"entries": list(entries)},
            idempotency_key=idempotency_key,
        )  # fmt: skip
        return found

    def checkpoint(self, log_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.request("GET", f"/v1/logs/{log_id}/checkpoint")
        return found

    def inclusion(self, log_id: str, index: int, size: int) -> tuple[bytes, list[bytes]]:
        found = self.api.request(
            "GET", f"/v1/logs/{log_id}/proofs/inclusion", params={"index": index, "size": size}
        )
        return _b64(found["leaf_hash"]), [_b64(p) for p in found["proof"]]

    def consistency(self, log_id: str, first: int, second: int) -> list[bytes]:
        found = self.api.request(
            "GET",
            f"/v1/logs/{log_id}/proofs/consistency",
            params={"first": first, "second": second},
        )
        return [_b64(p) for p in found["proof"]]

    # --- checks --------------------------------------------------------------------------------
    def verify(
        self,
        log_id: str,
        verifier: Verifier,
        origin: str,
        kept: Checkpoint | None = None,
        entries: Sequence[int] = (),
    ) -> Verified:
        """The log's current checkpoint, proved to extend ``kept`` and to hold ``entries``."""
        note = str(self.checkpoint(log_id)["note"])
        head = checkpoints.open_note(note, [verifier], origin)
        self.prove_extends(log_id, kept, head)
        for index in entries:
            leaf, proof = self.inclusion(log_id, index, head.size)
            merkle.verify_inclusion(index, head.size, leaf, proof, head.root)
        return Verified(head, note, None if kept is None else kept.size, tuple(entries))

    def prove_extends(self, log_id: str, kept: Checkpoint | None, head: Checkpoint) -> None:
        if kept is None:
            return
        if head.size < kept.size:
            raise SplitView(f"the log shrank from {kept.size} to {head.size} entries")
        if head.size == kept.size:
            if head.root != kept.root:
                raise SplitView(f"two roots for {head.size} entries: the log shows two histories")
            return
        proof = self.consistency(log_id, kept.size, head.size)
        try:
            merkle.verify_consistency(kept.size, head.size, kept.root, head.root, proof)
        except ProofInvalid as error:
            raise SplitView(
                f"the tree of {head.size} does not extend the tree of {kept.size} kept before"
                f" ({error}): the log shows two histories"
            ) from None

    def witness(
        self,
        log_id: str,
        verifier: Verifier,
        origin: str,
        name: str,
        key: Ed25519PrivateKey,
        cosigned: Checkpoint | None = None,
    ) -> Verified:
        """Check the current checkpoint against the last one this witness cosigned, cosign it
        and hand the cosignature to the log."""
        verified = self.verify(log_id, verifier, origin, cosigned)
        note = checkpoints.add_signature(verified.note, name, key)
        self.api.request(
            "POST", f"/v1/logs/{log_id}/cosignatures",
            json={"note": note, "witness": str(checkpoints.verifier_of(name, key))},
        )  # fmt: skip
        return Verified(verified.checkpoint, note, verified.since, ())


class KeptCheckpoints:
    """Checkpoints a member keeps, one JSON object per line (``origin``, ``size``, ``note``):
    the state that makes the next verification a proof of consistency."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def latest(self, origin: str, verifier: Verifier) -> Checkpoint | None:
        """The largest kept checkpoint of ``origin`` (each one's signature checked again)."""
        best: Checkpoint | None = None
        if not self.path.exists():
            return None
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise CheckpointInvalid(
                f"{self.path}: not a file of kept checkpoints ({error})"
            ) from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if record.get("origin") != origin:
                    continue
                head = checkpoints.open_note(str(record["note"]), [verifier], origin)
            except (ValueError, KeyError, TypeError, AttributeError, CheckpointInvalid) as error:
                raise CheckpointInvalid(
                    f"{self.path}:{number}: not a kept checkpoint ({error})"
                ) from None
            if best is None or head.size > best.size:
                best = head
        return best

    def add(self, checkpoint: Checkpoint, note: str) -> None:
        line = json.dumps({"origin": checkpoint.origin, "size": checkpoint.size, "note": note})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
