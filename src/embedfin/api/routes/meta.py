"""``/v1/ping``: the authenticated no-op."""

from __future__ import annotations

from typing import Any

from embedfin.api.routes.common import Reader, v1_router
from embedfin.api.schemas.meta import PingOut

router = v1_router()


@router.get("/ping", response_model=PingOut, tags=["meta"])
def ping(principal: Reader) -> Any:
    """Authenticated no-op: checks a key (and is the API benchmark's baseline)."""
    return {"object": "ping", "tenant": principal.tenant, "role": str(principal.role)}
