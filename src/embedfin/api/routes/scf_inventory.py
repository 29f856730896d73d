"""``/v1/scf/inventory_facilities/…``: inventory financing — a funder's facility for a
distributor, drawn within a borrowing base recomputed daily from the distributor's stock and
its sales on the platform; when the base falls below what is drawn, drawing stops and a plan
pays the shortfall down (``scf/stock.py``).

Commands need ``scf:write`` (the daily run ``settlement``, like the maturity run); reads need
``read``, and a merchant's key sees only the facilities it is the distributor of.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import ScfCommand, SettlementCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.routes.common import page, v1_router
from embedfin.api.schemas.scf_inventory import (
    FacilityIn,
    FacilityOut,
    InstallmentOut,
    InventoryRunOut,
    MoneyIn,
    StockReportIn,
    ValuationOut,
)
from embedfin.core.errors import NotFound
from embedfin.core.money import Money
from embedfin.scf.inventory import Policy, StockLine
from embedfin.scf.stock import InventoryFinancing
from embedfin.scf.stock_rows import DayValuation, Facility

router = v1_router()
Reader = Annotated[Principal, Depends(require(Scope.READ))]


def _valuation_body(found: DayValuation) -> ValuationOut:
    base = found.valuation
    return ValuationOut(
        day=found.day, reported_on=found.reported_on, stock_value=base.value_minor,
        eligible_value=base.eligible_minor, on_hand=base.on_hand, sold_30d=base.sold,
        sell_through_bp=base.sell_through_bp, days_of_stock=base.days_of_stock,
        advance_bp=base.advance_bp, limit=base.limit_minor, drawn=found.drawn_minor,
    )  # fmt: skip


def _facility_body(stock: InventoryFinancing, facility: Facility) -> Body:
    latest = stock.valuations(facility.facility_id, limit=1)
    plan = [
        InstallmentOut(plan=i.plan_no, n=i.n, due_on=i.due_on, amount=i.amount_minor,
                       paid=i.paid_minor, status=i.status)
        for i in stock.installments(facility.facility_id) if i.plan_no == facility.plan_no
    ]  # fmt: skip
    p = facility.policy
    return FacilityOut(
        id=facility.facility_id, distributor=facility.distributor_id, funder=facility.funder_id,
        currency=facility.currency, advance_bp=p.advance_bp, fee_bp=p.fee_bp,
        max_days_of_stock=p.max_days_of_stock, target_sell_through_bp=p.target_sell_through_bp,
        installments=p.installments, every_days=p.every_days, cap=p.cap_minor,
        drawn=facility.drawn_minor, status=facility.status.value, opened_on=facility.opened_on,
        valuation=_valuation_body(latest[0]) if latest else None, plan=plan,
    ).model_dump(mode="json")  # fmt: skip


def _visible(principal: Principal, facility: Facility) -> Facility:
    if principal.merchant_id not in (None, facility.distributor_id):
        raise NotFound(f"no inventory facility {facility.facility_id}")
    return facility


@router.post("/scf/inventory_facilities", status_code=201, response_model=FacilityOut,
             tags=["scf"])  # fmt: skip
def open_facility(body: FacilityIn, cmd: ScfCommand) -> Any:
    """A funder's facility for a distributor, on these terms."""

    def effect() -> tuple[int, Body]:
        stock = cmd.platform.tenant(cmd.tenant).scf_inventory
        policy = Policy(body.advance_bp, body.max_days_of_stock, body.target_sell_through_bp,
                        body.fee_bp, body.installments, body.every_days, body.cap)  # fmt: skip
        made = stock.open(cmd.request_id(), body.distributor, body.funder, body.currency, policy)
        cmd.audit("scf.inventory_open", made.facility_id, body.model_dump(mode="json"))
        return 201, _facility_body(stock, made)

    return cmd.run(body.model_dump(mode="json"), effect)


