"""The dashboard's figures on both stores, against what a short simulation did."""

from __future__ import annotations

from sqlalchemy import func, select

from embedfin.dashboard import queries
from embedfin.db.tables import orders
from embedfin.ledger.service import Ledger
from embedfin.sim.engine import Simulation
from embedfin.sim.scenario import load

TENANT = "sim-fused"


def test_figures_match_the_simulation_on_each_store(ledger: Ledger) -> None:
    scenario = load("fused").scaled(consumers=80, days=8, installment_demand=0.5)
    report = Simulation(scenario, ledger=ledger, tenant=TENANT).run()
    with ledger.reader() as conn:
        (eur,) = queries.overview(conn, TENANT)
        days = queries.daily(conn, TENANT, "EUR")
        channels = queries.channels(conn, TENANT)
        loans = queries.lending(conn, TENANT)
        top = queries.merchants_by_sales(conn, TENANT, "EUR")
        shop = queries.merchant_figures(conn, TENANT, top[0][0])
        events = queries.recent_events(conn, TENANT)
        latest = queries.recent_orders(conn, TENANT)
        bill = queries.bill(conn, TENANT, latest[0][0])
        refunded = conn.execute(
            select(func.count()).where(orders.c.tenant == TENANT, orders.c.refunded_minor > 0)
        ).scalar_one()
        assert queries.invariants(conn).ok
        assert queries.merchant_figures(conn, "another-tenant", top[0][0]) is None
        assert queries.overview(conn, "another-tenant") == []
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
    assert bill is not None
    assert bill.total_minor == latest[0][2]
