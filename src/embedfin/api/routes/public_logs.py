"""``/v1/public/logs/…?origin=…``: a public log's checkpoints and proofs, for anyone.

A witness in another tenant or on another instance has no key of the log's tenant, yet must
read its checkpoints and consistency proofs and hand back cosignatures. These routes need no
API key: they name the log by its origin (the first line of its checkpoints) and answer only
for a *public* log — one of the platform's own (``embedfin.local/_platform/audit``) or a log
with a registered witness; any other origin is 404, exactly like one that does not exist.
They serve hashes only, never an entry's body (that stays behind ``audit:read`` of the owning
tenant). A cosignature needs no key either: it is kept only when it verifies under a witness
key the log's owner registered, so the signature is the credential.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from embedfin.api.deps import IdempotencyKey, PlatformDep
from embedfin.api.platform import Platform
from embedfin.api.routes.common import v1_router
from embedfin.api.routes.logs import (
    AtSize,
    Index,
    Size,
    checkpoint_body,
    consistency_body,
    inclusion_body,
)
from embedfin.api.schemas.transparency import (
    CheckpointOut,
    ConsistencyOut,
    CosignIn,
    InclusionOut,
)
from embedfin.transparency import checkpoints
from embedfin.transparency.service import TransparencyLog, public_log

router = v1_router()
Origin = Annotated[
    str, Query(min_length=1, max_length=200, description="the log's origin, as its checkpoints")
]
TAGS: list[str] = ["public logs"]


def _public(platform: Platform, origin: str) -> tuple[TransparencyLog, str]:
    tenant, log_id = public_log(platform.ledger, origin)
    return platform.tenant(tenant).log, log_id


@router.get("/public/logs/checkpoint", response_model=CheckpointOut, tags=list(TAGS))
def get_public_checkpoint(origin: Origin, platform: PlatformDep) -> Any:
    """The signed checkpoint of the log's current size, with its cosignatures."""
    log, log_id = _public(platform, origin)
    return checkpoint_body(log.checkpoint(log_id))


@router.get("/public/logs/checkpoints/{size}", response_model=CheckpointOut, tags=list(TAGS))
def get_public_checkpoint_at(origin: Origin, size: AtSize, platform: PlatformDep) -> Any:
    log, log_id = _public(platform, origin)
    return checkpoint_body(log.checkpoint_at(log_id, size))


@router.get("/public/logs/proofs/inclusion", response_model=InclusionOut, tags=list(TAGS))
def get_public_inclusion(
    origin: Origin, platform: PlatformDep, index: Index, size: Size | None = None
) -> Any:
    log, log_id = _public(platform, origin)
    return inclusion_body(log, log_id, index, size)


@router.get("/public/logs/proofs/consistency", response_model=ConsistencyOut, tags=list(TAGS))
def get_public_consistency(
    origin: Origin, platform: PlatformDep, first: Size, second: Size | None = None
) -> Any:
    log, log_id = _public(platform, origin)
    return consistency_body(log, log_id, first, second)


@router.post("/public/logs/cosignatures", response_model=CheckpointOut, tags=list(TAGS))
def post_public_cosignature(
    body: CosignIn, platform: PlatformDep, idempotency_key: IdempotencyKey
) -> Any:
    """Keep registered witnesses' cosignatures of a checkpoint (the log is the note's origin).
    The Idempotency-Key every POST sends is not stored here: with no API key there is no
    caller to store it under, and the effect is idempotent by itself — the same lines again
    change nothing; another line of a witness for a checkpoint it cosigned is 409
    ``cosignature_conflict``."""
    del idempotency_key
    text, _ = checkpoints.split_note(body.note)
    log, log_id = _public(platform, checkpoints.parse_text(text).origin)
    return checkpoint_body(log.cosign(log_id, body.note)[0])
