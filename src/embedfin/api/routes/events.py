"""``/v1/events``: the tenant's event stream, newest first (operator keys only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from embedfin.api import auth
from embedfin.api.auth import Principal
from embedfin.api.deps import PlatformDep
from embedfin.api.routes.common import Cursor, Reader, page, v1_router
from embedfin.api.schemas.common import Limit, Page, ts
from embedfin.api.schemas.events import EventOut
from embedfin.core.errors import NotFound
from embedfin.core.events import StoredEvent
from embedfin.db import event_stream

router = v1_router()


def event_body(stored: StoredEvent) -> dict[str, Any]:
    e = stored.event
    return EventOut(
        id="evt_" + e.event_id,
        type=e.type,
        aggregate=e.aggregate,
        aggregate_id=e.aggregate_id,
        data=dict(e.payload),
        created=ts(e.occurred_at_ns),
    ).model_dump(mode="json")


def _stream_of(principal: Principal) -> str:
    """The tenant whose stream the caller reads; merchant keys read none."""
    if principal.merchant_id is not None:
        raise auth.Forbidden("merchant keys read their orders, not the event stream")
    return principal.tenant


@router.get("/events", response_model=Page[EventOut], tags=["events"])
def list_events(
    platform: PlatformDep,
    principal: Reader,
    limit: Limit = 10,
    starting_after: Cursor = None,
    type: Annotated[str | None, Query(pattern=r"^[a-z_]{1,64}$")] = None,
) -> Any:
    tenant = _stream_of(principal)
    with platform.read() as conn:
        found, more = event_stream.list_events(conn, tenant, limit, starting_after, type)
    return page([event_body(e) for e in found], more)


@router.get("/events/{event_id}", response_model=EventOut, tags=["events"])
def get_event(event_id: str, platform: PlatformDep, principal: Reader) -> Any:
    tenant = _stream_of(principal)
    with platform.read() as conn:
        found = event_stream.find_event(conn, tenant, event_id)
    if found is None:
        raise NotFound(f"no event {event_id}")
    return event_body(found)
