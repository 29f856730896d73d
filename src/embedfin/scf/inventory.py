"""Inventory financing's rules: what a distributor's stock may borrow, and how an excess over it
is paid down. Pure: no I/O.

The limit is a *borrowing base* recomputed each day from the distributor's stock and its sales
on the platform over the trailing window (``WINDOW_DAYS``):

- **value** — each SKU's units on hand at their unit cost (the distributor's stock report);
- **days of stock** — units on hand over the average daily units sold in the window (a SKU that
  sold nothing has infinitely many); a SKU with more than the facility's ``max_days_of_stock``
  is *slow-moving* and ineligible, like the aged and obsolete stock asset-based lenders exclude;
- **sell-through** — units sold over units sold plus on hand, for the whole stock; below the
  facility's target it scales the advance rate down in proportion (a stock that sells slowly
  lends less than one that sells fast);
- **limit** — the eligible value × the advance rate so scaled, rounded down to a minor unit,
  and never above the facility's cap. The advance rate is at most 65 % (``MAX_ADVANCE_BP``),
  the ceiling on loans against eligible inventory in the FDIC's criteria for asset-based
  lending (12 CFR Part 327, Subpart A, Appendix C: advance rates no greater than 65 % of
  eligible inventory at the lower of FIFO cost or market).

When the day's limit falls below what is drawn, drawing stops and a repayment plan starts: the
shortfall in ``installments`` parts ``every_days`` apart (``plan``), the parts as equal as
minor units allow, the larger ones first, summing exactly to the shortfall.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from embedfin.core.errors import InvalidInput

WINDOW_DAYS = 30
MAX_ADVANCE_BP = 6_500
MAX_FEE_BP = 1_000
MAX_LINES = 10_000
MAX_UNITS = 10**9
MAX_UNIT_COST = 10**12
#: a stock report older than this many days lends nothing
STALE_DAYS = 7


@dataclass(frozen=True, slots=True)
class StockLine:
    """One SKU of a stock report: units on hand and their unit cost in minor units."""

    sku: str
    on_hand: int
    unit_cost_minor: int


@dataclass(frozen=True, slots=True)
class Policy:
    """A facility's terms: the advance rate, the slow-moving threshold, the sell-through
    target, the draw fee and the shape of a repayment plan."""

    advance_bp: int
    max_days_of_stock: int = 180
    target_sell_through_bp: int = 3_000
    fee_bp: int = 0
    installments: int = 4
    every_days: int = 7
    cap_minor: int | None = None

    def __post_init__(self) -> None:
        bounded("advance_bp", self.advance_bp, 1, MAX_ADVANCE_BP)
        bounded("max_days_of_stock", self.max_days_of_stock, 1, 365)
        bounded("target_sell_through_bp", self.target_sell_through_bp, 1, 10_000)
        bounded("fee_bp", self.fee_bp, 0, MAX_FEE_BP)
        bounded("installments", self.installments, 1, 12)
        bounded("every_days", self.every_days, 1, 31)
        if self.cap_minor is not None:
            bounded("cap_minor", self.cap_minor, 1, 10**15)


@dataclass(frozen=True, slots=True)
class SkuFigure:
    sku: str
    on_hand: int
    sold: int
    value_minor: int
    days_of_stock: float | None  # None: nothing sold in the window
    eligible: bool


@dataclass(frozen=True, slots=True)
class Valuation:
    """A day's borrowing base."""

    value_minor: int
    eligible_minor: int
    on_hand: int
    sold: int
    sell_through_bp: int
    days_of_stock: float | None
    advance_bp: int  # the advance rate after the sell-through scaling
    limit_minor: int
    skus: tuple[SkuFigure, ...]


