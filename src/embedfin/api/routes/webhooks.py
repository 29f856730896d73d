"""``/v1/webhook_endpoints`` and ``/v1/webhook_deliveries``: where events are sent, and how."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import Command, WebhooksCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import Cursor, page, v1_router
from embedfin.api.schemas.common import Limit, Page, ts
from embedfin.api.schemas.webhooks import (
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointOut,
)
from embedfin.api.webhook_records import Delivery, Endpoint

router = v1_router()

HookAdmin = Annotated[Principal, Depends(require(Scope.WEBHOOKS))]


def endpoint_body(ep: Endpoint, secret: str | None = None) -> dict[str, Any]:
    return WebhookEndpointOut(
        id=ep.endpoint_id,
        url=ep.url,
        event_types=ep.event_types,
        status=ep.status,
        created=ts(ep.created_at_ns),
        secret=secret,
    ).model_dump(mode="json")


def delivery_body(d: Delivery) -> dict[str, Any]:
    return WebhookDeliveryOut(
        id=d.delivery_id,
        endpoint=d.endpoint_id,
        event="evt_" + d.event_id,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=ts(d.next_attempt_at_ns) if d.status == "pending" else None,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
    ).model_dump(mode="json")


@router.post(
    "/webhook_endpoints", status_code=201, response_model=WebhookEndpointOut, tags=["webhooks"]
)
def create_webhook_endpoint(body: WebhookEndpointCreate, cmd: WebhooksCommand) -> Any:
    def effect() -> tuple[int, Body]:
        with cmd.platform.ledger.transaction() as tx:
            ep, secret = cmd.platform.webhooks.create_endpoint(
                tx.conn, cmd.tenant, body.url, body.event_types
            )
        cmd.audit("webhook.create", ep.endpoint_id, {"url": body.url})
        return 201, endpoint_body(ep, secret)

    return cmd.run(body.model_dump(), effect)


@router.get("/webhook_endpoints", response_model=Page[WebhookEndpointOut], tags=["webhooks"])
def list_webhook_endpoints(
    platform: PlatformDep, principal: HookAdmin, limit: Limit = 10, starting_after: Cursor = None
) -> Any:
    with platform.read() as conn:
        found, more = platform.webhooks.list_endpoints(
            conn, principal.tenant, limit, starting_after
        )
    return page([endpoint_body(e) for e in found], more)


@router.get(
    "/webhook_endpoints/{endpoint_id}", response_model=WebhookEndpointOut, tags=["webhooks"]
)
def get_webhook_endpoint(endpoint_id: str, platform: PlatformDep, principal: HookAdmin) -> Any:
    with platform.read() as conn:
        return endpoint_body(platform.webhooks.endpoint(conn, principal.tenant, endpoint_id))


def _endpoint_action(cmd: Command, endpoint_id: str, action: str) -> Any:
    def effect() -> tuple[int, Body]:
        secret = None
        hooks = cmd.platform.webhooks
        with cmd.platform.ledger.transaction() as tx:
            if action == "rotate_secret":
                secret = hooks.rotate_secret(tx.conn, cmd.tenant, endpoint_id)
                ep = hooks.endpoint(tx.conn, cmd.tenant, endpoint_id)
            else:
                status = "enabled" if action == "enable" else "disabled"
                ep = hooks.set_status(tx.conn, cmd.tenant, endpoint_id, status)
        cmd.audit(f"webhook.{action}", endpoint_id, {})
        return 200, endpoint_body(ep, secret)

    return cmd.run({"endpoint": endpoint_id, "action": action}, effect)


@router.post(
    "/webhook_endpoints/{endpoint_id}/rotate_secret",
    response_model=WebhookEndpointOut,
    tags=["webhooks"],
)
def rotate_webhook_secret(endpoint_id: str, cmd: WebhooksCommand) -> Any:
    """A new secret (in this response only); the old one keeps signing for 24 h."""
    return _endpoint_action(cmd, endpoint_id, "rotate_secret")


@router.post(
    "/webhook_endpoints/{endpoint_id}/disable",
    response_model=WebhookEndpointOut,
    tags=["webhooks"],
)
def disable_webhook_endpoint(endpoint_id: str, cmd: WebhooksCommand) -> Any:
    return _endpoint_action(cmd, endpoint_id, "disable")


@router.post(
    "/webhook_endpoints/{endpoint_id}/enable",
    response_model=WebhookEndpointOut,
    tags=["webhooks"],
)
def enable_webhook_endpoint(endpoint_id: str, cmd: WebhooksCommand) -> Any:
    return _endpoint_action(cmd, endpoint_id, "enable")


@router.get(
    "/webhook_endpoints/{endpoint_id}/deliveries",
    response_model=Page[WebhookDeliveryOut],
    tags=["webhooks"],
)
def list_webhook_deliveries(
    endpoint_id: str,
    platform: PlatformDep,
    principal: HookAdmin,
    limit: Limit = 10,
    starting_after: Cursor = None,
) -> Any:
    with platform.read() as conn:
        found, more = platform.webhooks.deliveries(
            conn, principal.tenant, endpoint_id, limit, starting_after
        )
    return page([delivery_body(d) for d in found], more)


@router.post(
    "/webhook_deliveries/{delivery_id}/replay",
    response_model=WebhookDeliveryOut,
    tags=["webhooks"],
)
def replay_webhook_delivery(delivery_id: str, cmd: WebhooksCommand) -> Any:
    """Send a delivery again now (after a receiver outage, say)."""

    def effect() -> tuple[int, Body]:
        with cmd.platform.ledger.transaction() as tx:
            delivery = cmd.platform.webhooks.replay(tx.conn, cmd.tenant, delivery_id)
        cmd.audit("webhook.replay", delivery_id, {})
        return 200, delivery_body(delivery)

    return cmd.run({"replay": delivery_id}, effect)
