"""Supply chains with and without receivable certificates: does a core enterprise's credit
reach the suppliers down its tiers, and at what cost?

**Agents.** Core enterprises (large merchants that sell to consumers and so hold a balance),
each buying from tier-1 suppliers, each of which buys its inputs from tier-2 suppliers, and so
on down to ``tiers``; a funder. Each day, every core enterprise orders from some of its tier-1
suppliers; a supplier that is paid passes ``input_share`` of what it received to one of its
own suppliers for inputs. Some suppliers need cash at once (``need_cash``); the rest can wait.

**With certificates** (through the real services: ``Certificates`` on the ledger, every step
in the ``scf`` log): the core enterprise issues a certificate for each order; a supplier pays
its own supplier by transferring a part of what it holds; a supplier that needs cash discounts
what it holds with the funder at the core enterprise's rate; at maturity the maturity run pays
every holder. Its financing cost is measured from the prices the funder actually paid.

**Without** (the baseline: assumptions, labelled as such): a supplier is paid at the payable's
maturity and pays its own supplier in cash only then; one that needs cash borrows against its
receivable at its own tier's rate if a lender will lend to its tier at all (``own_rates``:
``None`` is no access — the seed's claim that small suppliers down the chain cannot borrow on
their own credit), else it waits.

The report, per tier: suppliers that needed cash and got it (access), the amount-weighted
annual financing cost of what was financed, and days sales outstanding (amount-weighted days
from delivering to holding cash).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from embedfin.bootstrap import TenantServices
from embedfin.core.clock import ManualClock
from embedfin.core.money import Money
from embedfin.scf.service import Certificates
from embedfin.scf.store import Certificate

DAY_S = 86_400
CURRENCY = "CNY"


@dataclass(frozen=True, slots=True)
class ScfScenario:
    """The chains' shape and behaviour; ``own_rates`` and ``need_cash`` are assumptions."""

    cores: int = 2
    fan_out: int = 3  # suppliers each party buys from, per tier
    tiers: int = 3
    days: int = 20
    term_days: int = 90
    order_probability: float = 0.5
    order_minor: tuple[int, int] = (50_000, 500_000)
    input_share: float = 0.5
    need_cash: float = 0.6
    core_rate: Decimal = Decimal("0.036")
    own_rates: tuple[Decimal | None, ...] = (Decimal("0.08"), Decimal("0.15"), None)
    seed: int = 7


@dataclass
class TierFigures:
    needed: int = 0
    financed: int = 0
    financed_minor: int = 0
    interest_minor: int = 0
    rate_days_minor: Decimal = Decimal(0)  # Σ amount × annual rate
    delivered_minor: int = 0
    waited_minor_days: int = 0  # Σ amount × days from delivery to cash

    @property
    def access(self) -> float:
        return round(self.financed / self.needed, 3) if self.needed else 1.0

    @property
    def cost(self) -> float:
        """The amount-weighted annual rate paid on what was financed."""
        if not self.financed_minor:
            return 0.0
        return round(float(self.rate_days_minor / self.financed_minor), 4)

    @property
    def dso(self) -> float:
        if not self.delivered_minor:
            return 0.0
        return round(self.waited_minor_days / self.delivered_minor, 1)


@dataclass(frozen=True, slots=True)
class ArmReport:
    tiers: dict[int, dict[str, float]]


@dataclass(frozen=True, slots=True)
class ScfReport:
    with_certificates: ArmReport
    without: ArmReport
    certificates_issued: int
    payables_settled: int


@dataclass
class _Chain:
    """Who buys from whom: ``suppliers[party]`` are the parties one tier down."""

    cores: list[str]
    suppliers: dict[str, list[str]] = field(default_factory=dict)
    tier_of: dict[str, int] = field(default_factory=dict)
    needs_cash: set[str] = field(default_factory=set)


def _build(s: ScfScenario, rng: random.Random) -> _Chain:
    chain = _Chain([f"core-{i}" for i in range(s.cores)])
    level = chain.cores
    for tier in range(1, s.tiers + 1):
        below = []
        for buyer in level:
            made = [f"{buyer}.s{j}" for j in range(s.fan_out)]
            chain.suppliers[buyer] = made
            for name in made:
                chain.tier_of[name] = tier
                if rng.random() < s.need_cash:
                    chain.needs_cash.add(name)
            below += made
        level = below
    return chain


def _orders(s: ScfScenario, chain: _Chain, rng: random.Random) -> list[tuple[int, str, str, int]]:
    """(day, core, tier-1 supplier, amount) for every order of the run."""
    return [
        (day, core, supplier, rng.randint(*s.order_minor))
        for day in range(s.days)
        for core in chain.cores
        for supplier in chain.suppliers[core]
        if rng.random() < s.order_probability
    ]


def run(services: TenantServices, clock: ManualClock, s: ScfScenario) -> ScfReport:
    rng = random.Random(s.seed)
    chain = _build(s, rng)
    orders = _orders(s, chain, rng)
    picks = random.Random(s.seed + 1)
    with_figures, issued, settled = _with_certificates(services, clock, s, chain, orders, picks)
    without = _without(s, chain, orders, random.Random(s.seed + 1))
    return ScfReport(_arm(with_figures), _arm(without), issued, settled)


def _arm(figures: dict[int, TierFigures]) -> ArmReport:
    return ArmReport({
        tier: {"access": f.access, "cost": f.cost, "dso_days": f.dso, "needed": f.needed,
               "financed": f.financed, "financed_minor": f.financed_minor}
        for tier, f in sorted(figures.items())
    })  # fmt: skip


