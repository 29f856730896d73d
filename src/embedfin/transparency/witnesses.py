"""The witnesses a log accepts cosignatures from, and which logs are public.

A log's owner registers each witness by its note verifier key (``name+keyid+base64(0x01 ‖
key)``). A cosignature is kept only when it is the line of a registered witness and verifies
under that witness's key: the signature is the witness's credential, so a witness needs no API
key of the log's tenant. One name holds one key and one cosignature per checkpoint: a second,
different line for a slot already taken is a conflict, never a silent drop (the same line again
is no change). Re-keying a witness is removing its name and registering the new key.

A log with a witness is **public**: its checkpoints and proofs — hashes, never entry bodies —
are served by origin to anyone (``api/routes/public_logs.py``), since a witness in another
tenant or on another instance must read them. The platform's own logs are always public. A log
without witnesses stays its tenant's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, exists, select

from embedfin.core.errors import EmbedfinError, InvalidInput, NotFound
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import tlog_cosignatures, tlog_logs, tlog_witnesses
from embedfin.transparency import checkpoints
from embedfin.transparency.checkpoints import CheckpointInvalid, Verifier

#: A note holds at most this many signatures, the log's own among them.
MAX_WITNESSES = checkpoints.MAX_SIGNATURES - 1
_L, _W, _S = tlog_logs.c, tlog_witnesses.c, tlog_cosignatures.c


class WitnessConflict(EmbedfinError):
    """A write that contradicts what the log already holds for a witness (answered 409)."""

    code = "witness_conflict"


class WitnessNameTaken(WitnessConflict):
    """Another key is registered under this witness's name."""

    code = "witness_name_taken"


class CosignatureConflict(WitnessConflict):
    """The witness already cosigned this checkpoint with another signature line."""

    code = "cosignature_conflict"


class WitnessNotRegistered(InvalidInput):
    """The note carries no cosignature of a witness the log registered."""

    code = "witness_not_registered"


@dataclass(frozen=True, slots=True)
class Witness:
    """Attributes:
    verifier: the witness's name and Ed25519 public key.
    added_at: when the log registered it (ns since the epoch).
    """

    verifier: Verifier
    added_at: int


def registered(conn: Connection, key: int) -> dict[str, Witness]:
    rows = conn.execute(
        select(_W.name, _W.public_key, _W.added_at).where(_W.log_key == key).order_by(_W.name)
    )
    return {
        str(r.name): Witness(Verifier(str(r.name), bytes(r.public_key)), int(r.added_at))
        for r in rows
    }


def add(conn: Connection, key: int, verifier: Verifier, log_signer: str, now: int) -> bool:
    """Register ``verifier``; whether it is new (the same key again changes nothing)."""
    if verifier.name == log_signer:
        raise InvalidInput(f"{log_signer!r} is the log's own key name, not a witness's")
    known = registered(conn, key)
    if verifier.name not in known and len(known) >= MAX_WITNESSES:
        raise InvalidInput(f"a log has at most {MAX_WITNESSES} witnesses")
    row = {"log_key": key, "name": verifier.name, "public_key": verifier.public_key,
           "added_at": now}  # fmt: skip
    if insert_if_absent(conn, tlog_witnesses, row):
        return True
    stored = registered(conn, key)[verifier.name].verifier
    if stored.public_key != verifier.public_key:
        raise WitnessNameTaken(f"another key is registered as witness {verifier.name!r}")
    return False


def remove(conn: Connection, key: int, name: str) -> None:
    """Forget a witness (its cosignatures kept so far stay: they verified when kept)."""
    done = conn.execute(delete(tlog_witnesses).where(_W.log_key == key, _W.name == name))
    if not done.rowcount:
        raise NotFound(f"no witness {name!r} on this log")


def cosignature_lines(
    text: str, signatures: Sequence[tuple[str, bytes]], witnesses: Mapping[str, Witness]
) -> dict[str, str]:
    """The note lines of the registered witnesses that verify under their keys, by name. Pure.

    Lines of other keys (the log's own signature, anyone else's) are ignored, as C2SP says, and
    so is a registered witness's line that does not verify when another of its lines does (the
    line kept is always one that verifies, never merely the first of the name). A note with no
    line of a registered witness, or only bad ones, is refused."""
    lines: dict[str, str] = {}
    bad: set[str] = set()
    for name, raw in signatures:
        witness = witnesses.get(name)
        if witness is None or raw[:4] != witness.verifier.key_id:
            continue
        if not checkpoints.verifies(witness.verifier, raw[4:], text):
            bad.add(name)
            continue
        line = checkpoints.signature_line(name, raw)
        if lines.setdefault(name, line) != line:
            raise CosignatureConflict(f"two different cosignatures of {name} in one note")
    if not lines and bad:
        raise CheckpointInvalid(f"the cosignature of {sorted(bad)[0]} does not verify")
    if not lines:
        raise WitnessNotRegistered("no cosignature of a witness this log registered")
    return lines


def unkept(conn: Connection, key: int, size: int, lines: Mapping[str, str]) -> dict[str, str]:
    """The ``lines`` not yet kept for the checkpoint of ``size``; a slot that holds another
    line is a conflict."""
    stored = {
        str(r.witness): str(r.signature)
        for r in conn.execute(
            select(_S.witness, _S.signature).where(_S.log_key == key, _S.size == size)
        )
    }
    for name, line in lines.items():
        if stored.get(name, line) != line:
            raise CosignatureConflict(
                f"witness {name} already cosigned the checkpoint of {size} with another line"
            )
    return {name: line for name, line in lines.items() if name not in stored}


def keep(conn: Connection, key: int, size: int, lines: Mapping[str, str], now: int) -> list[str]:
    """Keep each witness's line beside the checkpoint of ``size``; the names newly kept.

    A slot taken by another line is a conflict: nothing of this note is kept (the caller's
    unit of work rolls back)."""
    fresh = []
    for name, line in sorted(lines.items()):
        row = {"log_key": key, "size": size, "witness": name, "signature": line,
               "signed_at": now}  # fmt: skip
        if insert_if_absent(conn, tlog_cosignatures, row):
            fresh.append(name)
            continue
        stored = conn.execute(
            select(_S.signature).where(_S.log_key == key, _S.size == size, _S.witness == name)
        ).scalar_one()
        if stored != line:
            raise CosignatureConflict(
                f"witness {name} already cosigned the checkpoint of {size} with another line"
            )
    return fresh


def public_log(conn: Connection, origin: str, platform_tenant: str) -> tuple[str, str]:
    """The tenant and id of the public log of ``origin``; NotFound if there is none (a log
    without witnesses is answered exactly like a log that does not exist)."""
    has_witness = exists().where(_W.log_key == _L.log_key)
    row = conn.execute(
        select(_L.tenant, _L.log_id).where(
            _L.origin == origin, (_L.tenant == platform_tenant) | has_witness
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no public log of this origin")
    return str(row.tenant), str(row.log_id)
