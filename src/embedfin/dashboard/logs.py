"""The verifiable logs page: each log of the tenant (and the platform's audit log) with its size,
its latest signed checkpoint, the witnesses who cosigned it, those it accepts (a log with one is
public) and the key to check it with; and,
for an entry, its inclusion proof checked here the way a member checks it
(``embedfin.client.logs``): the checkpoint opened with the verifier key, the audit path folded
to its root. Read-only; an operator, risk or regulator key (``audit:read`` shows the bodies)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from embedfin.api.auth import SCOPES, Scope
from embedfin.api.schemas.common import Whole
from embedfin.core.errors import EmbedfinError, NotFound
from embedfin.dashboard.pages import PageError, page
from embedfin.dashboard.signin import Session, SessionDep
from embedfin.transparency import checkpoints, merkle
from embedfin.transparency.service import PLATFORM, TransparencyLog

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Row:
    owner: str
    log_id: str
    origin: str
    size: int
    checkpoint_size: int | None
    signed_at: int | None
    witnesses: tuple[str, ...]
    verifier: str
    accepts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Checked:
    index: int
    size: int
    body: str | None
    leaf_hash: str
    proof: list[str]
    root: str
    ok: bool
    why: str


def _staff(current: Session) -> None:
    if current.is_merchant or Scope.READ not in SCOPES[current.principal.role]:
        raise PageError(403, "the logs page needs an operator, risk or regulator key")


def _rows(owner: str, log: TransparencyLog) -> list[Row]:
    rows = []
    for info in log.logs():
        head = log.latest_checkpoint(info.log_id)
        rows.append(Row(owner, info.log_id, info.origin, info.size,
                        None if head is None else head.checkpoint.size,
                        None if head is None else head.signed_at,
                        () if head is None else head.witnesses, info.verifier,
                        tuple(w.verifier.name for w in log.witnesses(info.log_id))))  # fmt: skip
    return rows


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def check_entry(log: TransparencyLog, log_id: str, index: int, bodies: bool) -> Checked:
    """Entry ``index`` proved included in the log's latest signed checkpoint."""
    head = log.latest_checkpoint(log_id)
    if head is None:
        raise NotFound(f"log {log_id!r} has no signed checkpoint yet (GET …/checkpoint signs one)")
    opened = checkpoints.open_note(head.note, [log.verifier], log.origin(log_id))
    entry = log.entry(log_id, index)
    size, proof = log.inclusion(log_id, index, opened.size)
    try:
        merkle.verify_inclusion(index, size, entry.leaf_hash, proof, opened.root)
        ok, why = True, f"the audit path folds to the root signed for {size:,} entries"
    except merkle.ProofInvalid as error:
        ok, why = False, str(error)
    return Checked(index, size, entry.body if bodies else None, _b64(entry.leaf_hash),
                   [_b64(p) for p in proof], _b64(opened.root), ok, why)  # fmt: skip


@router.get("/logs", response_class=HTMLResponse)
def logs_page(
    request: Request,
    current: SessionDep,
    log: Annotated[str | None, Query(max_length=32)] = None,
    index: Annotated[Whole | None, Query(ge=0, le=2**62)] = None,
    owner: Annotated[str, Query(pattern="^(tenant|platform)$")] = "tenant",
) -> HTMLResponse:
    _staff(current)
    mine = current.platform.tenant(current.tenant).log
    platform_log = current.platform.tenant(PLATFORM).log
    rows = _rows("tenant", mine) + _rows("platform", platform_log)
    checked, error = None, None
    if log is not None and index is not None:
        target = platform_log if owner == "platform" else mine
        bodies = Scope.AUDIT in SCOPES[current.principal.role]
        try:
            checked = check_entry(target, log, index, bodies)
        except EmbedfinError as failure:
            error = f"{failure.code}: {failure.message}"
    return page(request, "logs.html", session=current, rows=rows, checked=checked, error=error,
                asked_log=log, asked_index=index, asked_owner=owner)  # fmt: skip
