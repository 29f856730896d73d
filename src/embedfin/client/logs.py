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

:class:`PublicLogs` does the same through the public routes, naming the log by its origin: a
witness in another tenant or on another instance needs no API key of the log's tenant, only
to be registered (:meth:`Logs.add_witness`, by the log's operator).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

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
    """A tenant's logs, by id, with its API key."""

    def __init__(self, api: Client) -> None:
        self.api = api

    def _path(self, log: str, rest: str = "") -> str:
        return f"/v1/logs/{quote(log, safe='')}{rest}"

    def _params(self, log: str) -> dict[str, Any]:
        return {}

    def _get(self, log: str, rest: str, params: Mapping[str, Any] | None = None) -> Any:
        query = {**self._params(log), **(params or {})}
        return self.api.request("GET", self._path(log, rest), params=query)

    # --- calls ---------------------------------------------------------------------------------
    def info(self, log_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._get(log_id, "")
        return found

    def append(
        self, log_id: str, entries: Sequence[str], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        found: dict[str, Any] = self.api.request(
            "POST", self._path(log_id, "/entries"), json={"entries": list(entries)},
            idempotency_key=idempotency_key,
        )  # fmt: skip
        return found

    def checkpoint(self, log_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._get(log_id, "/checkpoint")
        return found

    def inclusion(self, log_id: str, index: int, size: int) -> tuple[bytes, list[bytes]]:
        found = self._get(log_id, "/proofs/inclusion", {"index": index, "size": size})
        return _b64(found["leaf_hash"]), [_b64(p) for p in found["proof"]]

    def consistency(self, log_id: str, first: int, second: int) -> list[bytes]:
        found = self._get(log_id, "/proofs/consistency", {"first": first, "second": second})
        return [_b64(p) for p in found["proof"]]

    def cosign(self, log_id: str, note: str) -> dict[str, Any]:
        """Hand the log a checkpoint with a registered witness's line added."""
        found: dict[str, Any] = self.api.request(
            "POST", self._path(log_id, "/cosignatures"), json={"note": note}
        )
        return found

    def witnesses(self, log_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._get(log_id, "/witnesses")["data"]
        return found

    def add_witness(self, log_id: str, vkey: str) -> dict[str, Any]:
        """Accept the cosignatures of the witness of note verifier key ``vkey`` (operators)."""
        found: dict[str, Any] = self.api.request(
            "POST", self._path(log_id, "/witnesses"), json={"vkey": vkey}
        )
        return found

    def remove_witness(self, log_id: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.request(
            "POST", self._path(log_id, "/witnesses/remove"), json={"name": name}
        )
        return found

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
        self.cosign(log_id, note)
        return Verified(verified.checkpoint, note, verified.since, ())


class PublicLogs(Logs):
    """A public log (a platform log, or one with a registered witness), named by its origin
    wherever ``Logs`` takes a log id; no API key needed (``Client(None, url)``)."""

    def _path(self, log: str, rest: str = "") -> str:
        return f"/v1/public/logs{rest}"

    def _params(self, log: str) -> dict[str, Any]:
        return {"origin": log}

    def info(self, log_id: str) -> dict[str, Any]:
        raise NotImplementedError("a public log is known by its pinned origin and key")

    def append(
        self, log_id: str, entries: Sequence[str], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        raise NotImplementedError("only the log's tenant appends")


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
                text, _ = checkpoints.split_note(str(record["note"]))
                claimed = checkpoints.parse_text(text)
                if (record["origin"], record["size"]) != (claimed.origin, claimed.size):
                    raise CheckpointInvalid("its origin or size is not its note's")
                if claimed.origin != origin:
                    continue  # another log's checkpoint
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
