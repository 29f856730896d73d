"""Supply-chain finance: parties, receivable certificates, certified payables, their events.

Rates are decimal strings (``"0.036"`` is 3.6% a year), never floats; dates are ISO calendar
days; amounts integer minor units.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from embedfin.api.schemas.common import Amount, Currency, Model, Name, Text200
from embedfin.scf.certificates import MAX_PARTS

Rate = Annotated[str, StringConstraints(pattern=r"^0(\.[0-9]{1,8})?$")]
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    """A calendar day is ``YYYY-MM-DD`` and nothing else (no time, no other spelling)."""
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
Part = Annotated[int, Field(strict=True, gt=0)]


class PartyIn(Model):
    id: Name
    role: Literal["core", "supplier", "funder", "distributor"]
    name: Text200
    discount_rate: Rate | None = None
    overdue_rate: Rate | None = None
    day_basis: Literal[360, 365] | None = None


class PartyOut(BaseModel):
    object: Literal["scf_party"] = "scf_party"
    id: str
    role: str
    name: str
    discount_rate: str | None
    overdue_rate: str | None
    day_basis: int | None


class IssueIn(Model):
    core: Name
    supplier: Name
    payable_ref: Name
    amount: Amount
    currency: Currency
    matures_on: Day


class SplitIn(Model):
    holder: Name
    parts: Annotated[list[Part], Field(min_length=2, max_length=MAX_PARTS)]


class TransferIn(Model):
    holder: Name
    to: Name
    amount: Amount | None = None


class DiscountIn(Model):
    holder: Name
    funder: Name
    amount: Amount | None = None


class CertificateOut(BaseModel):
    object: Literal["certificate"] = "certificate"
    id: str
    payable: str
    parent: str | None
    holder: str
    holder_role: str
    tier: int
    amount: int
    currency: str
    price: int | None
    status: str
    matures_on: date
    made_on: date


class CertificatesOut(BaseModel):
    """What a split, transfer or discount made: the first is the part passed on (a split:
    the parts in order)."""

    object: Literal["list"] = "list"
    data: list[CertificateOut]


class PayableOut(BaseModel):
    object: Literal["scf_payable"] = "scf_payable"
    id: str
    core: str
    supplier: str
    payable_ref: str
    amount: int
    currency: str
    issued_on: date
    matures_on: date
    status: str
    overdue_since: date | None
    settled_on: date | None
    late_interest: int


class EventOut(BaseModel):
    """A certificate event and where it is in the tenant's ``scf`` log: prove it with
    ``GET /v1/logs/scf/proofs/inclusion?index=…``."""

    object: Literal["scf_event"] = "scf_event"
    request_id: str
    kind: str
    certificate: str
    on: date
    log_index: int
    entry: dict[str, Any]


class MaturityRunOut(BaseModel):
    object: Literal["maturity_run"] = "maturity_run"
    settled: int
    overdue: int
    still_overdue: int


class ReachOut(BaseModel):
    """One tier of how far the core enterprises' credit reached."""

    object: Literal["scf_reach"] = "scf_reach"
    tier: int
    suppliers: int
    received: int
    discounted: int


class PurchaseOrderIn(Model):
    buyer: Name
    supplier: Name
    po_ref: Name
    amount: Amount
    currency: Currency
    due_on: Day


class AdvanceIn(Model):
    funder: Name
    advance_bp: Annotated[int, Field(strict=True, ge=1, le=9_000)]
    fee_bp: Annotated[int, Field(strict=True, ge=0, le=1_000)]


class AdvanceOut(BaseModel):
    object: Literal["scf_advance"] = "scf_advance"
    funder: str
    advance_bp: int
    fee_bp: int
    advance: int
    fee: int
    repaid: bool
    made_on: date
    repaid_on: date | None


class PurchaseOrderOut(BaseModel):
    object: Literal["purchase_order"] = "purchase_order"
    id: str
    buyer: str
    supplier: str
    po_ref: str
    amount: int
    currency: str
    placed_on: date
    due_on: date
    status: str
    received_on: date | None
    paid_on: date | None
    advance: AdvanceOut | None
