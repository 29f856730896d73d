"""``/v1/logs/…``: the tenant's verifiable logs (RFC 9162 Merkle trees, C2SP checkpoints).

Checkpoints and proofs are hashes only and need ``read``; an entry's body needs ``audit:read``;
appending and keeping a witness's cosignature need ``log:write``; choosing the witnesses a log
accepts needs ``log:witnesses`` (operators), and is audited. ``GET …/checkpoint`` signs the
current size when no checkpoint of it exists yet (one signature per size, kept), so a member
can always fetch a checkpoint of what is there and prove it against an older one. A log with
a witness is also served by origin to anyone (``public_logs.py``).

Numbers in paths and queries are decimal digits only (``Whole``): ``2.0`` or ``+1`` is 422.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import Depends, Path, Query

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import LogCommand, LogWitnessesCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import page, v1_router
from embedfin.api.schemas.common import Whole, ts
from embedfin.api.schemas.transparency import (
    AppendIn,
    AppendOut,
    CheckpointOut,
    ConsistencyOut,
    CosignIn,
    EntryOut,
    InclusionOut,
    LogOut,
    WitnessIn,
    WitnessOut,
    WitnessRemoval,
)
from embedfin.core.errors import InvalidStateTransition
from embedfin.scf.steps import LOG_ID as SCF_LOG
from embedfin.transparency.checkpoints import Verifier
from embedfin.transparency.service import LogInfo, SignedCheckpoint, TransparencyLog
from embedfin.transparency.witnesses import Witness

router = v1_router()
#: Logs a service writes in its own unit of work; nobody appends to them over the API.
SERVICE_LOGS = {SCF_LOG: "supply-chain finance"}


class LogReserved(InvalidStateTransition):
    code = "log_reserved"


Reader = Annotated[Principal, Depends(require(Scope.READ))]
Auditor = Annotated[Principal, Depends(require(Scope.AUDIT))]
Size = Annotated[Whole, Query(ge=1, le=2**62)]
Index = Annotated[Whole, Query(ge=0, le=2**62)]
AtIndex = Annotated[Whole, Path(ge=0, le=2**62)]
AtSize = Annotated[Whole, Path(ge=0, le=2**62)]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def log_body(info: LogInfo) -> dict[str, Any]:
    return LogOut(id=info.log_id, origin=info.origin, size=info.size,
                  verifier=info.verifier).model_dump(mode="json")  # fmt: skip


def checkpoint_body(signed: SignedCheckpoint) -> dict[str, Any]:
    head = signed.checkpoint
    return CheckpointOut(
        origin=head.origin, size=head.size, root=_b64(head.root), note=signed.note,
        signed=ts(signed.signed_at), witnesses=list(signed.witnesses),
    ).model_dump(mode="json")  # fmt: skip


def inclusion_body(log: TransparencyLog, log_id: str, index: int, size: int | None) -> Any:
    tree, proof = log.inclusion(log_id, index, size)
    leaf = log.entry(log_id, index).leaf_hash
    return InclusionOut(index=index, size=tree, leaf_hash=_b64(leaf),
                        proof=[_b64(p) for p in proof]).model_dump(mode="json")  # fmt: skip


def consistency_body(log: TransparencyLog, log_id: str, first: int, second: int | None) -> Any:
    tree, proof = log.consistency(log_id, first, second)
    return ConsistencyOut(first=first, second=tree,
                          proof=[_b64(p) for p in proof]).model_dump(mode="json")  # fmt: skip


def _witness_body(witness: Witness) -> dict[str, Any]:
    return WitnessOut(name=witness.verifier.name, vkey=str(witness.verifier),
                      added=ts(witness.added_at)).model_dump(mode="json")  # fmt: skip


@router.get("/logs", tags=["logs"])
def list_logs(platform: PlatformDep, principal: Reader) -> Any:
    return page([log_body(i) for i in platform.tenant(principal.tenant).log.logs()], False)


@router.get("/logs/{log_id}", response_model=LogOut, tags=["logs"])
def get_log(log_id: str, platform: PlatformDep, principal: Reader) -> Any:
    return log_body(platform.tenant(principal.tenant).log.info(log_id))


@router.post("/logs/{log_id}/entries", status_code=201, response_model=AppendOut, tags=["logs"])
def append_entries(log_id: str, body: AppendIn, cmd: LogCommand) -> Any:
    """Append entries in order (one unit of work: all of them or none). The ``scf`` log is
    written by supply-chain finance only: what it holds are certificate events."""

    def effect() -> tuple[int, Body]:
        if log_id in SERVICE_LOGS:
            raise LogReserved(f"the {log_id} log is written by {SERVICE_LOGS[log_id]} only")
        indexes = cmd.platform.tenant(cmd.tenant).log.append(log_id, body.entries)
        cmd.audit("log.append", log_id, {"first": indexes[0], "count": len(indexes)})
        out = AppendOut(first=indexes[0], last=indexes[-1], size=indexes[-1] + 1)
        return 201, out.model_dump(mode="json")

    return cmd.run(body.model_dump(), effect)


@router.get("/logs/{log_id}/entries/{index}", response_model=EntryOut, tags=["logs"])
def get_entry(log_id: str, index: AtIndex, platform: PlatformDep, principal: Auditor) -> Any:
    entry = platform.tenant(principal.tenant).log.entry(log_id, index)
    return EntryOut(index=entry.index, body=entry.body, leaf_hash=_b64(entry.leaf_hash),
                    appended=ts(entry.appended_at)).model_dump(mode="json")  # fmt: skip


@router.get("/logs/{log_id}/checkpoint", response_model=CheckpointOut, tags=["logs"])
def get_checkpoint(log_id: str, platform: PlatformDep, principal: Reader) -> Any:
    """The signed checkpoint of the log's current size."""
    return checkpoint_body(platform.tenant(principal.tenant).log.checkpoint(log_id))


