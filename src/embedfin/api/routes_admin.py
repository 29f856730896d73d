"""/v1 routes for operations: keys, events, webhooks, settlement, reconciliation, audit."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from embedfin.api import auth
from embedfin.api.auth import Principal, Role, Scope
from embedfin.api.deps import IdempotencyKey, PlatformDep, require, respond
from embedfin.api.routes_commerce import derived_id, visible_merchant
from embedfin.api.schemas import (
    PROBLEM_RESPONSES,
    ApiKeyCreate,
    ApiKeyOut,
    AuditEntryOut,
    BreakOut,
    EventOut,
    Limit,
    Page,
    PayoutOut,
    ReconBreakOut,
    ReconciliationCreate,
    ReconciliationOut,
    ResolveIn,
    SettlementLineOut,
    SettlementRunCreate,
    SettlementRunOut,
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointOut,
    ts,
)
from embedfin.api.webhooks import Delivery, Endpoint
from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.core.money import Money
from embedfin.db.tables import outbox_events, payouts, recon_breaks
from embedfin.payments.settlement import settle_channel
from embedfin.security import audit

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)

Reader = Annotated[Principal, Depends(require(Scope.READ))]
Cursor = Annotated[str | None, Query(max_length=64)]


def _list(items: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": more}


# --- API keys ------------------------------------------------------------------------------------
def _key_out(key: auth.ApiKey, secret: str | None = None) -> dict[str, Any]:
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


KeyAdmin = Annotated[Principal, Depends(require(Scope.KEYS))]


@router.post("/api_keys", status_code=201, response_model=ApiKeyOut, tags=["api keys"])
def create_api_key(
    body: ApiKeyCreate,
    platform: PlatformDep,
    principal: KeyAdmin,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """A new key; its secret is in this response only."""

    def effect() -> tuple[int, dict[str, Any]]:
        if body.merchant is not None:
            visible_merchant(platform, principal, body.merchant)
        with platform.ledger.transaction() as tx:
            key, secret = auth.create_key(
                tx.conn,
                principal.tenant,
                Role(body.role),
                body.name,
                platform.clock.now_ns(),
                body.merchant,
            )
        platform.audit(
            principal, "api_key.create", key.key_id, {"role": body.role, "merchant": body.merchant}
        )
        return 201, _key_out(key, secret)

    return respond(
        *platform.command(
            principal, idempotency_key, body.model_dump(), effect, instance="/v1/api_keys"
        )
    )


@router.get("/api_keys", response_model=Page[ApiKeyOut], tags=["api keys"])
def list_api_keys(
    platform: PlatformDep, principal: KeyAdmin, limit: Limit = 10, starting_after: Cursor = None
) -> Any:
    with platform.read() as conn:
        found, more = auth.list_keys(conn, principal.tenant, limit, starting_after)
    return _list([_key_out(k) for k in found], more)


@router.post("/api_keys/{key_id}/revoke", response_model=ApiKeyOut, tags=["api keys"])
def revoke_api_key(
    key_id: str, platform: PlatformDep, principal: KeyAdmin, idempotency_key: IdempotencyKey = None
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        with platform.ledger.transaction() as tx:
            key = auth.revoke_key(tx.conn, principal.tenant, key_id, platform.clock.now_ns())
            tx.after_commit(lambda: platform.keys.forget(key_id))
        platform.audit(principal, "api_key.revoke", key_id, {})
        return 200, _key_out(key)

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"revoke": key_id},
            effect,
            instance=f"/v1/api_keys/{key_id}/revoke",
        )
    )


# --- events --------------------------------------------------------------------------------------
def _event_out(row: Any) -> dict[str, Any]:
    return EventOut(
        id="evt_" + row.event_id,
        type=row.type,
        aggregate=row.aggregate,
        aggregate_id=row.aggregate_id,
        data=json.loads(row.payload),
        created=ts(row.occurred_at),
    ).model_dump(mode="json")


def _event_filter(principal: Principal) -> Any:
    if principal.merchant_id is not None:
        raise auth.Forbidden("merchant keys read their orders, not the event stream")
    return outbox_events.c.tenant_id == principal.tenant


@router.get("/events", response_model=Page[EventOut], tags=["events"])
def list_events(
    platform: PlatformDep,
    principal: Reader,
    limit: Limit = 10,
    starting_after: Cursor = None,
    type: Annotated[str | None, Query(pattern=r"^[a-z_]{1,64}$")] = None,
) -> Any:
    where = [_event_filter(principal)]
    if type is not None:
        where.append(outbox_events.c.type == type)
    with platform.read() as conn:
        if starting_after is not None:
            position = conn.execute(
                select(outbox_events.c.position).where(
                    where[0], outbox_events.c.event_id == starting_after.removeprefix("evt_")
                )
            ).scalar_one_or_none()
            if position is None:
                raise NotFound(f"no event {starting_after}")
            where.append(outbox_events.c.position < position)
        rows = conn.execute(
            select(outbox_events)
            .where(*where)
            .order_by(outbox_events.c.position.desc())
            .limit(limit + 1)
        ).all()
    return _list([_event_out(r) for r in rows[:limit]], len(rows) > limit)


@router.get("/events/{event_id}", response_model=EventOut, tags=["events"])
def get_event(event_id: str, platform: PlatformDep, principal: Reader) -> Any:
    with platform.read() as conn:
        row = conn.execute(
            select(outbox_events).where(
                _event_filter(principal),
                outbox_events.c.event_id == event_id.removeprefix("evt_"),
            )
        ).first()
    if row is None:
        raise NotFound(f"no event {event_id}")
    return _event_out(row)


# --- webhooks ------------------------------------------------------------------------------------
HookAdmin = Annotated[Principal, Depends(require(Scope.WEBHOOKS))]


def _endpoint_out(ep: Endpoint, secret: str | None = None) -> dict[str, Any]:
    return WebhookEndpointOut(
        id=ep.endpoint_id,
        url=ep.url,
        event_types=ep.event_types,
        status=ep.status,
        created=ts(ep.created_at_ns),
        secret=secret,
    ).model_dump(mode="json")


def _delivery_out(d: Delivery) -> dict[str, Any]:
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
def create_webhook_endpoint(
    body: WebhookEndpointCreate,
    platform: PlatformDep,
    principal: HookAdmin,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        with platform.ledger.transaction() as tx:
            ep, secret = platform.webhooks.create_endpoint(
                tx.conn, principal.tenant, body.url, body.event_types
            )
        platform.audit(principal, "webhook.create", ep.endpoint_id, {"url": body.url})
        return 201, _endpoint_out(ep, secret)

    return respond(
        *platform.command(
            principal, idempotency_key, body.model_dump(), effect, instance="/v1/webhook_endpoints"
        )
    )


@router.get("/webhook_endpoints", response_model=Page[WebhookEndpointOut], tags=["webhooks"])
def list_webhook_endpoints(
    platform: PlatformDep, principal: HookAdmin, limit: Limit = 10, starting_after: Cursor = None
) -> Any:
    with platform.read() as conn:
        found, more = platform.webhooks.list_endpoints(
            conn, principal.tenant, limit, starting_after
        )
    return _list([_endpoint_out(e) for e in found], more)


@router.get(
    "/webhook_endpoints/{endpoint_id}", response_model=WebhookEndpointOut, tags=["webhooks"]
)
def get_webhook_endpoint(endpoint_id: str, platform: PlatformDep, principal: HookAdmin) -> Any:
    with platform.read() as conn:
        return _endpoint_out(platform.webhooks.endpoint(conn, principal.tenant, endpoint_id))


def _endpoint_action(
    platform: Any, principal: Principal, endpoint_id: str, action: str, key: str | None
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        secret = None
        with platform.ledger.transaction() as tx:
            hooks = platform.webhooks
            if action == "rotate_secret":
                secret = hooks.rotate_secret(tx.conn, principal.tenant, endpoint_id)
                ep = hooks.endpoint(tx.conn, principal.tenant, endpoint_id)
            else:
                status = "enabled" if action == "enable" else "disabled"
                ep = hooks.set_status(tx.conn, principal.tenant, endpoint_id, status)
        platform.audit(principal, f"webhook.{action}", endpoint_id, {})
        return 200, _endpoint_out(ep, secret)

    return respond(
        *platform.command(
            principal,
            key,
            {"endpoint": endpoint_id, "action": action},
            effect,
            instance=f"/v1/webhook_endpoints/{endpoint_id}/{action}",
        )
    )


@router.post(
    "/webhook_endpoints/{endpoint_id}/rotate_secret",
    response_model=WebhookEndpointOut,
    tags=["webhooks"],
)
def rotate_webhook_secret(
    endpoint_id: str,
    platform: PlatformDep,
    principal: HookAdmin,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """A new secret (in this response only); the old one keeps signing for 24 h."""
    return _endpoint_action(platform, principal, endpoint_id, "rotate_secret", idempotency_key)


@router.post(
    "/webhook_endpoints/{endpoint_id}/disable",
    response_model=WebhookEndpointOut,
    tags=["webhooks"],
)
def disable_webhook_endpoint(
    endpoint_id: str,
    platform: PlatformDep,
    principal: HookAdmin,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return _endpoint_action(platform, principal, endpoint_id, "disable", idempotency_key)


@router.post(
    "/webhook_endpoints/{endpoint_id}/enable",
    response_model=WebhookEndpointOut,
    tags=["webhooks"],
)
def enable_webhook_endpoint(
    endpoint_id: str,
    platform: PlatformDep,
    principal: HookAdmin,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    return _endpoint_action(platform, principal, endpoint_id, "enable", idempotency_key)


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
    return _list([_delivery_out(d) for d in found], more)


@router.post(
    "/webhook_deliveries/{delivery_id}/replay",
    response_model=WebhookDeliveryOut,
    tags=["webhooks"],
)
def replay_webhook_delivery(
    delivery_id: str,
    platform: PlatformDep,
    principal: HookAdmin,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Send a delivery again now (after a receiver outage, say)."""

    def effect() -> tuple[int, dict[str, Any]]:
        with platform.ledger.transaction() as tx:
            delivery = platform.webhooks.replay(tx.conn, principal.tenant, delivery_id)
        platform.audit(principal, "webhook.replay", delivery_id, {})
        return 200, _delivery_out(delivery)

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"replay": delivery_id},
            effect,
            instance=f"/v1/webhook_deliveries/{delivery_id}/replay",
        )
    )


