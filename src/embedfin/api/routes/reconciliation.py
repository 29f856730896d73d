"""``/v1/reconciliations`` and ``/v1/reconciliation_breaks``: match statements, work breaks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from embedfin.api import auth
from embedfin.api.commands import ReconCommand
from embedfin.api.deps import PlatformDep
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import Cursor, Reader, page, v1_router
from embedfin.api.schemas.common import Limit, Page
from embedfin.api.schemas.reconciliation import (
    BreakOut,
    ReconBreakOut,
    ReconciliationCreate,
    ReconciliationOut,
    ResolveIn,
)
from embedfin.core.errors import InvalidInput
from embedfin.payments.reconciliation.matching import StoredBreak

router = v1_router()


@router.post(
    "/reconciliations",
    status_code=201,
    response_model=ReconciliationOut,
    tags=["reconciliation"],
)
def create_reconciliation(body: ReconciliationCreate, cmd: ReconCommand) -> Any:
    """Match a channel settlement statement (CSV or camt.053 XML) three-way; store breaks."""

    def effect() -> tuple[int, Body]:
        try:
            content = body.content.encode()
        except UnicodeEncodeError as error:  # lone surrogates in the JSON string
            raise InvalidInput("content must be valid Unicode text") from error
        if content.lstrip().startswith(b"<") != (body.format == "camt053"):
            raise InvalidInput(f"the content is not {body.format}")
        report = cmd.platform.tenant(cmd.tenant).reconciliation.run(content, body.channel)
        out = ReconciliationOut(
            id=report.run_id,
            lines=report.lines,
            matched=report.matched,
            breaks=[
                BreakOut(
                    kind=str(b.kind), reference=b.reference, expected=b.expected, actual=b.actual
                )
                for b in report.breaks
            ],
        )
        return 201, out.model_dump(mode="json")

    return cmd.run(body.model_dump(), effect)


def break_body(b: StoredBreak) -> dict[str, Any]:
    return ReconBreakOut(
        id=b.break_id,
        kind=b.kind,
        channel=b.channel,
        reference=b.reference,
        expected=b.expected,
        actual=b.actual,
        status=b.status,
    ).model_dump(mode="json")


@router.get("/reconciliation_breaks", response_model=Page[ReconBreakOut], tags=["reconciliation"])
def list_breaks(
    platform: PlatformDep,
    principal: Reader,
    limit: Limit = 10,
    starting_after: Cursor = None,
    status: Annotated[str | None, Query(pattern="^(open|resolved)$")] = None,
) -> Any:
    if principal.merchant_id is not None:
        raise auth.Forbidden("reconciliation is the operator's")
    recon = platform.tenant(principal.tenant).reconciliation
    found, more = recon.list_breaks(limit, starting_after, status)
    return page([break_body(b) for b in found], more)


@router.post(
    "/reconciliation_breaks/{break_id}/resolve",
    response_model=ReconBreakOut,
    tags=["reconciliation"],
)
def resolve_break(break_id: str, body: ResolveIn, cmd: ReconCommand) -> Any:
    def effect() -> tuple[int, Body]:
        recon = cmd.platform.tenant(cmd.tenant).reconciliation
        recon.resolve(break_id, body.note)
        cmd.audit("recon.resolve", break_id, {"note": body.note})
        return 200, break_body(recon.get_break(break_id))

    return cmd.run({"break": break_id, **body.model_dump()}, effect)