@router.get("/scf/inventory_facilities", tags=["scf"])
def list_facilities(
    platform: PlatformDep, principal: Reader, distributor: str | None = None
) -> Any:
    stock = platform.tenant(principal.tenant).scf_inventory
    if principal.merchant_id is not None:
        if distributor not in (None, principal.merchant_id):
            return page([], False)
        distributor = principal.merchant_id
    return page([_facility_body(stock, f) for f in stock.facilities(distributor)], False)


@router.get("/scf/inventory_facilities/{facility_id}", response_model=FacilityOut, tags=["scf"])
def get_facility(facility_id: str, platform: PlatformDep, principal: Reader) -> Any:
    stock = platform.tenant(principal.tenant).scf_inventory
    return _facility_body(stock, _visible(principal, stock.facility(facility_id)))


@router.get("/scf/inventory_facilities/{facility_id}/valuations", tags=["scf"])
def list_valuations(facility_id: str, platform: PlatformDep, principal: Reader) -> Any:
    """The facility's daily borrowing bases, newest first (90 days)."""
    stock = platform.tenant(principal.tenant).scf_inventory
    _visible(principal, stock.facility(facility_id))
    found = stock.valuations(facility_id)
    return page([_valuation_body(v).model_dump(mode="json") for v in found], False)


@router.post("/scf/inventory_facilities/{facility_id}/stock_reports", status_code=201,
             response_model=ValuationOut, tags=["scf"])  # fmt: skip
def report_stock(facility_id: str, body: StockReportIn, cmd: ScfCommand) -> Any:
    """The distributor's stock today, SKU by SKU: today's borrowing base from it."""

    def effect() -> tuple[int, Body]:
        stock = cmd.platform.tenant(cmd.tenant).scf_inventory
        lines = [StockLine(x.sku, x.on_hand, x.unit_cost) for x in body.lines]
        found = stock.report(cmd.request_id(), facility_id, lines)
        cmd.audit("scf.inventory_report", facility_id, {"skus": len(lines)})
        return 201, _valuation_body(found).model_dump(mode="json")

    return cmd.run(body.model_dump(mode="json"), effect)


def _money_command(cmd: Any, facility_id: str, body: MoneyIn, action: str) -> Any:
    def effect() -> tuple[int, Body]:
        stock = cmd.platform.tenant(cmd.tenant).scf_inventory
        move = stock.draw if action == "draw" else stock.repay
        done = move(cmd.request_id(), facility_id, Money(body.amount, body.currency))
        cmd.audit(f"scf.inventory_{action}", facility_id, body.model_dump(mode="json"))
        return 200, _facility_body(stock, done)

    return cmd.run(body.model_dump(mode="json"), effect)


@router.post("/scf/inventory_facilities/{facility_id}/draws", response_model=FacilityOut,
             tags=["scf"])  # fmt: skip
def draw(facility_id: str, body: MoneyIn, cmd: ScfCommand) -> Any:
    """Draw within today's limit (refused while frozen): the distributor gets it less the fee."""
    return _money_command(cmd, facility_id, body, "draw")


@router.post("/scf/inventory_facilities/{facility_id}/repayments", response_model=FacilityOut,
             tags=["scf"])  # fmt: skip
def repay(facility_id: str, body: MoneyIn, cmd: ScfCommand) -> Any:
    """The distributor pays down what it drew from its balance (a plan's installments first)."""
    return _money_command(cmd, facility_id, body, "repay")


@router.post("/scf/inventory_runs", response_model=InventoryRunOut, tags=["scf"])
def run_inventory(cmd: SettlementCommand) -> Any:
    """Today's run: every facility revalued, frozen or unfrozen, its due installments taken."""

    def effect() -> tuple[int, Body]:
        run = cmd.platform.tenant(cmd.tenant).scf_inventory.run()
        out = InventoryRunOut(valued=run.valued, frozen=run.frozen, unfrozen=run.unfrozen,
                              collected=run.collected, overdue=run.overdue)  # fmt: skip
        cmd.audit("scf.inventory_run", "scf", out.model_dump(mode="json"))
        return 200, out.model_dump(mode="json")

    return cmd.run({}, effect, atomic=False)
