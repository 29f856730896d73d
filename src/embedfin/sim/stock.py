"""Distributors borrowing on their stock through a demand shock: does the borrowing base follow
the stock down, and does the plan pay the excess back?

**Agents.** ``distributors`` merchants selling one SKU each to consumers through the real
checkout (orders paid from wallets, shipped and confirmed, so the sales are commerce's and the
money lands in the distributor's balance), a funder with a facility for each. Each day a
distributor sells about ``daily_units`` (±50 %, seeded) — ``shock`` less from ``shock_day`` on
— reports its stock, restocks to ``stock_target`` units when it falls below half of it, and
draws on its facility to pay for the restock as far as the day's limit allows, and pays its
supplier (a merchant of the platform, as a buyer pays the rest of an order: code 6023) from its
balance. The daily run revalues every facility, freezes those the base no longer covers and
collects their plans' installments.

The report: per day the stock value, limits and drawn amounts summed over the distributors;
the day each facility froze, the installments collected and overdue, and whether every plan
was paid by the end. Assumptions (labelled): demand, the shock, the restock rule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from embedfin.bootstrap import TenantServices
from embedfin.commerce.orders import OrderLine
from embedfin.core.clock import ManualClock
from embedfin.core.money import Money
from embedfin.scf.book import CertificateBook
from embedfin.scf.chart import CODE_ORDER_REMAINDER
from embedfin.scf.inventory import Policy, StockLine
from embedfin.scf.store import Role

DAY_S = 86_400
CURRENCY = "CNY"
SUPPLIER = "stock-supplier"  # where restocks are paid: a merchant of its own


@dataclass(frozen=True, slots=True)
class StockScenario:
    distributors: int = 2
    days: int = 40
    daily_units: int = 20
    unit_cost_minor: int = 5_000
    unit_price_minor: int = 8_000
    stock_target: int = 400
    shock_day: int = 20
    shock: float = 0.8  # the share of demand lost from the shock day
    advance_bp: int = 5_000
    seed: int = 5


@dataclass
class StockReport:
    days: list[dict[str, int]] = field(default_factory=list)
    frozen_on: dict[str, int] = field(default_factory=dict)
    collected: int = 0
    overdue: int = 0
    plans_paid: bool = True


def run(services: TenantServices, clock: ManualClock, s: StockScenario) -> StockReport:
    rng = random.Random(s.seed)
    stock_service = services.scf_inventory
    services.checkout.register_merchant(SUPPLIER, category="books", country="CN",
                                        settlement_currency=CURRENCY)  # fmt: skip
    services.scf.register("stock-funder", "funder", "Stock funder")
    services.lending.fund("stock-funder", Money(10**12, CURRENCY), "stock-fund")
    facilities: dict[str, str] = {}
    on_hand: dict[str, int] = {}
    for n in range(s.distributors):
        name = f"dist-{n}"
        services.checkout.register_merchant(name, category="books", country="CN",
                                            settlement_currency=CURRENCY,
                                            payout_preference="t0")  # fmt: skip
        services.scf.register(name, "distributor", f"Distributor {n}")
        made = stock_service.open(f"stock-open-{n}", name, "stock-funder", CURRENCY,
                                  Policy(advance_bp=s.advance_bp, installments=4,
                                         every_days=7))  # fmt: skip
        facilities[name], on_hand[name] = made.facility_id, s.stock_target
    report = StockReport()
    for day in range(s.days):
        demand = s.daily_units * (1 - s.shock if day >= s.shock_day else 1)
        for name, facility_id in facilities.items():
            sold = min(on_hand[name], max(0, round(demand * rng.uniform(0.5, 1.5))))
            if sold:
                _sell(services, name, sold, s.unit_price_minor, f"{name}-{day}")
                on_hand[name] -= sold
            lines = [StockLine("goods", on_hand[name], s.unit_cost_minor)]
            stock_service.report(f"stock-rep-{name}-{day}", facility_id, lines)
            if on_hand[name] < s.stock_target // 2:
                on_hand[name] += _restock(services, s, name, facility_id, on_hand[name], day)
        daily = stock_service.run()
        report.collected += daily.collected
        report.overdue += daily.overdue
        totals = {"day": day, "stock_minor": 0, "limit_minor": 0, "drawn_minor": 0, "frozen": 0}
        for name, facility_id in facilities.items():
            facility = stock_service.facility(facility_id)
            base = stock_service.valuations(facility_id, limit=1)[0].valuation
            totals["stock_minor"] += base.value_minor
            totals["limit_minor"] += base.limit_minor
            totals["drawn_minor"] += facility.drawn_minor
            if facility.status.value == "frozen":
                totals["frozen"] += 1
                report.frozen_on.setdefault(name, day)
        report.days.append(totals)
        clock.advance(seconds=DAY_S)
    report.plans_paid = all(
        i.status == "paid" for f in facilities.values() for i in stock_service.installments(f)
    )
    return report


def _sell(services: TenantServices, merchant: str, units: int, price: int, order: str) -> None:
    shop = services.checkout
    services.wallets.top_up(f"buyer-{order}", Money(units * price, CURRENCY), "card",
                            f"top-{order}")  # fmt: skip
    shop.place_order(order, buyer_id=f"buyer-{order}", merchant_id=merchant,
                     currency_code=CURRENCY, lines=[OrderLine("goods", units, price)])  # fmt: skip
    shop.pay_with_wallet(order)
    shop.ship(order, f"T-{order}")
    shop.confirm_receipt(order)


def _restock(
    services: TenantServices, s: StockScenario, name: str, facility_id: str, units: int, day: int
) -> int:
    """Buy back to the target as far as the balance and the facility's headroom pay for."""
    stock = services.scf_inventory
    wanted = (s.stock_target - units) * s.unit_cost_minor
    facility = stock.facility(facility_id)
    if facility.status.value == "open":
        base = stock.valuations(facility_id, limit=1)[0].valuation
        draw = min(wanted, base.limit_minor - facility.drawn_minor)
        if draw > 0:
            stock.draw(f"stock-draw-{name}-{day}", facility_id, Money(draw, CURRENCY))
    balance = services.wallets.balance("merchant", name, CURRENCY).available.amount_minor
    spend = min(wanted, balance) // s.unit_cost_minor * s.unit_cost_minor
    if spend <= 0:
        return 0
    with services.ledger.transaction() as tx:  # paid to its supplier, off the facility's books
        book = CertificateBook(services.tenant, CURRENCY)
        book.add(f"stock-buy-{name}-{day}", "pay", book.cash_of(name, Role.DISTRIBUTOR),
                 book.cash_of(SUPPLIER, Role.SUPPLIER), spend, CODE_ORDER_REMAINDER)  # fmt: skip
        book.post(tx, insufficient=f"{name} cannot pay its restock")
    return spend // s.unit_cost_minor
