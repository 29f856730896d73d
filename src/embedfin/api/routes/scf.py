"""``/v1/scf/…``: supply-chain finance — parties, receivable certificates, certified payables.

Commands need ``scf:write`` (an operator's key acts for the parties of its marketplace, naming
the holder who acts); reads need ``read``. A merchant's key sees only the certificates it
holds and the payables it owes or was issued. Every certificate event is an entry of the
tenant's ``scf`` log: ``GET /v1/scf/payables/{id}/events`` gives each one's index, and
``/v1/logs/scf/…`` its inclusion proof against a signed checkpoint.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, Query

from embedfin.api.auth import Principal, Scope
from embedfin.api.commands import ScfCommand, SettlementCommand
from embedfin.api.deps import PlatformDep, require
from embedfin.api.idempotency import Body
from embedfin.api.platform import Platform
from embedfin.api.routes.common import page, v1_router
from embedfin.api.schemas.scf import (
    AdvanceIn,
    AdvanceOut,
    CertificateOut,
    CertificatesOut,
    DiscountIn,
    EventOut,
    IssueIn,
    MaturityRunOut,
    PartyIn,
    PartyOut,
    PayableOut,
    PurchaseOrderIn,
    PurchaseOrderOut,
    ReachOut,
    SplitIn,
    TransferIn,
)
from embedfin.core.errors import NotFound
from embedfin.core.money import Money
from embedfin.scf.orders import Advance, PurchaseOrder
from embedfin.scf.service import Certificates
from embedfin.scf.store import (
    Certificate,
    CertificateStatus,
    Party,
    Payable,
    PayableStatus,
    Role,
)

router = v1_router()
Reader = Annotated[Principal, Depends(require(Scope.READ))]
Status = Literal["live", "retired", "settled"]
RoleName = Literal["core", "supplier", "funder", "distributor"]


def _scf(platform: Platform, tenant: str) -> Certificates:
    return platform.tenant(tenant).scf


def _party_body(party: Party) -> Body:
    return PartyOut(
        id=party.party_id, role=party.role.value, name=party.name,
        discount_rate=None if party.discount_rate is None else str(party.discount_rate),
        overdue_rate=None if party.overdue_rate is None else str(party.overdue_rate),
        day_basis=party.day_basis,
    ).model_dump(mode="json")  # fmt: skip


def _payable_body(p: Payable) -> Body:
    return PayableOut(
        id=p.payable_id, core=p.core_id, supplier=p.supplier_id, payable_ref=p.payable_ref,
        amount=p.face_minor, currency=p.currency, issued_on=p.issued_on, matures_on=p.matures_on,
        status=p.status.value, overdue_since=p.overdue_since, settled_on=p.settled_on,
        late_interest=p.late_interest_minor,
    ).model_dump(mode="json")  # fmt: skip


def _certificate_bodies(made: list[Certificate]) -> list[Body]:
    return [
        CertificateOut(
            id=c.certificate_id, payable=c.payable_id, parent=c.parent_id, holder=c.holder_id,
            holder_role=c.holder_role.value, tier=c.tier, amount=c.face_minor,
            currency=c.currency, price=c.price_minor, status=c.status.value,
            matures_on=c.matures_on, made_on=c.made_on,
        ).model_dump(mode="json")
        for c in made
    ]  # fmt: skip


def _made(made: list[Certificate]) -> tuple[int, Body]:
    return 201, {"object": "list", "data": _certificate_bodies(made)}


def _visible_payable(principal: Principal, payable: Payable) -> Payable:
    if principal.merchant_id not in (None, payable.core_id, payable.supplier_id):
        raise NotFound(f"no payable {payable.payable_id}")
    return payable


# --- parties ---------------------------------------------------------------------------------
@router.post("/scf/parties", status_code=201, response_model=PartyOut, tags=["scf"])
def register_party(body: PartyIn, cmd: ScfCommand) -> Any:
    """Register a core enterprise (with its rates), a supplier or a funder."""

    def effect() -> tuple[int, Body]:
        party = _scf(cmd.platform, cmd.tenant).register(
            body.id, body.role, body.name,
            discount_rate=None if body.discount_rate is None else Decimal(body.discount_rate),
            overdue_rate=None if body.overdue_rate is None else Decimal(body.overdue_rate),
            day_basis=body.day_basis,
        )  # fmt: skip
        cmd.audit("scf.party", party.party_id, body.model_dump())
        return 201, _party_body(party)

    return cmd.run(body.model_dump(), effect)


@router.get("/scf/parties", tags=["scf"])
def list_parties(platform: PlatformDep, principal: Reader, role: RoleName | None = None) -> Any:
    parties = _scf(platform, principal.tenant).parties(None if role is None else Role(role))
    return page([_party_body(p) for p in parties], False)


@router.get("/scf/parties/{party_id}", response_model=PartyOut, tags=["scf"])
def get_party(party_id: str, platform: PlatformDep, principal: Reader) -> Any:
    return _party_body(_scf(platform, principal.tenant).party(party_id))


# --- certificates ----------------------------------------------------------------------------
@router.post("/scf/certificates", status_code=201, response_model=CertificateOut, tags=["scf"])
def issue_certificate(body: IssueIn, cmd: ScfCommand) -> Any:
    """A core enterprise certifies a confirmed payable to its supplier (term ≤ one year)."""

    def effect() -> tuple[int, Body]:
        scf = _scf(cmd.platform, cmd.tenant)
        first = scf.issue(cmd.request_id(), body.core, body.supplier, body.payable_ref,
                          Money(body.amount, body.currency), body.matures_on)  # fmt: skip
        cmd.audit("scf.issue", first.certificate_id, body.model_dump(mode="json"))
        return 201, _certificate_bodies([first])[0]

    return cmd.run(body.model_dump(mode="json"), effect)


@router.get("/scf/certificates", tags=["scf"])
def list_certificates(
    platform: PlatformDep,
    principal: Reader,
    holder: str | None = None,
    payable: str | None = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Certificates by holder, payable or status (a merchant's key: those it holds)."""
    if principal.merchant_id is not None:
        if holder not in (None, principal.merchant_id):
            return page([], False)
        holder = principal.merchant_id
    scf = _scf(platform, principal.tenant)
    found = scf.certificates(
        holder_id=holder, payable_id=payable,
        status=None if status is None else CertificateStatus(status), limit=limit + 1,
    )  # fmt: skip
    return page(_certificate_bodies(found[:limit]), len(found) > limit)


