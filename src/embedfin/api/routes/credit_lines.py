"""``/v1/credit_lines``: revolving lines and their virtual cards; freeze, limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from embedfin.api.commands import Command, OrdersCommand, SettlementCommand
from embedfin.api.deps import PlatformDep
from embedfin.api.idempotency import Body
from embedfin.api.platform import Platform
from embedfin.api.routes.common import CustomerReader, require_customer, v1_router
from embedfin.api.schemas.credit_lines import CreditLineCreate, CreditLineOut, LimitIn
from embedfin.core.errors import LimitExceeded
from embedfin.core.money import Money
from embedfin.lending.cards import CreditLine
from embedfin.lending.products import ProductKind

router = v1_router()


def check_line_limit(platform: Platform, tenant: str, limit_minor: int) -> None:
    """A line's limit is at most what the catalogue's revolving plan finances.

    Every purchase on the line is drawn on that plan, so a larger limit could never be lent
    within the plan's terms; and it keeps a line's limit (and the sums over a buyer's lines)
    far from the 64-bit ceiling of the amount columns, where 2**63 - 1 was accepted."""
    plans = platform.tenant(tenant).lending.catalog.plans.values()
    ceilings = [p.max_minor for p in plans if p.kind is ProductKind.REVOLVING]
    if not ceilings:
        raise LimitExceeded("limit: the catalogue offers no revolving credit")
    if limit_minor > max(ceilings):
        raise LimitExceeded(
            f"limit: at most {max(ceilings)} minor units (the catalogue's revolving plan)"
        )


def line_body(
    platform: Platform, tenant: str, line: CreditLine, token: str | None = None
) -> dict[str, Any]:
    available = platform.tenant(tenant).credit_lines.available(line.line_id)
    return CreditLineOut(
        id=line.line_id,
        customer=line.buyer_id,
        currency=line.currency,
        limit=line.limit_minor,
        available=available,
        card_last4=line.card_last4,
        card_expiry=line.card_expiry,
        status=line.status,
        card_token=token,
    ).model_dump(mode="json")


@router.post("/credit_lines", status_code=201, response_model=CreditLineOut, tags=["credit"])
def open_credit_line(body: CreditLineCreate, cmd: SettlementCommand) -> Any:
    """Open a revolving line and issue its virtual card (the token is in this response only)."""
    line_id = cmd.new_id("cl")

    def effect() -> tuple[int, Body]:
        platform = cmd.platform
        check_line_limit(platform, cmd.tenant, body.limit)
        require_customer(platform, cmd.principal, body.customer)
        line = platform.tenant(cmd.tenant).credit_lines.open_line(
            line_id, body.customer, Money(body.limit, body.currency), platform.funder_id
        )
        cmd.audit("credit_line.open", line_id, {"limit": body.limit})
        return 201, line_body(platform, cmd.tenant, line, line.card_token)

    return cmd.run(body.model_dump(), effect)


@router.get("/credit_lines/{line_id}", response_model=CreditLineOut, tags=["credit"])
def get_credit_line(line_id: str, platform: PlatformDep, principal: CustomerReader) -> Any:
    lines = platform.tenant(principal.tenant).credit_lines
    return line_body(platform, principal.tenant, lines.get(line_id))


def _line_action(
    cmd: Command,
    line_id: str,
    action: str,
    params: dict[str, Any],
    run: Callable[[], CreditLine],
) -> Any:
    def effect() -> tuple[int, Body]:
        line = run()
        cmd.audit(f"credit_line.{action}", line_id, params)
        return 200, line_body(cmd.platform, cmd.tenant, line)

    return cmd.run({"line": line_id, "action": action, **params}, effect)


@router.post("/credit_lines/{line_id}/freeze", response_model=CreditLineOut, tags=["credit"])
def freeze_card(line_id: str, cmd: OrdersCommand) -> Any:
    lines = cmd.platform.tenant(cmd.tenant).credit_lines
    return _line_action(cmd, line_id, "freeze", {}, lambda: lines.freeze(line_id, True))


@router.post("/credit_lines/{line_id}/unfreeze", response_model=CreditLineOut, tags=["credit"])
def unfreeze_card(line_id: str, cmd: OrdersCommand) -> Any:
    lines = cmd.platform.tenant(cmd.tenant).credit_lines
    return _line_action(cmd, line_id, "unfreeze", {}, lambda: lines.freeze(line_id, False))


@router.post("/credit_lines/{line_id}/limit", response_model=CreditLineOut, tags=["credit"])
def set_credit_limit(line_id: str, body: LimitIn, cmd: SettlementCommand) -> Any:
    """Raise or lower the limit, with the reason shown to the buyer."""
    lines = cmd.platform.tenant(cmd.tenant).credit_lines

    def run() -> CreditLine:
        check_line_limit(cmd.platform, cmd.tenant, body.limit)
        return lines.set_limit(line_id, Money(body.limit, body.currency), body.reason)

    return _line_action(cmd, line_id, "limit", body.model_dump(), run)
