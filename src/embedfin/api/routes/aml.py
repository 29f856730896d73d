"""``/v1/aml/…``: sanctions and PEP lists, the parties screened against them, and their hits.

Loading a list and recording a party need the ``risk:write`` scope (compliance officers and
operators); so does reading parties and hits. A hit opens a ``sanctions_hit`` case in the risk
queue (``/v1/risk/cases``), decided there; until it is cleared the party's withdrawals are
refused (409 ``compliance_hold``) and its payouts wait.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import RiskCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import require_customer, v1_router, visible_merchant
from embedfin.api.schemas.aml import (
    HitOut,
    PartyIn,
    PartyOut,
    WatchlistIn,
    WatchlistLoadOut,
    WatchlistOut,
)
from embedfin.api.schemas.common import Limit, Page, ts
from embedfin.compliance.aml import watchlist
from embedfin.compliance.aml.screening import Subject
from embedfin.compliance.aml.service import ListInfo, Party, StoredHit, hold_reason
from embedfin.security.crypto import mask_name

router = v1_router()
RiskReader = Annotated[Principal, Depends(require(Scope.RISK))]


def list_body(info: ListInfo) -> dict[str, Any]:
    return WatchlistOut(
        id=info.list_id,
        name=info.name,
        digest=info.digest,
        entries=info.entries,
        skipped=info.skipped,
        active=info.active,
        loaded=ts(info.loaded_at),
        loaded_by=info.loaded_by,
    ).model_dump(mode="json")


def hit_body(h: StoredHit) -> dict[str, Any]:
    return HitOut(
        id=h.hit_id,
        party_kind=h.party_kind,
        party_id=h.party_id,
        watchlist=h.list_id,
        entity_id=h.entity_id,
        caption=h.caption,
        category=h.category,  # type: ignore[arg-type]
        score=h.score,
        reasons=list(h.reasons),
        status=h.status,  # type: ignore[arg-type]
        case=h.case_id,
        created=ts(h.created_at),
        decided=None if h.decided_at is None else ts(h.decided_at),
    ).model_dump(mode="json")


def party_body(p: Party, hits: list[StoredHit]) -> dict[str, Any]:
    return PartyOut(
        party_kind=p.party_kind,
        party_id=p.party_id,
        kind=p.kind,
        name=mask_name(p.name),
        country=p.country,
        screened_against=p.screened_list_id,
        screened=None if p.screened_at is None else ts(p.screened_at),
        held=hold_reason(hits),
        hits=[HitOut.model_validate(hit_body(h)) for h in hits],
    ).model_dump(mode="json")


@router.post("/aml/watchlists", status_code=201, response_model=WatchlistLoadOut, tags=["aml"])
def load_watchlist(body: WatchlistIn, cmd: RiskCommand) -> Any:
    """Make this list the active one and screen every known party against it; the same list
    again changes nothing (``already_active``)."""

    def effect() -> tuple[int, Body]:
        parsed = watchlist.read_ftm(body.ftm.splitlines())
        screening = cmd.platform.tenant(cmd.tenant).screening
        loaded = screening.load_list(parsed, body.name, cmd.principal.key_id)
        cmd.audit("aml.watchlist_load", loaded.watchlist.list_id, {"name": body.name})
        out = {
            **list_body(loaded.watchlist),
            "screened": loaded.screened,
            "new_hits": loaded.new_hits,
            "already_active": loaded.already_active,
        }
        return 201, WatchlistLoadOut.model_validate(out).model_dump(mode="json")

    return cmd.run(body.model_dump(), effect)


@router.get("/aml/watchlists", response_model=Page[WatchlistOut], tags=["aml"])
def list_watchlists(platform: PlatformDep, principal: RiskReader) -> Any:
    found = platform.tenant(principal.tenant).screening.lists()
    return {"object": "list", "data": [list_body(i) for i in found], "has_more": False}


@router.post("/aml/parties", response_model=PartyOut, tags=["aml"])
def record_party(body: PartyIn, cmd: RiskCommand) -> Any:
    """A buyer's or merchant's due-diligence details, screened at once against the active
    list; a hit holds the party's payouts and withdrawals until its case is decided."""

    def effect() -> tuple[int, Body]:
        platform, principal = cmd.platform, cmd.principal
        if body.party_kind == "buyer":
            require_customer(platform, principal, body.party_id)
        else:
            visible_merchant(platform, principal, body.party_id)
        services = platform.tenant(cmd.tenant)
        subject = Subject(body.name, body.birth_date, body.country, body.kind)
        party, hits = services.screening.record(body.party_kind, body.party_id, subject)
        cmd.audit("aml.party_record", f"{body.party_kind}:{body.party_id}", {"hits": len(hits)})
        return 200, party_body(party, hits)

    return cmd.run(body.model_dump(), effect)


@router.get("/aml/parties/{party_kind}/{party_id}", response_model=PartyOut, tags=["aml"])
def get_party(
    party_kind: Annotated[str, Path(pattern="^(buyer|merchant)$")],
    party_id: str,
    platform: PlatformDep,
    principal: RiskReader,
) -> Any:
    screening = platform.tenant(principal.tenant).screening
    party, hits = screening.party(party_kind, party_id)
    return party_body(party, hits)


@router.get("/aml/hits", response_model=Page[HitOut], tags=["aml"])
def list_hits(
    platform: PlatformDep,
    principal: RiskReader,
    limit: Limit = 20,
    status: Annotated[str | None, Query(pattern="^(open|cleared|confirmed)$")] = None,
) -> Any:
    found = platform.tenant(principal.tenant).screening.hits(status=status, limit=limit + 1)
    return {
        "object": "list",
        "data": [hit_body(h) for h in found[:limit]],
        "has_more": len(found) > limit,
    }