def _with_certificates(
    services: TenantServices,
    clock: ManualClock,
    s: ScfScenario,
    chain: _Chain,
    orders: list[tuple[int, str, str, int]],
    picks: random.Random,
) -> tuple[dict[int, TierFigures], int, int]:
    scf = services.scf
    total = sum(o[3] for o in orders)
    _fund(services, chain.cores, total)
    for core in chain.cores:
        scf.register(core, "core", core, discount_rate=s.core_rate, overdue_rate=Decimal("0.1"))
    for party in chain.tier_of:
        scf.register(party, "supplier", party)
    scf.register("funder", "funder", "funder")
    figures: dict[int, TierFigures] = defaultdict(TierFigures)
    start = scf.today()
    by_day: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for day, core, supplier, amount in orders:
        by_day[day].append((core, supplier, amount))
    issued = 0
    for day in range(s.days):
        for n, (core, supplier, amount) in enumerate(by_day[day]):
            matures = start + timedelta(days=day + s.term_days)
            first = scf.issue(f"sim-{day}-{n}", core, supplier, f"PO-{day}-{n}",
                              Money(amount, CURRENCY), matures)  # fmt: skip
            issued += 1
            _pass_down(scf, s, chain, first, figures, picks, f"sim-{day}-{n}", day)
        clock.advance(seconds=DAY_S)
    clock.advance(seconds=s.term_days * DAY_S)
    settled = 0
    while done := scf.run_maturities().settled:
        settled += done
    return figures, issued, settled


def _pass_down(
    scf: Certificates,
    s: ScfScenario,
    chain: _Chain,
    held: Certificate,
    figures: dict[int, TierFigures],
    picks: random.Random,
    request: str,
    day: int,
) -> None:
    """The holder pays its own supplier with a part, then discounts what it keeps if it needs
    cash (else waits for maturity); the part passed on goes through the same."""
    holder, tier = held.holder_id, held.tier
    below = chain.suppliers.get(holder)
    kept = held
    if below:
        part = int(held.face_minor * s.input_share)
        if 0 < part < held.face_minor:
            passed, kept = scf.transfer(f"{request}.t{tier}", held.certificate_id, holder,
                                        picks.choice(below), part)  # fmt: skip
            _pass_down(scf, s, chain, passed, figures, picks, f"{request}.{tier}", day)
    f = figures[tier]
    f.delivered_minor += held.face_minor
    if holder in chain.needs_cash:
        f.needed += 1
        [bought] = scf.discount(f"{request}.d{tier}", kept.certificate_id, holder, "funder")
        assert bought.price_minor is not None
        interest = kept.face_minor - bought.price_minor
        days = (kept.matures_on - scf.today()).days
        f.financed += 1
        f.financed_minor += bought.price_minor
        f.interest_minor += interest
        f.rate_days_minor += Decimal(interest) * 360 / days  # annual rate × price, as paid
    else:
        f.waited_minor_days += kept.face_minor * (kept.matures_on - scf.today()).days


def _without(
    s: ScfScenario, chain: _Chain, orders: list[tuple[int, str, str, int]], picks: random.Random
) -> dict[int, TierFigures]:
    """The same orders, paid in cash at maturity and passed on only once paid."""
    figures: dict[int, TierFigures] = defaultdict(TierFigures)

    def paid(holder: str, amount: int, wait: int) -> None:
        tier = chain.tier_of[holder]
        f = figures[tier]
        f.delivered_minor += amount
        rate = s.own_rates[tier - 1] if tier - 1 < len(s.own_rates) else None
        has_cash = wait == 0
        if wait and holder in chain.needs_cash:
            f.needed += 1
            if rate is not None:
                f.financed += 1
                interest = int(Decimal(amount) * rate * wait / 360)
                f.financed_minor += amount - interest
                f.interest_minor += interest
                f.rate_days_minor += Decimal(interest) * 360 / wait
                has_cash = True
        if not has_cash:
            f.waited_minor_days += amount * wait
        below = chain.suppliers.get(holder)
        part = int(amount * s.input_share)
        if below and 0 < part < amount:
            # a supplier pays for its inputs once it holds cash: at once if it borrowed, else
            # when its own buyer pays it at maturity
            paid(picks.choice(below), part, 0 if has_cash else wait)

    for _day, _core, supplier, amount in orders:
        paid(supplier, amount, s.term_days)
    return figures


#: The most one wallet top-up may be (payments' limit).
TOP_UP_MINOR = 10_000_000


def sell_to_consumers(services: TenantServices, merchant: str, total: int) -> None:
    """Consumers buy ``total`` from ``merchant`` (a T+0 merchant, registered here) and confirm
    receipt: its available balance grows by ``total`` less the platform's commission."""
    from embedfin.commerce.orders import OrderLine

    shop, wallets = services.checkout, services.wallets
    shop.register_merchant(merchant, category="books", country="CN", settlement_currency=CURRENCY,
                           payout_preference="t0")  # fmt: skip
    for n, first in enumerate(range(0, total, TOP_UP_MINOR)):
        amount, buyer, order = (
            min(TOP_UP_MINOR, total - first),
            f"consumer-{n}",
            f"sale-{merchant}-{n}",
        )
        wallets.top_up(buyer, Money(amount, CURRENCY), "card", f"top-{order}")
        shop.place_order(order, buyer_id=buyer, merchant_id=merchant, currency_code=CURRENCY,
                         lines=[OrderLine("goods", 1, amount)])  # fmt: skip
        shop.pay_with_wallet(order)
        shop.ship(order, f"T-{order}")
        shop.confirm_receipt(order)


def _fund(services: TenantServices, cores: list[str], total: int) -> None:
    """Each core enterprise sells enough to consumers to pay its certificates; the funder
    deposits enough to discount them all."""
    for core in cores:
        sell_to_consumers(services, core, total * 2)
    services.lending.fund("funder", Money(total, CURRENCY), "sim-fund")
