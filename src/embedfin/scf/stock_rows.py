"""Inventory financing's records and rows: facilities, their daily valuations, repayment
installments, a day's run, the commerce port for units sold (``stock.py`` has the commands)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Connection, RowMapping

from embedfin.core.errors import InvalidInput
from embedfin.scf.inventory import Policy, Valuation


class InventoryRefused(InvalidInput):
    code = "inventory_refused"


class SalesHistory(Protocol):
    """Units a merchant sold, by SKU, in orders paid in ``[since_ns, until_ns)`` (commerce)."""

    def units_sold(
        self, conn: Connection, tenant: str, merchant_id: str, since_ns: int, until_ns: int
    ) -> dict[str, int]: ...


class FacilityStatus(StrEnum):
    OPEN = "open"
    FROZEN = "frozen"


@dataclass(frozen=True, slots=True)
class Facility:
    facility_id: str
    distributor_id: str
    funder_id: str
    currency: str
    policy: Policy
    drawn_minor: int
    status: FacilityStatus
    plan_no: int
    opened_on: date


@dataclass(frozen=True, slots=True)
class DayValuation:
    facility_id: str
    day: date
    reported_on: date | None
    valuation: Valuation
    drawn_minor: int


@dataclass(frozen=True, slots=True)
class Installment:
    plan_no: int
    n: int
    due_on: date
    amount_minor: int
    paid_minor: int
    status: str  # due, paid, overdue


@dataclass(frozen=True, slots=True)
class InventoryRun:
    valued: int
    frozen: int
    unfrozen: int
    collected: int
    overdue: int


def facility_of(row: RowMapping) -> Facility:
    return Facility(
        row["facility_id"], row["distributor_id"], row["funder_id"], row["currency"],
        Policy(**json.loads(row["policy"])), int(row["drawn_minor"]),
        FacilityStatus(row["status"]), int(row["plan_no"]), date.fromisoformat(row["opened_on"]),
    )  # fmt: skip


def valuation_of(row: RowMapping) -> DayValuation:
    figures = json.loads(row["figures"])
    base = Valuation(
        int(row["value_minor"]), int(row["eligible_minor"]), int(figures["on_hand"]),
        int(figures["sold"]), int(row["sell_through_bp"]), figures["days_of_stock"],
        int(row["advance_bp"]), int(row["limit_minor"]), (),
    )  # fmt: skip
    reported = row["reported_on"]
    return DayValuation(row["facility_id"], date.fromisoformat(row["day"]),
                        None if reported is None else date.fromisoformat(reported), base,
                        int(row["drawn_minor"]))  # fmt: skip
