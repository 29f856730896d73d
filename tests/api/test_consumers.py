"""The API's worker runs every outbox consumer; /metrics exports their lag."""

from __future__ import annotations

from embedfin.payments.invoices.issuer import InvoiceIssuer
from tests.api.conftest import Api
from tests.conftest import settled_events


def _released_order(api: Api) -> str:
    a = api.a
    order = api.checkout(a, api.customer(a, funds=5_000), api.merchant(a), price=1_000)
    api.ok(api.post(a, f"/v1/orders/{order}/ship", {"tracking": "x"}))
    api.ok(api.post(a, f"/v1/orders/{order}/confirm"))
    settled_events(api.platform.engine)  # on PostgreSQL, wait out other transactions
    return order


def test_a_worker_pass_runs_every_consumer_and_issues_the_invoice(api: Api) -> None:
    order = _released_order(api)
    issuer = InvoiceIssuer(api.platform.ledger)
    assert issuer.get(api.a.id, order) is None
    with api.platform.webhooks.client() as client:
        api.app.state.worker.run_once(client)
    invoice = issuer.get(api.a.id, order)
    assert invoice is not None
    assert invoice.invoice_id == f"INV-{order}"
    lag = {f.consumer: f for f in api.platform.consumers.lag()}
    assert set(lag) == {
        "credit-features",
        "invoices",
        "risk-labels",
        "risk-case-feed",
        "risk-refund-signals",
        "aml-monitor",
        "webhooks",
    }
    assert lag["credit-features"].unread == 0
    assert lag["invoices"].unread == 0


def test_metrics_export_each_consumers_lag(api: Api) -> None:
    _released_order(api)
    metrics = api.client.get("/metrics").text
    assert 'embedfin_consumer_unread_events{consumer="invoices"} 1.0' in metrics
    assert 'embedfin_consumer_parked_events{consumer="webhooks"} 0.0' in metrics
    assert 'embedfin_consumer_oldest_unread_age_seconds{consumer="credit-features"}' in metrics
    api.platform.consumers.run_all()
    metrics = api.client.get("/metrics").text
    assert 'embedfin_consumer_unread_events{consumer="invoices"} 0.0' in metrics
