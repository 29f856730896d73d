"""The supply-chain finance page: the tenant's certified payables and how far down the tiers
their certificates reached; one party's view — a supplier's certificates held, a funder's
portfolio with its maturities and gains, a core enterprise's payables; and one certificate's
life, each event proved included in the tenant's ``scf`` log against its latest signed
checkpoint, the way a consortium member checks it (``embedfin log verify --log scf``).

Read-only. A merchant's key sees only itself as a party and the certificates it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from embedfin.core.errors import EmbedfinError, NotFound
from embedfin.dashboard.logs import Checked, check_entry
from embedfin.dashboard.pages import PageError, page
from embedfin.dashboard.signin import SessionDep
from embedfin.scf.steps import LOG_ID
from embedfin.scf.stock_rows import DayValuation, Facility
from embedfin.scf.store import CertificateStatus, Party, Payable, Role

router = APIRouter()
PartyId = Annotated[str | None, Query(min_length=1, max_length=64)]


@dataclass(frozen=True, slots=True)
class Step:
    kind: str
    on: str
    request_id: str
    checked: Checked | None
    error: str | None


@router.get("/certificates", response_class=HTMLResponse)
def certificates_page(request: Request, current: SessionDep, party: PartyId = None) -> HTMLResponse:
    scf = current.platform.tenant(current.tenant).scf
    mine = current.principal.merchant_id
    if mine is not None and party not in (None, mine):
        raise PageError(404, f"no party {party}")
    party = mine or party
    try:
        who = None if party is None else scf.party(party)
    except NotFound:
        if mine is None:
            raise PageError(404, f"no party {party}") from None
        who, party = None, None  # a merchant that takes no part in supply-chain finance
    payables: list[Payable] = [] if mine is not None else scf.payables()
    held = [] if party is None else scf.certificates(holder_id=party, limit=500)
    owed = [] if who is None or who.role is not Role.CORE else scf.payables(core_id=party)
    live = [c for c in held if c.status is CertificateStatus.LIVE]
    reached = [] if mine is not None else scf.reach()
    return page(request, "certificates.html", session=current, payables=payables, who=who,
                held=held, owed=owed, reach=reached, live_face=sum(c.face_minor for c in live),
                live_price=sum(c.price_minor or 0 for c in live),
                facilities=_facilities(current, who, mine))  # fmt: skip


@dataclass(frozen=True, slots=True)
class FacilityRow:
    facility: Facility
    valuation: DayValuation | None
    unpaid_minor: int


def _facilities(current: Any, who: Party | None, mine: str | None) -> list[FacilityRow]:
    """The inventory facilities the page shows: a distributor's own, a funder's book, or all
    of them for the operator's overview (a merchant outside supply-chain finance: none)."""
    stock = current.platform.tenant(current.tenant).scf_inventory
    if who is not None and who.role is Role.DISTRIBUTOR:
        found = stock.facilities(distributor_id=who.party_id, limit=100)
    elif who is not None and who.role is Role.FUNDER:
        found = stock.facilities(funder_id=who.party_id, limit=100)
    elif who is None and mine is None:
        found = stock.facilities(limit=100)
    else:
        found = []
    rows = []
    for facility in found:
        latest = stock.valuations(facility.facility_id, limit=1)
        plan = [i for i in stock.installments(facility.facility_id)
                if i.plan_no == facility.plan_no and i.status != "paid"]  # fmt: skip
        unpaid = sum(i.amount_minor - i.paid_minor for i in plan)
        rows.append(FacilityRow(facility, latest[0] if latest else None, unpaid))
    return rows


@router.get("/certificates/{certificate_id}", response_class=HTMLResponse)
def certificate_page(request: Request, current: SessionDep, certificate_id: str) -> HTMLResponse:
    services = current.platform.tenant(current.tenant)
    try:
        certificate = services.scf.certificate(certificate_id)
    except NotFound:
        raise PageError(404, f"no certificate {certificate_id}") from None
    if current.principal.merchant_id not in (None, certificate.holder_id):
        raise PageError(404, f"no certificate {certificate_id}")
    services.log.checkpoint(LOG_ID)  # signs the current size once, as GET …/checkpoint does
    lineage, steps = [certificate], []
    while lineage[-1].parent_id is not None:
        lineage.append(services.scf.certificate(lineage[-1].parent_id))
    for held in reversed(lineage):
        event = services.scf.event(held.made_by)
        checked, error = None, None
        try:
            checked = check_entry(services.log, LOG_ID, event.log_index, bodies=True)
        except EmbedfinError as failure:
            error = f"{failure.code}: {failure.message}"
        steps.append(Step(event.kind, event.on_date.isoformat(), event.request_id, checked, error))
    return page(request, "certificate.html", session=current, certificate=certificate,
                lineage=lineage, steps=steps, log=services.log.info(LOG_ID))  # fmt: skip