def bounded(name: str, value: object, low: int, high: int) -> int:
    """``value`` if it is an integer (not a bool) from ``low`` to ``high``, else
    ``InvalidInput`` naming it (the documents' rules use it too)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} must be an integer from {low} to {high:,}")
    return value


def check_lines(lines: object) -> tuple[StockLine, ...]:
    """A stock report's lines, or ``InvalidInput`` naming the first bad one."""
    if not isinstance(lines, list | tuple) or len(lines) > MAX_LINES:
        raise InvalidInput(f"lines is a list of at most {MAX_LINES:,} SKUs")
    found: dict[str, StockLine] = {}
    for n, line in enumerate(lines, 1):
        if not isinstance(line, StockLine):
            raise InvalidInput(f"line {n} is not a stock line")
        if not line.sku or len(line.sku) > 64 or not line.sku.isprintable():
            raise InvalidInput(f"line {n}: sku must be 1-64 printable characters")
        if line.sku in found:
            raise InvalidInput(f"line {n}: sku {line.sku!r} is reported twice")
        bounded(f"line {n}: on_hand", line.on_hand, 0, MAX_UNITS)
        bounded(f"line {n}: unit_cost_minor", line.unit_cost_minor, 0, MAX_UNIT_COST)
        found[line.sku] = line
    return tuple(found.values())


def value(lines: Sequence[StockLine], sold: Mapping[str, int], policy: Policy) -> Valuation:
    """The borrowing base of a stock with these units sold in the trailing window (see the
    module). SKUs sold but not on hand count towards sell-through only."""
    figures = []
    for line in lines:
        units = sold.get(line.sku, 0)
        days = None if units == 0 else line.on_hand * WINDOW_DAYS / units
        slow = line.on_hand > 0 and (days is None or days > policy.max_days_of_stock)
        figures.append(SkuFigure(line.sku, line.on_hand, units, line.on_hand * line.unit_cost_minor,
                                 days, not slow))  # fmt: skip
    on_hand = sum(f.on_hand for f in figures)
    units_sold = sum(max(0, n) for n in sold.values())
    total = units_sold + on_hand
    through = Fraction(units_sold, total) if total else Fraction(0)
    scale = min(Fraction(1), through / Fraction(policy.target_sell_through_bp, 10_000))
    rate = Fraction(policy.advance_bp, 10_000) * scale
    eligible = sum(f.value_minor for f in figures if f.eligible)
    limit = int(eligible * rate)  # rounded down: the base never lends a fraction too much
    if policy.cap_minor is not None:
        limit = min(limit, policy.cap_minor)
    return Valuation(
        value_minor=sum(f.value_minor for f in figures),
        eligible_minor=eligible,
        on_hand=on_hand,
        sold=units_sold,
        sell_through_bp=int(through * 10_000),
        days_of_stock=None if units_sold == 0 else on_hand * WINDOW_DAYS / units_sold,
        advance_bp=int(rate * 10_000),
        limit_minor=limit,
        skus=tuple(figures),
    )


def fee_of(amount_minor: int, fee_bp: int) -> int:
    """A draw's fee, half-even to the minor unit."""
    fee = Fraction(amount_minor * fee_bp, 10_000)
    return round(fee)  # Python's round of a Fraction is half-even


def plan(shortfall_minor: int, policy: Policy, start: date) -> list[tuple[date, int]]:
    """The installments that pay ``shortfall_minor`` down: due ``every_days`` apart from
    ``start``, as equal as minor units allow (the first ones a unit larger), summing to it."""
    if shortfall_minor <= 0:
        raise InvalidInput("a repayment plan pays a positive shortfall")
    parts = min(policy.installments, shortfall_minor)
    base, extra = divmod(shortfall_minor, parts)
    return [
        (start + timedelta(days=policy.every_days * (n + 1)), base + (1 if n < extra else 0))
        for n in range(parts)
    ]


def stale(reported_on: date | None, day: date) -> bool:
    """Whether a stock report of ``reported_on`` is too old (or absent) to lend on ``day``."""
    return reported_on is None or reported_on > day or (day - reported_on).days > STALE_DAYS
