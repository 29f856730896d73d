"""Order financing, pure: a supplier is advanced a share of a confirmed purchase order, and the
funder is repaid first out of the buyer's payment.

* **Advance** = ``amount × advance_bp ÷ 10,000``, rounded down to the minor unit; at most
  90% of the order (:data:`MAX_ADVANCE_BP`), so the supplier keeps a stake in delivering.
* **Fee** = ``advance × fee_bp ÷ 10,000``, rounded half-even, flat for the order's term; at
  most 10% of the advance (:data:`MAX_FEE_BP`).
* **Repayment.** The buyer pays the whole order; the funder takes the advance and its fee first
  and the supplier the rest (:func:`waterfall`). With both caps the rest is never negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from embedfin.core.errors import InvalidInput

MAX_ADVANCE_BP = 9_000
MAX_FEE_BP = 1_000
MAX_ORDER_DAYS = 365


class AdvanceRefused(InvalidInput):
    code = "advance_refused"


@dataclass(frozen=True, slots=True)
class Terms:
    advance_minor: int
    fee_minor: int


def _bp(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AdvanceRefused(f"{name} is a whole number of basis points, {low} to {high}")
    return value


def terms(amount_minor: int, advance_bp: int, fee_bp: int) -> Terms:
    """The advance and fee on an order of ``amount_minor``."""
    advance = amount_minor * _bp(advance_bp, "advance_bp", 1, MAX_ADVANCE_BP) // 10_000
    if advance < 1:
        raise AdvanceRefused("the order is too small for an advance of a minor unit")
    exact = Decimal(advance) * _bp(fee_bp, "fee_bp", 0, MAX_FEE_BP) / 10_000
    return Terms(advance, int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)))


def waterfall(amount_minor: int, advanced: Terms | None) -> tuple[int, int]:
    """(to the funder, to the supplier) of the buyer's payment of the whole order."""
    if advanced is None:
        return 0, amount_minor
    owed = advanced.advance_minor + advanced.fee_minor
    if owed > amount_minor:
        raise AdvanceRefused("an advance and its fee cannot exceed the order")
    return owed, amount_minor - owed
