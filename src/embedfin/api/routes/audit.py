"""``/v1/audit_log``: the tenant's hash-chained record of privileged actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from embedfin.api.auth import Principal, Scope
from embedfin.api.deps import PlatformDep, require
from embedfin.api.routes.common import page, v1_router
from embedfin.api.schemas.audit import AuditEntryOut
from embedfin.api.schemas.common import Limit, Page, ts
from embedfin.security import audit

router = v1_router()


def entry_body(e: audit.AuditEntry) -> dict[str, Any]:
    return AuditEntryOut(
        seq=e.seq,
        actor=e.actor,
        action=e.action,
        target=e.target,
        detail=dict(e.detail),
        at=ts(e.at_ns),
        hash=e.hash,
    ).model_dump(mode="json")


@router.get("/audit_log", response_model=Page[AuditEntryOut], tags=["audit"])
def list_audit_log(
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.AUDIT))],
    limit: Limit = 10,
    starting_after: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Any:
    with platform.read() as conn:
        found, more = audit.list_entries(conn, principal.tenant, limit, starting_after)
    return page([entry_body(e) for e in found], more)