@router.get("/scf/certificates/{certificate_id}", response_model=CertificateOut, tags=["scf"])
def get_certificate(certificate_id: str, platform: PlatformDep, principal: Reader) -> Any:
    scf = _scf(platform, principal.tenant)
    found = scf.certificate(certificate_id)
    if principal.merchant_id not in (None, found.holder_id):
        raise NotFound(f"no certificate {certificate_id}")
    return _certificate_bodies([found])[0]


@router.post("/scf/certificates/{certificate_id}/split", status_code=201,
             response_model=CertificatesOut, tags=["scf"])  # fmt: skip
def split_certificate(certificate_id: str, body: SplitIn, cmd: ScfCommand) -> Any:
    """Split into parts that sum exactly to the certificate; the parent retires."""

    def effect() -> tuple[int, Body]:
        scf = _scf(cmd.platform, cmd.tenant)
        made = scf.split(cmd.request_id(), certificate_id, body.holder, body.parts)
        cmd.audit("scf.split", certificate_id, body.model_dump())
        return _made(made)

    return cmd.run(body.model_dump(), effect)


@router.post("/scf/certificates/{certificate_id}/transfer", status_code=201,
             response_model=CertificatesOut, tags=["scf"])  # fmt: skip
def transfer_certificate(certificate_id: str, body: TransferIn, cmd: ScfCommand) -> Any:
    """Pass the certificate (or ``amount`` of it) to the holder's own supplier."""

    def effect() -> tuple[int, Body]:
        scf = _scf(cmd.platform, cmd.tenant)
        made = scf.transfer(cmd.request_id(), certificate_id, body.holder, body.to, body.amount)
        cmd.audit("scf.transfer", certificate_id, body.model_dump())
        return _made(made)

    return cmd.run(body.model_dump(), effect)


@router.post("/scf/certificates/{certificate_id}/discount", status_code=201,
             response_model=CertificatesOut, tags=["scf"])  # fmt: skip
