"""Inventory financing — a distributor's facility, its stock reports, draws and repayments — and
purchase-order documents: the order's lines, goods receipts, supplier invoices.

Amounts are integer minor units; rates basis points; days ISO calendar days.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from embedfin.api.schemas.common import Amount, Currency, Model, Name
from embedfin.api.schemas.scf import Day
from embedfin.scf.documents import MAX_DOC_LINES, MAX_PRICE, MAX_QUANTITY, MAX_TOLERANCE_BP
from embedfin.scf.inventory import MAX_ADVANCE_BP, MAX_FEE_BP, MAX_LINES, MAX_UNIT_COST, MAX_UNITS


def _bounded(low: int, high: int) -> object:
    return Field(strict=True, ge=low, le=high)


class FacilityIn(Model):
    distributor: Name
    funder: Name
    currency: Currency
    advance_bp: Annotated[int, _bounded(1, MAX_ADVANCE_BP)]
    fee_bp: Annotated[int, _bounded(0, MAX_FEE_BP)] = 0
    max_days_of_stock: Annotated[int, _bounded(1, 365)] = 180
    target_sell_through_bp: Annotated[int, _bounded(1, 10_000)] = 3_000
    installments: Annotated[int, _bounded(1, 12)] = 4
    every_days: Annotated[int, _bounded(1, 31)] = 7
    cap: Amount | None = None


class StockLineIn(Model):
    sku: Name
    on_hand: Annotated[int, _bounded(0, MAX_UNITS)]
    unit_cost: Annotated[int, _bounded(0, MAX_UNIT_COST)]


class StockReportIn(Model):
    lines: Annotated[list[StockLineIn], Field(max_length=MAX_LINES)]


class MoneyIn(Model):
    amount: Amount
    currency: Currency


class ValuationOut(BaseModel):
    """A day's borrowing base and the figures it came from."""

    object: Literal["inventory_valuation"] = "inventory_valuation"
    day: date
    reported_on: date | None
    stock_value: int
    eligible_value: int
    on_hand: int
    sold_30d: int
    sell_through_bp: int
    days_of_stock: float | None
    advance_bp: int
    limit: int
    drawn: int


class InstallmentOut(BaseModel):
    plan: int
    n: int
    due_on: date
    amount: int
    paid: int
    status: str


class FacilityOut(BaseModel):
    object: Literal["inventory_facility"] = "inventory_facility"
    id: str
    distributor: str
    funder: str
    currency: str
    advance_bp: int
    fee_bp: int
    max_days_of_stock: int
    target_sell_through_bp: int
    installments: int
    every_days: int
    cap: int | None
    drawn: int
    status: str
    opened_on: date
    valuation: ValuationOut | None
    plan: list[InstallmentOut]


class InventoryRunOut(BaseModel):
    object: Literal["inventory_run"] = "inventory_run"
    valued: int
    frozen: int
    unfrozen: int
    collected: int
    overdue: int


# --- purchase-order documents ------------------------------------------------------------------
class OrderLineIn(Model):
    sku: Name
    quantity: Annotated[int, _bounded(1, MAX_QUANTITY)]
    unit_price: Annotated[int, _bounded(1, MAX_PRICE)]


class ReceiptLineIn(Model):
    sku: Name
    quantity: Annotated[int, _bounded(1, MAX_QUANTITY)]


class OrderLinesIn(Model):
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_DOC_LINES)]
    tolerance_bp: Annotated[int, _bounded(0, MAX_TOLERANCE_BP)] = 0


class ReceiptIn(Model):
    lines: Annotated[list[ReceiptLineIn], Field(min_length=1, max_length=MAX_DOC_LINES)]


class InvoiceIn(Model):
    invoice_ref: Name
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_DOC_LINES)]


class CertifyIn(Model):
    matures_on: Day


class DocumentLineOut(BaseModel):
    sku: str
    quantity: int
    unit_price: int


class DocumentOut(BaseModel):
    """A purchase order's lines, a goods receipt or a supplier invoice (with its match)."""

    object: Literal["scf_document"] = "scf_document"
    id: str
    purchase_order: str
    kind: str
    ref: str
    lines: list[DocumentLineOut]
    amount: int
    status: str
    exceptions: list[str]
    tolerance_bp: int | None
    payable: str | None
    on: date