@router.get("/logs/{log_id}/checkpoints/{size}", response_model=CheckpointOut, tags=["logs"])
def get_checkpoint_at(log_id: str, size: AtSize, platform: PlatformDep, principal: Reader) -> Any:
    """An earlier checkpoint, with the cosignatures witnesses added to it."""
    return checkpoint_body(platform.tenant(principal.tenant).log.checkpoint_at(log_id, size))


@router.get("/logs/{log_id}/proofs/inclusion", response_model=InclusionOut, tags=["logs"])
def get_inclusion(
    log_id: str, platform: PlatformDep, principal: Reader, index: Index, size: Size | None = None
) -> Any:
    """The audit path of entry ``index`` in the tree of ``size`` (default: the current)."""
    return inclusion_body(platform.tenant(principal.tenant).log, log_id, index, size)


@router.get("/logs/{log_id}/proofs/consistency", response_model=ConsistencyOut, tags=["logs"])
def get_consistency(
    log_id: str, platform: PlatformDep, principal: Reader, first: Size, second: Size | None = None
) -> Any:
    """That the tree of ``first`` entries is a prefix of the tree of ``second``."""
    return consistency_body(platform.tenant(principal.tenant).log, log_id, first, second)


@router.post("/logs/{log_id}/cosignatures", response_model=CheckpointOut, tags=["logs"])
def cosign(log_id: str, body: CosignIn, cmd: LogCommand) -> Any:
    """Keep the cosignatures of registered witnesses on one of this log's checkpoints (the
    same lines again: no change; another line of a witness for that checkpoint: 409)."""

    def effect() -> tuple[int, Body]:
        log = cmd.platform.tenant(cmd.tenant).log
        kept, fresh = log.cosign(log_id, body.note)
        if fresh:
            cmd.audit("log.cosign", log_id, {"size": kept.checkpoint.size, "witnesses": fresh})
        return 200, checkpoint_body(kept)

    return cmd.run(body.model_dump(), effect)


@router.get("/logs/{log_id}/witnesses", tags=["logs"])
def list_witnesses(log_id: str, platform: PlatformDep, principal: Reader) -> Any:
    """The witnesses whose cosignatures the log accepts."""
    found = platform.tenant(principal.tenant).log.witnesses(log_id)
    return page([_witness_body(w) for w in found], False)


@router.post("/logs/{log_id}/witnesses", status_code=201, response_model=WitnessOut, tags=["logs"])
def add_witness(log_id: str, body: WitnessIn, cmd: LogWitnessesCommand) -> Any:
    """Accept cosignatures from this witness (201; the same key again: 200; another key under
    its name: 409 ``witness_name_taken``). The log becomes public: its checkpoints and proofs
    are served by origin to anyone, so a witness anywhere can read them."""

    def effect() -> tuple[int, Body]:
        witness, added = cmd.platform.tenant(cmd.tenant).log.add_witness(
            log_id, Verifier.parse(body.vkey)
        )
        if added:
            cmd.audit("log.witness_add", log_id, {"witness": witness.verifier.name,
                                                  "vkey": str(witness.verifier)})  # fmt: skip
        return (201 if added else 200), _witness_body(witness)

    return cmd.run(body.model_dump(), effect)


@router.post("/logs/{log_id}/witnesses/remove", tags=["logs"])
def remove_witness(log_id: str, body: WitnessRemoval, cmd: LogWitnessesCommand) -> Any:
    """Stop accepting a witness's cosignatures (those kept stay: they verified when kept)."""

    def effect() -> tuple[int, Body]:
        cmd.platform.tenant(cmd.tenant).log.remove_witness(log_id, body.name)
        cmd.audit("log.witness_remove", log_id, {"witness": body.name})
        return 200, {"object": "log_witness_removal", "name": body.name}

    return cmd.run(body.model_dump(), effect)
