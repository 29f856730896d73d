"""Inventory financing on both stores: a distributor draws on its stock within a limit that
follows its stock value and its sales; when the limit falls below what is drawn, drawing stops
and a plan pays the shortfall down from its balance; bad input and another tenant's facility
are refused and write nothing; ``embedfin check`` holds after each step and catches a forgery."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from embedfin.bootstrap import check_all
from embedfin.commerce.orders import OrderLine
from embedfin.core.errors import EmbedfinError, IdempotencyMismatch, InvalidInput, NotFound
from embedfin.core.money import Money
from embedfin.db.tables import scf_inventory_facilities
from embedfin.scf.book import CertificateBook
from embedfin.scf.chart import CODE_ORDER_REMAINDER
from embedfin.scf.inventory import Policy, StockLine
from embedfin.scf.stock_rows import FacilityStatus, InventoryRefused
from embedfin.scf.store import Role
from tests.scf.conftest import BANK, CORE, Chain, available, cny, make_chain
from tests.scf.test_service import _counts, _funds_held

DIST = "dist-1"


def sell_units(chain: Chain, sku: str, units: int, price: int, order_id: str) -> None:
    services = chain.services
    services.wallets.top_up("buyer-2", cny(units * price), "card", f"top-{order_id}")
    services.checkout.place_order(order_id, buyer_id="buyer-2", merchant_id=DIST,
                                  currency_code="CNY",
                                  lines=[OrderLine(sku, units, price)])  # fmt: skip
    services.checkout.pay_with_wallet(order_id)


def distributor(chain: Chain) -> None:
    chain.services.checkout.register_merchant(
        DIST, category="books", country="CN", settlement_currency="CNY", payout_preference="t0"
    )
    chain.scf.register(DIST, "distributor", "Distributor One")


def healthy(chain: Chain) -> None:
    with chain.scf.ledger.reader() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def test_a_facility_draws_freezes_and_is_paid_down(chain: Chain) -> None:
    distributor(chain)
    stock = chain.services.scf_inventory
    policy = Policy(advance_bp=5_000, fee_bp=100, installments=2, every_days=7)
    facility = stock.open("inv-open-1", DIST, BANK, "CNY", policy)
    assert (facility.drawn_minor, facility.status) == (0, FacilityStatus.OPEN)
    base = stock.report("inv-rep-1", facility.facility_id, [StockLine("sku-a", 1_000, 10_000)])
    assert base.valuation.limit_minor == 0  # nothing sold yet: no sell-through
    sell_units(chain, "sku-a", 500, 20_000, "d-o-1")  # half the stock's worth in a month
    base = stock.report("inv-rep-2", facility.facility_id, [StockLine("sku-a", 1_000, 10_000)])
    assert base.valuation.sell_through_bp == 3_333  # 500 of 1,500 units
    assert base.valuation.limit_minor == 5_000_000  # 50 % of 10,000,000 at cost
    dist, bank = available(chain.services, DIST), _funds_held(chain, BANK)
    drawn = stock.draw("inv-draw-1", facility.facility_id, cny(4_000_000))
    assert drawn.drawn_minor == 4_000_000
    assert available(chain.services, DIST) - dist == 4_000_000 - 40_000  # less the 1 % fee
    assert bank - _funds_held(chain, BANK) == 4_000_000 - 40_000
    assert stock.draw("inv-draw-1", facility.facility_id, cny(4_000_000)) == drawn  # a retry
    with pytest.raises(IdempotencyMismatch):
        stock.draw("inv-draw-1", facility.facility_id, cny(1_000))
    with pytest.raises(InventoryRefused, match="1000000 left"):
        stock.draw("inv-draw-2", facility.facility_id, cny(1_000_001))
    healthy(chain)

    # the stock is written down a week on: the limit falls below what is drawn
    chain.advance(7)
    stock.report("inv-rep-3", facility.facility_id, [StockLine("sku-a", 400, 10_000)])
    run = stock.run()
    assert (run.valued, run.frozen) == (1, 1)
    frozen = stock.facility(facility.facility_id)
    assert frozen.status is FacilityStatus.FROZEN
    limit = stock.valuations(facility.facility_id)[0].valuation.limit_minor
    plan = stock.installments(facility.facility_id)
    assert sum(i.amount_minor for i in plan) == 4_000_000 - limit
    assert [i.due_on for i in plan] == [chain.days(7), chain.days(14)]
    with pytest.raises(InventoryRefused, match="frozen"):
        stock.draw("inv-draw-3", facility.facility_id, cny(1))
    assert stock.run() == type(run)(1, 0, 0, 0, 0)  # the same day again changes nothing
    healthy(chain)

    # the first installment is collected from the distributor's balance when due
    chain.advance(7)
    before = available(chain.services, DIST)
    run = stock.run()
    assert run.collected == 1
    assert before - available(chain.services, DIST) == plan[0].amount_minor
    # the second finds the balance short: overdue, retried each day, then paid by hand
    chain.advance(7)
    drain(chain, available(chain.services, DIST))
    assert stock.run().overdue == 1
    assert stock.installments(facility.facility_id)[1].status == "overdue"
    assert stock.facility(facility.facility_id).status is FacilityStatus.FROZEN
    sell_units(chain, "sku-b", 1, 6_000_000, "d-o-2")
    confirm(chain, "d-o-2")
    owed = plan[1].amount_minor
    stock.repay("inv-repay-1", facility.facility_id, cny(owed))
    assert [i.status for i in stock.installments(facility.facility_id)] == ["paid", "paid"]
    stock.run()  # the plan is paid, but the last stock report is two weeks old: nothing lends
    assert stock.facility(facility.facility_id).plan_no == 2
    stock.repay("inv-repay-2", facility.facility_id, cny(limit))  # the distributor pays it all
    assert stock.run().unfrozen == 1
    assert stock.facility(facility.facility_id).drawn_minor == 0
    healthy(chain)
    with chain.scf.ledger.reader() as conn:
        kinds = [e.kind for e in chain.scf.store.events(conn, facility.facility_id)]
    assert kinds[:4] == ["stock_open", "stock_report", "stock_report", "stock_draw"]
    assert kinds.count("stock_frozen") == 2
    assert kinds[-1] == "stock_unfrozen"


def drain(chain: Chain, amount: int) -> None:
    """Move the distributor's whole balance away (to the core enterprise's)."""
    with chain.scf.ledger.transaction() as tx:
        book = CertificateBook(chain.scf.tenant, "CNY")
        book.add("drain", "x", book.cash_of(DIST, Role.DISTRIBUTOR), book.cash_of(CORE, Role.CORE),
                 amount, CODE_ORDER_REMAINDER)  # fmt: skip
        book.post(tx, insufficient="short")


def confirm(chain: Chain, order_id: str) -> None:
    chain.services.checkout.ship(order_id, f"T-{order_id}")
    chain.services.checkout.confirm_receipt(order_id)


def test_bad_inventory_commands_are_refused_and_write_nothing(sqlite_chain: Chain) -> None:
    chain = sqlite_chain
    distributor(chain)
    stock = chain.services.scf_inventory
    facility = stock.open("inv-open-1", DIST, BANK, "CNY", Policy(advance_bp=5_000))
    before = _counts(chain)
    bad: list[tuple[type[EmbedfinError], object]] = [
        (InvalidInput, lambda: stock.open("x1", CORE, BANK, "CNY", Policy(5_000))),  # a core
        (InvalidInput, lambda: stock.open("x2", DIST, DIST, "CNY", Policy(5_000))),
        (NotFound, lambda: stock.open("x3", "nobody", BANK, "CNY", Policy(5_000))),
        (InvalidInput, lambda: stock.open("x4", DIST, BANK, "XXQ", Policy(5_000))),
        (InvalidInput, lambda: stock.open("x5", DIST, BANK, "CNY", {"advance_bp": 1})),  # type: ignore[arg-type]
        (NotFound, lambda: stock.draw("x6", "inv_nothere", cny(1))),
        (InvalidInput, lambda: stock.draw("x7", facility.facility_id, cny(0))),
        (InvalidInput, lambda: stock.draw("x8", facility.facility_id, cny(-5))),
        (InventoryRefused, lambda: stock.draw("x9", facility.facility_id, Money(5, "USD"))),
        (InventoryRefused, lambda: stock.draw("x10", facility.facility_id, cny(1))),  # no base
        (InventoryRefused, lambda: stock.repay("x11", facility.facility_id, cny(1))),  # owes 0
        (InvalidInput, lambda: stock.report("x12", facility.facility_id, [{"sku": "a"}])),
        (InvalidInput, lambda: stock.report("x13", facility.facility_id, "lots")),
        (InvalidInput, lambda: stock.draw("", facility.facility_id, cny(1))),
    ]
    for error, call in bad:
        with pytest.raises(error):
            call()  # type: ignore[operator]
    assert _counts(chain) == before
    # another tenant's services do not see the facility
    other = make_chain(chain.scf.ledger, chain.clock, tenant="scf-other")
    with pytest.raises(NotFound):
        other.services.scf_inventory.draw("o-1", facility.facility_id, cny(1))
    with pytest.raises(NotFound):
        other.services.scf_inventory.facility(facility.facility_id)


def test_a_forged_drawn_amount_is_caught(sqlite_chain: Chain) -> None:
    chain = sqlite_chain
    distributor(chain)
    facility = chain.services.scf_inventory.open("inv-1", DIST, BANK, "CNY", Policy(5_000))
    with chain.scf.ledger.engine.begin() as conn:
        conn.execute(update(scf_inventory_facilities).values(drawn_minor=99))
        report = check_all(conn)
    assert any(
        v.invariant == "inventory_loans_match_ledger" and facility.facility_id in v.detail
        for v in report.violations
    )


def test_the_daily_run_reaches_every_facility_page_by_page(sqlite_chain: Chain) -> None:
    chain = sqlite_chain
    distributor(chain)
    stock = chain.services.scf_inventory
    for n in range(3):
        stock.open(f"inv-{n}", DIST, BANK, "CNY", Policy(advance_bp=5_000))
    assert stock.run(page=2).valued == 3
    assert all(len(stock.valuations(f.facility_id)) == 1 for f in stock.facilities())


def test_racing_draws_never_pass_the_limit_together(chain: Chain) -> None:
    """Two draws of 60 % of the limit at once, on each store: one is paid, one refused."""
    from concurrent.futures import ThreadPoolExecutor

    distributor(chain)
    stock = chain.services.scf_inventory
    facility = stock.open("inv-race", DIST, BANK, "CNY", Policy(advance_bp=5_000))
    sell_units(chain, "sku-a", 500, 20_000, "d-race")
    limit = stock.report("rep-race", facility.facility_id,
                         [StockLine("sku-a", 1_000, 10_000)]).valuation.limit_minor  # fmt: skip
    draw = cny(limit * 6 // 10)

    def attempt(n: int) -> str:
        try:
            stock.draw(f"race-{n}", facility.facility_id, draw)
            return "paid"
        except InventoryRefused:
            return "refused"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(attempt, range(2)))
    assert outcomes == ["paid", "refused"]
    assert stock.facility(facility.facility_id).drawn_minor == draw.amount_minor
    healthy(chain)
