"""Repayment schedules in exact minor units.

* **Equal installment** (annuity): one payment ``P·r / (1 − (1 + r)^−n)`` rounded half-up to the
  minor unit; each period's interest is the outstanding balance times ``r``, rounded half-up;
  the last installment takes whatever principal is left, so principals sum to the amount lent
  exactly and totals sum to principal + interest exactly.
* **Equal principal**: the principal split into ``n`` parts (the first parts take the odd minor
  units) and interest on the declining balance.
* **Interest-free** plans (pay-in-4): the amount split into ``n`` parts, the first carrying the
  odd minor units.

A flat fee (fee-based plans) is spread over the installments the same way. ``Schedule`` keeps the
due dates, so the true annualised cost of any plan follows from the APR module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from embedfin.core.errors import InvalidAmount, InvalidInput
from embedfin.core.money import MAX_AMOUNT_MINOR, allocate
from embedfin.lending.apr import PER_YEAR, CashFlow, UnitPeriod, annual_percentage_rate


class Method(StrEnum):
    EQUAL_INSTALLMENT = "equal_installment"
    EQUAL_PRINCIPAL = "equal_principal"


@dataclass(frozen=True, slots=True)
class Installment:
    number: int
    due: date
    principal_minor: int
    interest_minor: int
    fee_minor: int

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.interest_minor + self.fee_minor


@dataclass(frozen=True, slots=True)
class Schedule:
    principal_minor: int
    start: date
    installments: tuple[Installment, ...]

    @property
    def interest_minor(self) -> int:
        return sum(i.interest_minor for i in self.installments)

    @property
    def fee_minor(self) -> int:
        return sum(i.fee_minor for i in self.installments)

    @property
    def total_minor(self) -> int:
        return sum(i.total_minor for i in self.installments)

    def apr(self, exponent: int, unit: UnitPeriod) -> Decimal:
        """The true annual rate of this schedule (interest and fees) by Appendix J.

        An installment due on the start date (pay-in-4's first payment at checkout) reduces the
        amount advanced instead of being a payment."""
        scale = Decimal(10) ** -exponent
        upfront = sum(i.total_minor for i in self.installments if i.due <= self.start)
        later = [i for i in self.installments if i.due > self.start]
        advanced = self.principal_minor - upfront
        if advanced <= 0 or not later:
            return Decimal(0)
        return annual_percentage_rate(
            [CashFlow(self.start, advanced * scale)],
            [CashFlow(i.due, i.total_minor * scale) for i in later],
            unit,
        )


def due_dates(start: date, first_due: date, count: int, unit: UnitPeriod) -> list[date]:
    """``count`` due dates from ``first_due``, one unit-period apart (months keep the day,
    clamped to the month's end)."""
    if first_due < start or count < 1:
        raise InvalidInput("the first due date cannot precede the start; count must be positive")
    if unit in (UnitPeriod.WEEK, UnitPeriod.BIWEEK):
        step = 7 if unit is UnitPeriod.WEEK else 14
        return [first_due + timedelta(days=step * n) for n in range(count)]
    months = {UnitPeriod.MONTH: 1, UnitPeriod.QUARTER: 3}.get(unit)
    if months is None:
        raise InvalidInput(f"schedules by {unit} are not offered")
    out = []
    for n in range(count):
        year, month = divmod(first_due.year * 12 + first_due.month - 1 + months * n, 12)
        day = first_due.day
        while True:
            try:
                out.append(date(year, month + 1, day))
                break
            except ValueError:
                day -= 1
    return out


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def build(
    principal_minor: int,
    count: int,
    start: date,
    first_due: date,
    unit: UnitPeriod = UnitPeriod.MONTH,
    annual_rate: Decimal = Decimal(0),
    method: Method = Method.EQUAL_INSTALLMENT,
    fee_minor: int = 0,
) -> Schedule:
    """A schedule for ``principal_minor`` over ``count`` installments."""
    if not 0 < principal_minor <= MAX_AMOUNT_MINOR:
        raise InvalidAmount("the amount financed must be positive and storable")
    if not 1 <= count <= 360:
        raise InvalidInput("between 1 and 360 installments")
    if annual_rate < 0 or annual_rate >= 10:
        raise InvalidInput("the nominal rate must be in [0, 1000%)")
    if fee_minor < 0:
        raise InvalidAmount("a fee cannot be negative")
    dues = due_dates(start, first_due, count, unit)
    rate = annual_rate / PER_YEAR[unit]
    fees = allocate(fee_minor, [1] * count)
    if rate == 0:
        parts = allocate(principal_minor, [1] * count)
        rows = [
            Installment(n + 1, due, part, 0, fee)
            for n, (due, part, fee) in enumerate(zip(dues, parts, fees, strict=True))
        ]
        return Schedule(principal_minor, start, tuple(rows))
    balance = principal_minor
    rows = []
    if method is Method.EQUAL_INSTALLMENT:
        growth = (1 + rate) ** count
        payment = _round(Decimal(principal_minor) * rate * growth / (growth - 1))
        for n in range(count):
            interest = _round(Decimal(balance) * rate)
            principal = balance if n == count - 1 else min(max(payment - interest, 0), balance)
            rows.append(Installment(n + 1, dues[n], principal, interest, fees[n]))
            balance -= principal
    else:
        parts = allocate(principal_minor, [1] * count)
        for n in range(count):
            interest = _round(Decimal(balance) * rate)
            rows.append(Installment(n + 1, dues[n], parts[n], interest, fees[n]))
            balance -= parts[n]
    return Schedule(principal_minor, start, tuple(rows))
