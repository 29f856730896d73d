"""``/v1/logs/…``: the tenant's verifiable logs (RFC 9162 Merkle trees, C2SP checkpoints).

Checkpoints and proofs are hashes only and need ``read``; an entry's body needs ``audit:read``;
appending and keeping a witness's cosignature need ``log:write``. ``GET …/checkpoint`` signs
the current size when no checkpoint of it exists yet (one signature per size, kept), so a
member can always fetch a checkpoint of what is there and prove it against an older one.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import Depends, Path, Query

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import LogCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import page, v1_router
from embedfin.api.schemas.common import ts
from embedfin.api.schemas.transparency import (
    AppendIn,
    AppendOut,
    CheckpointOut,
    ConsistencyOut,
    CosignIn,
    EntryOut,
    InclusionOut,
    LogOut,
)
from embedfin.transparency.checkpoints import Verifier
from embedfin.transparency.service import LogInfo, SignedCheckpoint

router = v1_router()
Reader = Annotated[Principal, Depends(require(Scope.READ))]
Auditor = Annotated[Principal, Depends(require(Scope.AUDIT))]
Size = Annotated[int, Query(ge=1, le=2**62)]
Index = Annotated[int, Query(ge=0, le=2**62)]
AtIndex = Annotated[int, Path(ge=0, le=2**62)]
AtSize = Annotated[int, Path(ge=0, le=2**62)]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _log_body(info: LogInfo) -> dict[str, Any]:
    return LogOut(id=info.log_id, origin=info.origin, size=info.size,
                  verifier=info.verifier).model_dump(mode="json")  # fmt: skip


def _checkpoint_body(signed: SignedCheckpoint) -> dict[str, Any]:
    head = signed.checkpoint
    return CheckpointOut(
        origin=head.origin, size=head.size, root=_b64(head.root), note=signed.note,
        signed=ts(signed.signed_at), witnesses=list(signed.witnesses),
    ).model_dump(mode="json")  # fmt: skip


@router.get("/logs", tags=["logs"])
def list_logs(platform: PlatformDep, principal: Reader) -> Any:
    return page([_log_body(i) for i in platform.tenant(principal.tenant).log.logs()], False)


@router.get("/logs/{log_id}", response_model=LogOut, tags=["logs"])
def get_log(log_id: str, platform: PlatformDep, principal: Reader) -> Any:
    return _log_body(platform.tenant(principal.tenant).log.info(log_id))


@router.post("/logs/{log_id}/entries", status_code=201, response_model=AppendOut, tags=["logs"])
def append_entries(log_id: str, body: AppendIn, cmd: LogCommand) -> Any:
    """Append entries in order (one unit of work: all of them or none)."""

    def effect() -> tuple[int, Body]:
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
    return _checkpoint_body(platform.tenant(principal.tenant).log.checkpoint(log_id))


@router.get("/logs/{log_id}/checkpoints/{size}", response_model=CheckpointOut, tags=["logs"])
def get_checkpoint_at(log_id: str, size: AtSize, platform: PlatformDep, principal: Reader) -> Any:
    """An earlier checkpoint, with the cosignatures witnesses added to it."""
    return _checkpoint_body(platform.tenant(principal.tenant).log.checkpoint_at(log_id, size))


@router.get("/logs/{log_id}/proofs/inclusion", response_model=InclusionOut, tags=["logs"])
def get_inclusion(
    log_id: str, platform: PlatformDep, principal: Reader, index: Index, size: Size | None = None
) -> Any:
    """The audit path of entry ``index`` in the tree of ``size`` (default: the current)."""
    log = platform.tenant(principal.tenant).log
    tree, proof = log.inclusion(log_id, index, size)
    leaf = log.entry(log_id, index).leaf_hash
    return InclusionOut(index=index, size=tree, leaf_hash=_b64(leaf),
                        proof=[_b64(p) for p in proof]).model_dump(mode="json")  # fmt: skip


@router.get("/logs/{log_id}/proofs/consistency", response_model=ConsistencyOut, tags=["logs"])
def get_consistency(
    log_id: str, platform: PlatformDep, principal: Reader, first: Size, second: Size | None = None
) -> Any:
    """That the tree of ``first`` entries is a prefix of the tree of ``second``."""
    tree, proof = platform.tenant(principal.tenant).log.consistency(log_id, first, second)
    return ConsistencyOut(first=first, second=tree,
                          proof=[_b64(p) for p in proof]).model_dump(mode="json")  # fmt: skip


@router.post("/logs/{log_id}/cosignatures", response_model=CheckpointOut, tags=["logs"])
def cosign(log_id: str, body: CosignIn, cmd: LogCommand) -> Any:
    """Keep a witness's cosignature of one of this log's checkpoints."""

    def effect() -> tuple[int, Body]:
        log = cmd.platform.tenant(cmd.tenant).log
        log.info(log_id)  # another tenant's log (or none): 404 before the body is read
        witness = Verifier.parse(body.witness)
        kept = log.cosign(log_id, body.note, witness)
        cmd.audit("log.cosign", log_id, {"size": kept.checkpoint.size, "witness": witness.name})
        return 200, _checkpoint_body(kept)

    return cmd.run(body.model_dump(), effect)