def discount_certificate(certificate_id: str, body: DiscountIn, cmd: ScfCommand) -> Any:
    """Sell the certificate (or ``amount`` of it) to a funder at the core enterprise's rate."""

    def effect() -> tuple[int, Body]:
        scf = _scf(cmd.platform, cmd.tenant)
        made = scf.discount(cmd.request_id(), certificate_id, body.holder, body.funder,
                            body.amount)  # fmt: skip
        cmd.audit("scf.discount", certificate_id, body.model_dump())
        return _made(made)

    return cmd.run(body.model_dump(), effect)


# --- payables --------------------------------------------------------------------------------
@router.get("/scf/payables", tags=["scf"])
def list_payables(
    platform: PlatformDep,
    principal: Reader,
    core: str | None = None,
    status: Literal["outstanding", "overdue", "settled"] | None = None,
) -> Any:
    found = _scf(platform, principal.tenant).payables(
        core_id=core, status=None if status is None else PayableStatus(status)
    )
    mine = [p for p in found if principal.merchant_id in (None, p.core_id, p.supplier_id)]
    return page([_payable_body(p) for p in mine], False)


@router.get("/scf/reach", tags=["scf"])
def get_reach(platform: PlatformDep, principal: Reader, core: str | None = None) -> Any:
    """Per tier: the suppliers that received certificates, what they received and what they
    discounted (minor units) — of one core enterprise's payables, or all."""
    if principal.merchant_id is not None and core != principal.merchant_id:
        raise NotFound("a merchant's key sees the reach of its own payables only (core=…)")
    rows = _scf(platform, principal.tenant).reach(core)
    return page([ReachOut(tier=r.tier, suppliers=r.holders, received=r.volume_minor,
                          discounted=r.discounted_minor).model_dump(mode="json")
                 for r in rows], False)  # fmt: skip


@router.get("/scf/payables/{payable_id}", response_model=PayableOut, tags=["scf"])
def get_payable(payable_id: str, platform: PlatformDep, principal: Reader) -> Any:
    return _payable_body(_visible_payable(principal, _scf(platform, principal.tenant)
                                          .payable(payable_id)))  # fmt: skip


@router.get("/scf/payables/{payable_id}/events", tags=["scf"])
def list_payable_events(payable_id: str, platform: PlatformDep, principal: Reader) -> Any:
    """The payable's certificate events in log order, each with its index in the scf log."""
    scf = _scf(platform, principal.tenant)
    _visible_payable(principal, scf.payable(payable_id))
    return page([
        EventOut(request_id=e.request_id, kind=e.kind, certificate=e.certificate_id,
                 on=e.on_date, log_index=e.log_index, entry=e.result).model_dump(mode="json")
        for e in scf.events(payable_id)
    ], False)  # fmt: skip


@router.post("/scf/payables/{payable_id}/settle", response_model=PayableOut, tags=["scf"])
def settle_payable(payable_id: str, cmd: ScfCommand) -> Any:
    """On or after maturity the core enterprise pays every holder (all or nothing)."""

    def effect() -> tuple[int, Body]:
        settled = _scf(cmd.platform, cmd.tenant).settle(cmd.request_id(), payable_id)
        cmd.audit("scf.settle", payable_id, {})
        return 200, _payable_body(settled)

    return cmd.run({}, effect)


@router.post("/scf/maturity_runs", response_model=MaturityRunOut, tags=["scf"])
def run_maturities(cmd: SettlementCommand) -> Any:
    """Settle what is due today; mark overdue what its core enterprise cannot pay."""

    def effect() -> tuple[int, Body]:
        run = _scf(cmd.platform, cmd.tenant).run_maturities()
        cmd.audit("scf.maturities", "scf", {"settled": run.settled, "overdue": run.overdue})
        out = MaturityRunOut(settled=run.settled, overdue=run.overdue,
                             still_overdue=run.still_overdue)  # fmt: skip
        return 200, out.model_dump(mode="json")

    return cmd.run({}, effect, atomic=False)


