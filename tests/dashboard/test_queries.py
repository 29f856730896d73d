"""The dashboard's figures on both stores, against what a short simulation did."""

from __future__ import annotations

from sqlalchemy import func, select

from embedfin.dashboard.queries.bill import bill as bill_of
from embedfin.dashboard.queries.credit import lending_figures
from embedfin.dashboard.queries.events import recent_events
from embedfin.dashboard.queries.health import ledger_check
from embedfin.dashboard.queries.merchant import merchant_figures
from embedfin.dashboard.queries.overview import currency_figures
from embedfin.dashboard.queries.payments import channel_figures
from embedfin.dashboard.queries.sales import daily_sales, recent_orders, top_merchants_by_sales
from embedfin.db.tables import orders
from embedfin.ledger.service import Ledger
from embedfin.payments.escrow.checkout import Checkout
from embedfin.sim.engine import Simulation
from embedfin.sim.scenario import load

TENANT = "sim-fused"


def test_figures_match_the_simulation_on_each_store(ledger: Ledger) -> None:
    scenario = load("fused").scaled(consumers=80, days=8, installment_demand=0.5)
    report = Simulation(scenario, ledger=ledger, tenant=TENANT).run()
    with ledger.reader() as conn:
        (eur,) = currency_figures(conn, TENANT)
        days = daily_sales(conn, TENANT, "EUR")
        channels = channel_figures(conn, TENANT)
        loans = lending_figures(conn, TENANT)
        top = top_merchants_by_sales(conn, TENANT, "EUR")
        shop = merchant_figures(conn, ledger, TENANT, top[0][0])
        events = recent_events(conn, TENANT)
        latest = recent_orders(conn, TENANT)
        order = Checkout(ledger, TENANT).find_order(latest[0][0])
        assert order is not None
        bill = bill_of(conn, order)
        refunded = conn.execute(
            select(func.count()).where(orders.c.tenant == TENANT, orders.c.refunded_minor > 0)
        ).scalar_one()
        assert ledger_check(conn).ok
        assert merchant_figures(conn, ledger, "another-tenant", top[0][0]) is None
        assert currency_figures(conn, "another-tenant") == []
        assert Checkout(ledger, "another-tenant").find_order(latest[0][0]) is None
    assert eur.orders == report.orders_paid
    assert eur.gmv_minor == report.gmv_minor
    assert eur.safeguarded  # customer money owed = reserve + in transit
    assert sum(d.orders for d in days) == eur.orders
    assert sum(d.gmv_minor for d in days) == eur.gmv_minor
    assert eur.release_days is not None
    assert 0 < eur.release_days < 15
    assert sum(c.top_ups for c in channels) > 0  # fused: the wallet is topped up by channel
    assert sum(loan.active_loans for loan in loans) <= report.loans
    assert report.refund_rate == round(refunded / report.orders_paid, 4)
    assert shop is not None
    assert (shop.orders, shop.gmv_minor) == (top[0][1], top[0][2])
    assert events
    assert bill.total_minor == latest[0][2]
