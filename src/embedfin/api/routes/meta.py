"""``/v1/ping``: the authenticated no-op."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from embedfin.api.routes.common import Reader
from embedfin.api.schemas.common import PROBLEM_RESPONSES
from embedfin.api.schemas.meta import PingOut

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)


@router.get("/ping", response_model=PingOut, tags=["meta"])
def ping(principal: Reader) -> Any:
    """Authenticated no-op: checks a key (and is the API benchmark's baseline)."""
    return {"object": "ping", "tenant": principal.tenant, "role": str(principal.role)}