# --- purchase orders -------------------------------------------------------------------------
def _order_body(order: PurchaseOrder, advance: Advance | None) -> Body:
    made = None if advance is None else AdvanceOut(
        funder=advance.funder_id, advance_bp=advance.advance_bp, fee_bp=advance.fee_bp,
        advance=advance.advance_minor, fee=advance.fee_minor, repaid=advance.repaid,
        made_on=advance.made_on, repaid_on=advance.repaid_on)  # fmt: skip
    return PurchaseOrderOut(
        id=order.po_id, buyer=order.buyer_id, supplier=order.supplier_id, po_ref=order.po_ref,
        amount=order.amount_minor, currency=order.currency, placed_on=order.placed_on,
        due_on=order.due_on, status=order.status.value, received_on=order.received_on,
        paid_on=order.paid_on, advance=made,
    ).model_dump(mode="json")  # fmt: skip


def _visible_order(principal: Principal, order: PurchaseOrder) -> PurchaseOrder:
    if principal.merchant_id not in (None, order.buyer_id, order.supplier_id):
        raise NotFound(f"no purchase order {order.po_id}")
    return order


@router.post("/scf/purchase_orders", status_code=201, response_model=PurchaseOrderOut,
             tags=["scf"])  # fmt: skip
def place_purchase_order(body: PurchaseOrderIn, cmd: ScfCommand) -> Any:
    """A core enterprise's confirmed purchase order with its supplier (due within a year)."""

    def effect() -> tuple[int, Body]:
        order = cmd.platform.tenant(cmd.tenant).scf_orders.place(
            cmd.request_id(), body.buyer, body.supplier, body.po_ref,
            Money(body.amount, body.currency), body.due_on)  # fmt: skip
        cmd.audit("scf.po", order.po_id, body.model_dump(mode="json"))
        return 201, _order_body(order, None)

    return cmd.run(body.model_dump(mode="json"), effect)


@router.get("/scf/purchase_orders", tags=["scf"])
def list_purchase_orders(
    platform: PlatformDep, principal: Reader, buyer: str | None = None,
    supplier: str | None = None,
) -> Any:  # fmt: skip
    orders = platform.tenant(principal.tenant).scf_orders
    found = orders.orders(buyer_id=buyer, supplier_id=supplier)
    mine = [o for o in found if principal.merchant_id in (None, o.buyer_id, o.supplier_id)]
    advances = orders.advances_of([o.po_id for o in mine])
    return page([_order_body(o, advances.get(o.po_id)) for o in mine], False)


@router.get("/scf/purchase_orders/{po_id}", response_model=PurchaseOrderOut, tags=["scf"])
def get_purchase_order(po_id: str, platform: PlatformDep, principal: Reader) -> Any:
    orders = platform.tenant(principal.tenant).scf_orders
    order = _visible_order(principal, orders.order(po_id))
    return _order_body(order, orders.advance_of(po_id))


def _order_command(cmd: Any, po_id: str, fingerprint: Body, run: Any, action: str) -> Any:
    def effect() -> tuple[int, Body]:
        orders = cmd.platform.tenant(cmd.tenant).scf_orders
        run(orders, cmd.request_id())
        cmd.audit(action, po_id, fingerprint)
        return 200, _order_body(orders.order(po_id), orders.advance_of(po_id))

    return cmd.run(fingerprint, effect)


@router.post("/scf/purchase_orders/{po_id}/receipt", response_model=PurchaseOrderOut,
             tags=["scf"])  # fmt: skip
def receive_purchase_order(po_id: str, cmd: ScfCommand) -> Any:
    """The buyer records the goods received."""
    return _order_command(cmd, po_id, {}, lambda o, r: o.receive(r, po_id), "scf.po_receive")


@router.post("/scf/purchase_orders/{po_id}/advance", response_model=PurchaseOrderOut,
             tags=["scf"])  # fmt: skip
def advance_purchase_order(po_id: str, body: AdvanceIn, cmd: ScfCommand) -> Any:
    """A funder advances the supplier a share of the order (repaid first from its payment)."""
    return _order_command(
        cmd, po_id, body.model_dump(),
        lambda o, r: o.advance(r, po_id, body.funder, body.advance_bp, body.fee_bp),
        "scf.advance",
    )  # fmt: skip


@router.post("/scf/purchase_orders/{po_id}/payment", response_model=PurchaseOrderOut,
             tags=["scf"])  # fmt: skip
def pay_purchase_order(po_id: str, cmd: ScfCommand) -> Any:
    """The buyer pays the whole order: the funder first, the supplier the rest."""
    return _order_command(cmd, po_id, {}, lambda o, r: o.pay(r, po_id), "scf.po_pay")
