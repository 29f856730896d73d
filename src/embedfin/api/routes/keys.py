"""``/v1/api_keys``: create, list and revoke API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from embedfin.api import auth
from embedfin.api.auth import Principal, Role, Scope
from embedfin.api.commands import KeysCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import Cursor, page, v1_router, visible_merchant
from embedfin.api.schemas.common import Limit, Page, ts
from embedfin.api.schemas.keys import ApiKeyCreate, ApiKeyOut

router = v1_router()

KeyAdmin = Annotated[Principal, Depends(require(Scope.KEYS))]


def key_body(key: auth.ApiKey, secret: str | None = None) -> dict[str, Any]:
    return ApiKeyOut(
        id=key.key_id,
        role=str(key.role),
        merchant=key.merchant_id,
        name=key.name,
        prefix=key.prefix,
        created=ts(key.created_at_ns),
        revoked=ts(key.revoked_at_ns or 0),
        secret=secret,
    ).model_dump(mode="json")


@router.post("/api_keys", status_code=201, response_model=ApiKeyOut, tags=["api keys"])
def create_api_key(body: ApiKeyCreate, cmd: KeysCommand) -> Any:
    """A new key; its secret is in this response only."""

    def effect() -> tuple[int, Body]:
        platform = cmd.platform
        if body.merchant is not None:
            visible_merchant(platform, cmd.principal, body.merchant)
        with platform.ledger.transaction() as tx:
            key, secret = auth.create_key(
                tx.conn,
                cmd.tenant,
                Role(body.role),
                body.name,
                platform.clock.now_ns(),
                body.merchant,
            )
        cmd.audit("api_key.create", key.key_id, {"role": body.role, "merchant": body.merchant})
        return 201, key_body(key, secret)

    return cmd.run(body.model_dump(), effect)


@router.get("/api_keys", response_model=Page[ApiKeyOut], tags=["api keys"])
def list_api_keys(
    platform: PlatformDep, principal: KeyAdmin, limit: Limit = 10, starting_after: Cursor = None
) -> Any:
    with platform.read() as conn:
        found, more = auth.list_keys(conn, principal.tenant, limit, starting_after)
    return page([key_body(k) for k in found], more)


@router.post("/api_keys/{key_id}/revoke", response_model=ApiKeyOut, tags=["api keys"])
def revoke_api_key(key_id: str, cmd: KeysCommand) -> Any:
    def effect() -> tuple[int, Body]:
        platform = cmd.platform
        with platform.ledger.transaction() as tx:
            key = auth.revoke_key(tx.conn, cmd.tenant, key_id, platform.clock.now_ns())
            tx.after_commit(lambda: platform.keys.forget(key_id))
        cmd.audit("api_key.revoke", key_id, {})
        return 200, key_body(key)

    return cmd.run({"revoke": key_id}, effect)
