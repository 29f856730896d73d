"""Credit products offered at checkout, and the jurisdiction caps they must respect.

A plan is registered against a jurisdiction: ``PlanCatalog.register`` computes the plan's true
APR (interest *and* fees, Appendix J) at the smallest, largest and intermediate amounts it
finances, for every start date that gives its schedule a different shape (``start_shapes``), and
refuses the plan if any exceeds the cap — a fee-based plan cannot hide a high rate behind a low
flat fee, nor behind the due dates of a plan started on the 1st when one started on the 31st of
January pays on the 28th. Offers carry the schedule, the APR to two decimals, and the total
cost.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache

from embedfin.core.errors import InvalidAmount, InvalidInput, LimitExceeded
from embedfin.core.money import currency
from embedfin.lending.apr import UnitPeriod, apr_percent, whole_months
from embedfin.lending.schedules import Method, Schedule, build, due_dates


class ProductKind(StrEnum):
    PAY_IN_4 = "pay_in_4"
    INSTALLMENTS = "installments"
    REVOLVING = "revolving"


@dataclass(frozen=True, slots=True)
class Plan:
    """A closed-end plan (pay-in-4 and installments; the revolving line is ``CreditLine``).

    Attributes:
        fee_bp: a flat fee in basis points of the amount financed, spread over installments.
        due_at_checkout: the first installment is paid at checkout (pay-in-4).
        categories: merchant categories it is offered for (None: all).
        min_minor, max_minor: the amounts it finances (in the currency's minor units).
    """

    code: str
    kind: ProductKind
    count: int
    unit: UnitPeriod
    annual_rate: Decimal = Decimal(0)
    fee_bp: int = 0
    method: Method = Method.EQUAL_INSTALLMENT
    due_at_checkout: bool = False
    categories: frozenset[str] | None = None
    min_minor: int = 1_000
    max_minor: int = 1_000_000

    def first_due(self, start: date) -> date:
        """At checkout (pay-in-4), else one unit-period after the start (clamped to the month's
        end: a plan started on 31 January is first due on 28 February, then on the 28th)."""
        return start if self.due_at_checkout else due_dates(start, start, 2, self.unit)[1]

    def schedule(self, principal_minor: int, start: date) -> Schedule:
        if not self.min_minor <= principal_minor <= self.max_minor:
            raise InvalidAmount(
                f"{self.code} finances {self.min_minor}-{self.max_minor} minor units"
            )
        first = self.first_due(start)
        fee = principal_minor * self.fee_bp // 10_000
        return build(
            principal_minor, self.count, start, first, self.unit, self.annual_rate, self.method, fee
        )


@dataclass(frozen=True, slots=True)
class Caps:
    """A jurisdiction's consumer-credit limits.

    Attributes:
        max_apr: the highest APR (fraction) any product may carry, fees included.
        late_fee_max_minor: one late fee at most this much …
        late_fee_max_bp: … and at most this share of the missed installment.
        contacts_per_week: collections contacts allowed per debtor per 7 days.
        quiet_start_hour, quiet_end_hour: no contact in these local hours.
    """

    jurisdiction: str
    max_apr: Decimal
    late_fee_max_minor: int
    late_fee_max_bp: int
    contacts_per_week: int = 3
    quiet_start_hour: int = 21
    quiet_end_hour: int = 8


#: Example rule packs (the compliance issue will own these): a 24% cap as in the PRC judicial
#: line for private lending and many US state usury laws; an EU-style 36% cap with lower fees.
JURISDICTIONS = {
    "CN": Caps("CN", Decimal("0.24"), 5_000, 500),
    "US": Caps("US", Decimal("0.36"), 800, 2_500, contacts_per_week=7),
    "EU": Caps("EU", Decimal("0.24"), 1_500, 1_000),
}


@dataclass(frozen=True, slots=True)
class Offer:
    plan: Plan
    schedule: Schedule
    exponent: int  # of the currency
    total_cost_minor: int  # interest + fees

    @property
    def apr(self) -> Decimal:
        """The APR as disclosed (percent, two decimals), computed when asked: decisions do not
        need it, disclosures do."""
        return apr_percent(self.schedule.apr(self.exponent, self.plan.unit))


@dataclass
class PlanCatalog:
    caps: Caps
    plans: dict[str, Plan] = field(default_factory=dict)

    def register(self, plan: Plan, currency_code: str = "EUR") -> Decimal:
        """Add a plan if its APR stays within the cap at every amount and on every start date;
        returns the worst APR."""
        if plan.code in self.plans:
            raise InvalidInput(f"plan {plan.code} exists")
        worst, start = worst_apr(plan, currency(currency_code).exponent)
        if worst > self.caps.max_apr * 100:
            raise LimitExceeded(
                f"{plan.code}: APR {worst}% (starting on {start.isoformat()}) exceeds the "
                f"{self.caps.jurisdiction} cap of {self.caps.max_apr * 100:.2f}%"
            )
        self.plans[plan.code] = plan
        return worst

    def offers(
        self, principal_minor: int, category: str, start: date, currency_code: str
    ) -> list[Offer]:
        """Every plan that finances this amount for this category, cheapest first."""
        exponent = currency(currency_code).exponent
        found = []
        for plan in self.plans.values():
            if plan.kind is ProductKind.REVOLVING:
                continue  # drawn with a virtual card, not offered per order
            if plan.categories is not None and category not in plan.categories:
                continue
            if not plan.min_minor <= principal_minor <= plan.max_minor:
                continue
            schedule = plan.schedule(principal_minor, start)
            found.append(
                Offer(plan, schedule, exponent, schedule.interest_minor + schedule.fee_minor)
            )
        return sorted(found, key=lambda o: (o.total_cost_minor, o.plan.count))


def _probe_amounts(plan: Plan) -> Iterable[int]:
    low, high = plan.min_minor, plan.max_minor
    yield low
    step = low
    while step * 10 < high:
        step *= 10
        yield step
    yield high


#: One whole leap cycle (2024 is a leap year): month lengths and leap Februaries repeat every
#: four years from 1901 to 2099, so its months are every calendar a schedule can meet (one
#: reaching past 2100 is the only exception).
LEAP_CYCLE_YEARS = (2024, 2025, 2026, 2027)
#: The days of a month whose schedules can differ: the 1st stands for the 1st to the 28th.
START_DAYS = (1, 28, 29, 30, 31)


@cache
def start_shapes(plan: Plan) -> tuple[date, ...]:
    """One start date for each distinct schedule shape of ``plan``, earliest first.

    An installment's amount never depends on the start date (interest is the periodic rate on
    the balance, fees are split evenly), so a start date changes the APR only through the
    timing Appendix J counts from the start to each due date (whole unit-periods and the odd
    days; a single payment's days). Weekly plans have one timing. A monthly plan started on the
    1st to the 28th is due on that day every month: whole months from any such day (a 28th
    that is February's end still counts back to the 28th, (b)(3)(iv)), and a single payment's
    term is the start month's length either way, so the 1st stands for them all. The 29th to
    31st clamp the first due date to a shorter month and keep that day afterwards, shifting
    every due date in a way that depends on the month and the year's place in the leap cycle.
    So the candidates are the 1st and the 28th-31st of each of the 48 months of a leap cycle;
    each is timed and one start per distinct timing kept (a handful) for the APR."""
    shapes: dict[tuple[object, ...], date] = {}
    for year in LEAP_CYCLE_YEARS:
        for month in range(1, 13):
            for day in START_DAYS:
                if day > monthrange(year, month)[1]:
                    continue
                start = date(year, month, day)
                dues = due_dates(start, plan.first_due(start), plan.count, plan.unit)
                shapes.setdefault(_timing(plan.unit, start, dues), start)
    return tuple(sorted(shapes.values()))


def _timing(unit: UnitPeriod, start: date, dues: Sequence[date]) -> tuple[object, ...]:
    """What Appendix J sees of the due dates: whole months and odd days for months and
    quarters, days for weeks; and a single payment's days (its term, (b)(5)(vii)). Among
    several payments, 30 odd days are one more whole month: (1 + 30/30·i)(1 + i)^t is
    (1 + i)^(t+1) exactly, so a plan started on the 31st and due on the 30th is not timed
    twice."""
    if len(dues) == 1:
        return (whole_months(start, dues[0]), (dues[0] - start).days)
    if unit not in (UnitPeriod.MONTH, UnitPeriod.QUARTER):
        return tuple((due - start).days for due in dues)
    timing = (whole_months(start, due) for due in dues)
    return tuple((months + 1, 0) if odd == 30 else (months, odd) for months, odd in timing)


@cache
def worst_apr(plan: Plan, exponent: int) -> tuple[Decimal, date]:
    """The highest APR ``plan`` discloses at any probed amount and start shape, and the first
    start date that gives it (cached: the default catalog is registered per tenant)."""
    return max(
        (
            (apr_percent(plan.schedule(amount, start).apr(exponent, plan.unit)), start)
            for amount in _probe_amounts(plan)
            for start in start_shapes(plan)
        ),
        key=lambda found: found[0],
    )


def default_catalog(caps: Caps, plans: Sequence[Plan] | None = None) -> PlanCatalog:
    """The standard plans: pay-in-4 (0%), 3 months for a 3% fee, 6 and 12 months with interest,
    and 12 months at 0% for electronics (merchant-subsidised)."""
    catalog = PlanCatalog(caps)
    for plan in plans or DEFAULT_PLANS:
        catalog.register(plan)
    return catalog


DEFAULT_PLANS = (
    Plan(
        "pay_in_4",
        ProductKind.PAY_IN_4,
        4,
        UnitPeriod.BIWEEK,
        due_at_checkout=True,
        min_minor=1_000,
        max_minor=100_000,
    ),
    Plan(
        "months_3_fee",
        ProductKind.INSTALLMENTS,
        3,
        UnitPeriod.MONTH,
        fee_bp=300,
        min_minor=5_000,
        max_minor=300_000,
    ),
    Plan(
        "months_6",
        ProductKind.INSTALLMENTS,
        6,
        UnitPeriod.MONTH,
        Decimal("0.1499"),
        min_minor=10_000,
        max_minor=500_000,
    ),
    Plan(
        "months_12",
        ProductKind.INSTALLMENTS,
        12,
        UnitPeriod.MONTH,
        Decimal("0.1799"),
        min_minor=20_000,
        max_minor=1_000_000,
    ),
    Plan(
        "electronics_12_free",
        ProductKind.INSTALLMENTS,
        12,
        UnitPeriod.MONTH,
        categories=frozenset({"electronics"}),
        min_minor=30_000,
        max_minor=1_000_000,
    ),
    # a card purchase on the revolving line: due in full at the next statement, 21.99% a year
    Plan(
        "revolving",
        ProductKind.REVOLVING,
        1,
        UnitPeriod.MONTH,
        Decimal("0.2199"),
        min_minor=100,
        max_minor=2_000_000,
    ),
)
