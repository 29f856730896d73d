"""``/v1/aml/diligence``, ``/v1/aml/verifications``, ``/v1/aml/merchants/{id}/kyb``: due
diligence of customers and merchants.

The tenant's pack (``PUT /v1/aml/diligence``: ``prc`` for PBoC Announcement [2015] No. 43's
payment account classes) says how much a buyer may pay from its wallet balance at each level;
``POST /v1/aml/verifications`` records the channels its identity was checked through. A wallet
payment or withdrawal past the level's limit is refused with 422 ``verification_limit``.
Scope ``risk:write``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import RiskCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import require_customer, v1_router, visible_merchant
from embedfin.api.schemas.aml import (
    DiligencePackIn,
    DiligencePackOut,
    KybIn,
    KybOut,
    StandingOut,
    VerificationIn,
)
from embedfin.api.schemas.common import ts
from embedfin.compliance.aml import diligence
from embedfin.compliance.aml.diligence import DiligencePack
from embedfin.compliance.aml.kyb import Submission
from embedfin.compliance.aml.verification import Standing
from embedfin.core.errors import InvalidInput
from embedfin.security.crypto import mask_name

router = v1_router()
RiskReader = Annotated[Principal, Depends(require(Scope.RISK))]


def pack_body(pack: DiligencePack) -> dict[str, Any]:
    return DiligencePackOut(
        id=pack.id,
        title=pack.title,
        currency=pack.currency,
        levels=[lv.id for lv in pack.levels],
        pack=pack.model_dump(mode="json"),
    ).model_dump(mode="json")


def standing_body(s: Standing) -> dict[str, Any]:
    return StandingOut(
        buyer_id=s.party_id,
        level=None if s.level is None else s.level.id,
        level_title=None if s.level is None else s.level.title,
        channels=list(s.channels),
        face_to_face=s.face_to_face,
        period=s.period,
        spent=format(s.spent.normalize(), "f"),
        remaining=None if s.remaining is None else format(s.remaining.normalize(), "f"),
        currency=s.currency,
    ).model_dump(mode="json")


@router.get("/aml/diligence", response_model=DiligencePackOut, tags=["aml"])
def get_diligence_pack(platform: PlatformDep, principal: RiskReader) -> Any:
    return pack_body(platform.tenant(principal.tenant).verification.pack())


@router.put("/aml/diligence", response_model=DiligencePackOut, tags=["aml"])
def set_diligence_pack(body: DiligencePackIn, cmd: RiskCommand) -> Any:
    def effect() -> tuple[int, Body]:
        if (body.shipped is None) == (body.pack is None):
            raise InvalidInput("give exactly one of shipped or pack")
        pack = (
            diligence.load(body.shipped)
            if body.shipped is not None
            else diligence.parse(dict(body.pack or {}), "pack")
        )
        cmd.platform.tenant(cmd.tenant).verification.set_pack(pack, cmd.principal.key_id)
        cmd.audit("aml.diligence_pack_set", pack.id, {"levels": len(pack.levels)})
        return 200, pack_body(pack)

    return cmd.run(body.model_dump(), effect)


@router.post("/aml/verifications", response_model=StandingOut, tags=["aml"])
def verify_buyer(body: VerificationIn, cmd: RiskCommand) -> Any:
    """Record how a buyer's identity was verified; its level and what is left follow."""

    def effect() -> tuple[int, Body]:
        require_customer(cmd.platform, cmd.principal, body.buyer_id)
        verification = cmd.platform.tenant(cmd.tenant).verification
        standing = verification.verify(
            body.buyer_id, body.channels, body.face_to_face, cmd.principal.key_id
        )
        cmd.audit("aml.verify", f"buyer:{body.buyer_id}", {"channels": len(standing.channels)})
        return 200, standing_body(standing)

    return cmd.run(body.model_dump(), effect)


@router.get("/aml/verifications/{buyer_id}", response_model=StandingOut, tags=["aml"])
def get_verification(buyer_id: str, platform: PlatformDep, principal: RiskReader) -> Any:
    require_customer(platform, principal, buyer_id)
    return standing_body(platform.tenant(principal.tenant).verification.standing(buyer_id))


def kyb_body(s: Submission) -> dict[str, Any]:
    return KybOut(
        merchant_id=s.merchant_id,
        legal_name=mask_name(s.legal_name),
        registration_number=s.registration_number,
        country=s.country,
        owners=len(s.owners),
        status=s.status,  # type: ignore[arg-type]
        case=s.case_id,
        submitted=ts(s.submitted_at),
        decided=None if s.decided_at is None else ts(s.decided_at),
    ).model_dump(mode="json")


@router.post("/aml/merchants/{merchant_id}/kyb", response_model=KybOut, tags=["aml"])
def submit_kyb(merchant_id: str, body: KybIn, cmd: RiskCommand) -> Any:
    """A merchant's legal identity and beneficial owners, for review: a ``kyb_review`` case
    opens (decided in ``/v1/risk/cases``); until it is released the merchant is not paid out
    (and a merchant never verified does not sell)."""

    def effect() -> tuple[int, Body]:
        visible_merchant(cmd.platform, cmd.principal, merchant_id)
        kyb = cmd.platform.tenant(cmd.tenant).kyb
        owners = [o.model_dump() for o in body.owners]
        submitted = kyb.submit(merchant_id, body.legal_name, body.registration_number,
                               body.country.upper(), owners, cmd.principal.key_id)  # fmt: skip
        cmd.audit("aml.kyb_submit", merchant_id, {"case": submitted.case_id})
        return 200, kyb_body(submitted)

    return cmd.run(body.model_dump(), effect)


@router.get("/aml/merchants/{merchant_id}/kyb", response_model=KybOut, tags=["aml"])
def get_kyb(merchant_id: str, platform: PlatformDep, principal: RiskReader) -> Any:
    visible_merchant(platform, principal, merchant_id)
    return kyb_body(platform.tenant(principal.tenant).kyb.get(merchant_id))