# --- settlement ----------------------------------------------------------------------------------
@router.post(
    "/settlement_runs", status_code=201, response_model=SettlementRunOut, tags=["settlement"]
)
def create_settlement_run(
    body: SettlementRunCreate,
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.SETTLEMENT))],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Settlement steps (see the body's description); each is audited."""
    run_id = derived_id("stl", principal, idempotency_key)

    def effect() -> tuple[int, dict[str, Any]]:
        settlement = platform.settlement(principal.tenant)
        if body.kind == "t1":
            cutoff = body.cutoff.timestamp() if body.cutoff else platform.clock.now_ns() / 1e9
            lines = [
                (line.merchant_id, line.amount)
                for line in settlement.run_t1(run_id, int(cutoff * NS_PER_SECOND))
            ]
        elif body.kind == "channel_settlement":
            channel, amount, fee, code = body.channel, body.amount, body.fee, body.currency
            if channel is None or amount is None or fee is None or code is None:
                raise InvalidInput("a channel settlement needs channel, amount, fee and currency")
            gross = Money(amount, code)
            settle_channel(
                platform.ledger, principal.tenant, channel, gross, Money(fee, code), run_id
            )
            lines = [(channel, gross)]
        elif body.kind == "payouts":
            lines = [(line.merchant_id, line.amount) for line in settlement.run_payouts(run_id)]
        else:
            if body.currency is None:
                raise InvalidInput("a commission sweep needs currency")
            swept = settlement.sweep_commission(body.currency, run_id)
            lines = [("platform", swept)]
        platform.audit(principal, f"settlement.{body.kind}", run_id, {"lines": len(lines)})
        out = SettlementRunOut(
            id=run_id,
            kind=body.kind,
            lines=[
                SettlementLineOut(merchant=m, amount=a.amount_minor, currency=a.currency)
                for m, a in lines
            ],
        )
        return 201, out.model_dump(mode="json")

    return respond(
        *platform.command(
            principal, idempotency_key, body.model_dump(), effect, instance="/v1/settlement_runs"
        )
    )


@router.get("/payouts", response_model=Page[PayoutOut], tags=["settlement"])
def list_payouts(
    platform: PlatformDep,
    principal: Reader,
    limit: Limit = 10,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    query = select(payouts).where(payouts.c.tenant == principal.tenant)
    if principal.merchant_id is not None:
        query = query.where(payouts.c.merchant_id == principal.merchant_id)
    with platform.read() as conn:
        rows = conn.execute(
            query.order_by(payouts.c.created_at.desc(), payouts.c.batch_id, payouts.c.merchant_id)
            .offset(offset)
            .limit(limit + 1)
        ).all()
    data = [
        PayoutOut(
            batch=r.batch_id,
            merchant=r.merchant_id,
            amount=r.amount_minor,
            currency=r.currency,
            bank_last4=r.bank_last4,
            created=ts(r.created_at),
        ).model_dump(mode="json")
        for r in rows[:limit]
    ]
    return _list(data, len(rows) > limit)


# --- reconciliation ------------------------------------------------------------------------------
Recon = Annotated[Principal, Depends(require(Scope.RECON))]


@router.post(
    "/reconciliations",
    status_code=201,
    response_model=ReconciliationOut,
    tags=["reconciliation"],
)
def create_reconciliation(
    body: ReconciliationCreate,
    platform: PlatformDep,
    principal: Recon,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Match a channel settlement statement (CSV or camt.053 XML) three-way; store breaks."""

    def effect() -> tuple[int, dict[str, Any]]:
        try:
            content = body.content.encode()
        except UnicodeEncodeError as error:  # lone surrogates in the JSON string
            raise InvalidInput("content must be valid Unicode text") from error
        if content.lstrip().startswith(b"<") != (body.format == "camt053"):
            raise InvalidInput(f"the content is not {body.format}")
        report = platform.reconciliation(principal.tenant).run(content, body.channel)
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

    return respond(
        *platform.command(
            principal, idempotency_key, body.model_dump(), effect, instance="/v1/reconciliations"
        )
    )


def _break_out(r: Any) -> dict[str, Any]:
    return ReconBreakOut(
        id=r.break_id,
        kind=r.kind,
        channel=r.channel,
        reference=r.reference,
        expected=r.expected,
        actual=r.actual,
        status=r.status,
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
    query = select(recon_breaks).where(recon_breaks.c.tenant == principal.tenant)
    if status is not None:
        query = query.where(recon_breaks.c.status == status)
    if starting_after is not None:
        query = query.where(recon_breaks.c.break_id > starting_after)
    with platform.read() as conn:
        rows = conn.execute(query.order_by(recon_breaks.c.break_id).limit(limit + 1)).all()
    return _list([_break_out(r) for r in rows[:limit]], len(rows) > limit)


@router.post(
    "/reconciliation_breaks/{break_id}/resolve",
    response_model=ReconBreakOut,
    tags=["reconciliation"],
)
def resolve_break(
    break_id: str,
    body: ResolveIn,
    platform: PlatformDep,
    principal: Recon,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    def effect() -> tuple[int, dict[str, Any]]:
        platform.reconciliation(principal.tenant).resolve(break_id, body.note)
        platform.audit(principal, "recon.resolve", break_id, {"note": body.note})
        with platform.ledger.transaction() as tx:
            row = tx.conn.execute(
                select(recon_breaks).where(recon_breaks.c.break_id == break_id)
            ).one()
        return 200, _break_out(row)

    return respond(
        *platform.command(
            principal,
            idempotency_key,
            {"break": break_id, **body.model_dump()},
            effect,
            instance=f"/v1/reconciliation_breaks/{break_id}/resolve",
        )
    )


# --- audit ---------------------------------------------------------------------------------------
@router.get("/audit_log", response_model=Page[AuditEntryOut], tags=["audit"])
def list_audit_log(
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(require(Scope.AUDIT))],
    limit: Limit = 10,
    starting_after: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Any:
    with platform.read() as conn:
        found, more = audit.list_entries(conn, principal.tenant, limit, starting_after)
    data = [
        AuditEntryOut(
            seq=e.seq,
            actor=e.actor,
            action=e.action,
            target=e.target,
            detail=dict(e.detail),
            at=ts(e.at_ns),
            hash=e.hash,
        ).model_dump(mode="json")
        for e in found
    ]
    return _list(data, more)
