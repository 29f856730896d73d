"""The dashboard over HTTP, after a short simulation: sign-in, roles and tenants, the figures
against the service layer (read through the API), and the storefront's embedded checkout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import func, select, update

from embedfin.api import auth
from embedfin.client import ApiError, Client
from embedfin.core.money import Money, format_money
from embedfin.dashboard.cache import cache_of
from embedfin.dashboard.signin import COOKIE
from embedfin.db.tables import dashboard_sessions, loans
from embedfin.demo import Demo


@contextmanager
def signed_in(demo: Demo, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.base_url, timeout=30) as client:
        answer = client.post("/dashboard/login", data={"key": key})
        assert answer.status_code == 303, answer.text
        yield client


@pytest.fixture
def operator(demo: Demo) -> Iterator[httpx.Client]:
    assert demo.keys is not None
    with signed_in(demo, demo.keys.operator) as client:
        yield client


@pytest.fixture
def api(demo: Demo) -> Iterator[Client]:
    assert demo.keys is not None
    with Client(demo.keys.operator, demo.base_url) as client:
        yield client


def paid_figures(api: Client) -> tuple[int, int]:
    """(paid orders, GMV) as the API's order listing reports them."""
    paid = [o for o in api.list_orders() if o.paid_at is not None]
    return len(paid), sum(o.amount_paid for o in paid)


def test_pages_need_a_session_and_live_panels_redirect_through_htmx(demo: Demo) -> None:
    with httpx.Client(base_url=demo.base_url) as anonymous:
        page = anonymous.get("/dashboard/operator")
        assert (page.status_code, page.headers["location"]) == (303, "/dashboard/login")
        panel = anonymous.get("/dashboard/operator/panels", headers={"HX-Request": "true"})
        assert (panel.status_code, panel.headers["HX-Redirect"]) == (401, "/dashboard/login")
        for bad in ("", "efk_not-a-key", "x" * 500):
            refused = anonymous.post("/dashboard/login", data={"key": bad})
            assert refused.status_code == 401
            assert "unknown, revoked or malformed" in refused.text
            assert COOKIE not in refused.headers.get("set-cookie", "")


def test_sign_in_opens_a_server_side_session_the_key_never_reaches_the_browser(
    demo: Demo,
) -> None:
    assert demo.keys is not None
    with httpx.Client(base_url=demo.base_url) as client:
        answer = client.post("/dashboard/login", data={"key": demo.keys.operator})
        cookie = answer.headers["set-cookie"]
        assert "httponly" in cookie.lower()
        assert "samesite=strict" in cookie.lower()
        assert "path=/dashboard" in cookie.lower()
        assert answer.headers["location"] == "/dashboard"
        token = client.cookies[COOKIE]
        assert demo.keys.operator not in cookie
        assert len(token) >= 40
        with demo.ledger.reader() as conn:
            stored = conn.execute(select(dashboard_sessions)).all()
        assert all(demo.keys.operator not in str(tuple(row)) for row in stored)  # encrypted
        assert all(token not in str(tuple(row)) for row in stored)  # only its hash
        assert client.get("/dashboard/operator").status_code == 200
        client.post("/dashboard/logout")
        client.cookies.set(COOKIE, token, path="/dashboard")  # the old cookie, replayed
        after = client.get("/dashboard/operator")
        assert (after.status_code, after.headers["location"]) == (303, "/dashboard/login")


def test_an_expired_session_asks_to_sign_in_again(demo: Demo) -> None:
    assert demo.keys is not None
    with signed_in(demo, demo.keys.operator) as client:
        assert client.get("/dashboard/operator").status_code == 200
        with demo.ledger.transaction() as tx:
            tx.conn.execute(update(dashboard_sessions).values(expires_at=0))
        after = client.get("/dashboard/operator")
        assert (after.status_code, after.headers["location"]) == (303, "/dashboard/login")


def test_operator_view_shows_the_service_layer_figures(
    demo: Demo, operator: httpx.Client, api: Client
) -> None:
    orders, gmv = paid_figures(api)
    page = operator.get("/dashboard/operator")
    assert page.status_code == 200
    assert orders > 20
    assert re.search(rf'id="kpi-orders">{orders}<', page.text)
    assert f'id="kpi-gmv">{format_money(Money(gmv, "EUR"))}<' in page.text
    assert 'id="kpi-invariants">all hold<' in page.text
    assert "customer_money_safeguarded: holds" in page.text
    assert "safeguarded" in page.text
    assert "SHORTFALL" not in page.text
    assert page.text.count("data-figure=") == 3
    panel = operator.get("/dashboard/operator/panels", headers={"HX-Request": "true"})
    assert panel.status_code == 200
    assert "<html" not in panel.text


def test_pages_load_no_script_from_elsewhere(operator: httpx.Client) -> None:
    page = operator.get("/dashboard/operator").text
    sources = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert sources
    assert all(s.startswith("/dashboard/static/") for s in sources)
    for source in sources:
        served = operator.get(source)
        assert served.status_code == 200, source
        assert len(served.content) > 1000, source
    assert operator.get("/dashboard/static/..%2Fapp.py").status_code == 404


def test_merchant_key_sees_its_own_merchant_only(demo: Demo) -> None:
    assert demo.keys is not None
    assert demo.keys.merchant is not None
    with signed_in(demo, demo.keys.merchant) as merchant:
        home = merchant.get("/dashboard")
        assert home.headers["location"] == f"/dashboard/merchants/{demo.keys.merchant_id}"
        own = merchant.get(home.headers["location"])
        assert own.status_code == 200
        assert 'id="m-orders"' in own.text
        hidden = merchant.get("/dashboard/merchants/m-1")
        assert hidden.status_code == 404
        assert hidden.headers["content-type"].startswith("text/html")  # a page, not JSON
        assert merchant.get("/dashboard/operator").status_code == 403
        assert merchant.get("/dashboard/shop").status_code == 403


def test_merchant_view_matches_the_api(demo: Demo, operator: httpx.Client, api: Client) -> None:
    sold = [o for o in api.list_orders() if o.merchant == "m-0" and o.paid_at is not None]
    balance = api.merchant_balance("m-0")
    page = operator.get("/dashboard/merchants/m-0").text
    assert f'id="m-orders">{len(sold)}<' in page
    fees = sum(o.commission for o in sold)
    assert f'id="m-fees">{format_money(Money(fees, "EUR"))}<' in page
    assert f'id="m-available">{format_money(Money(balance.available, "EUR"))}<' in page


def test_another_tenants_key_sees_nothing_of_this_one(demo: Demo) -> None:
    now = demo.clock.now_ns()
    with demo.ledger.transaction() as tx:
        other = auth.create_tenant(tx.conn, "Another marketplace", now)
        _, secret = auth.create_key(tx.conn, other, auth.Role.OPERATOR, "other", now)
    with signed_in(demo, secret) as stranger:
        assert stranger.get("/dashboard/merchants/m-0").status_code == 404
        page = stranger.get("/dashboard/operator").text
        assert 'id="kpi-orders">0<' in page
        assert demo.shopper is not None
        bill = stranger.get("/dashboard/shop/bills/o-0-1")
        assert bill.status_code == 404


def test_a_revoked_key_ends_the_session(demo: Demo, api: Client) -> None:
    made = api.create_api_key("risk", "short-lived")
    assert made.secret is not None
    with signed_in(demo, made.secret) as risk:
        assert risk.get("/dashboard/operator").status_code == 200
        api.revoke_api_key(made.id)
        after = risk.get("/dashboard/operator")
        assert (after.status_code, after.headers["location"]) == (303, "/dashboard/login")


def _checkout_form(operator: httpx.Client, customer: str, sku: str = "atlas") -> dict[str, str]:
    page = operator.get(
        "/dashboard/shop/checkout", params={"sku": sku, "merchant": "m-1", "customer": customer}
    )
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    assert set(fields) >= {"sku", "merchant", "customer", "idempotency_key"}
    return fields


def test_storefront_wallet_checkout_is_idempotent_and_lands_in_escrow(
    demo: Demo, operator: httpx.Client, api: Client
) -> None:
    assert demo.shopper is not None
    before = api.customer_balance(demo.shopper, "EUR").available
    form = _checkout_form(operator, demo.shopper)
    first = operator.post("/dashboard/shop/checkout", data={**form, "method": "wallet"})
    assert first.status_code == 303, first.text
    again = operator.post("/dashboard/shop/checkout", data={**form, "method": "wallet"})
    assert again.headers["location"] == first.headers["location"]  # a double submit: one order
    bill = operator.get(first.headers["location"]).text
    assert "held in escrow" in bill
    assert 'id="bill-method">wallet<' in bill
    assert api.customer_balance(demo.shopper, "EUR").available == before - 4_500


def test_storefront_refuses_what_the_wallet_cannot_pay_and_changes_nothing(
    demo: Demo, operator: httpx.Client, api: Client
) -> None:
    poor = api.create_customer(name="Empty Wallet")
    form = _checkout_form(operator, poor.id, sku="espresso")
    refused = operator.post("/dashboard/shop/checkout", data={**form, "method": "wallet"})
    assert refused.status_code == 402
    assert 'id="checkout-error"' in refused.text
    assert "insufficient" in refused.text.lower()
    assert [o for o in api.list_orders(customer=poor.id) if o.paid_at is not None] == []
    assert api.customer_balance(poor.id, "EUR").available == 0


def test_storefront_refuses_bad_forms_with_a_page_and_no_order(
    demo: Demo, operator: httpx.Client, api: Client
) -> None:
    assert demo.shopper is not None
    before = len(list(api.list_orders()))
    form = _checkout_form(operator, demo.shopper)
    cases = [
        ({**form, "method": "bitcoin"}, 400),
        ({**form, "customer": "cus_nobody"}, 404),
        ({**form, "merchant": "m-nope"}, 404),
        ({**form, "sku": "no-such-thing"}, 404),
        ({k: v for k, v in form.items() if k != "idempotency_key"}, 400),
    ]
    for data, status in cases:
        answer = operator.post("/dashboard/shop/checkout", data=data)
        assert answer.status_code == status, data
        assert answer.headers["content-type"].startswith("text/html")
    assert len(list(api.list_orders())) == before


def test_storefront_card_and_installment_checkouts(
    demo: Demo, operator: httpx.Client, api: Client
) -> None:
    assert demo.shopper is not None
    for _ in range(4):  # the simulated acquirer declines about one card payment in twenty
        form = _checkout_form(operator, demo.shopper)
        card = operator.post("/dashboard/shop/checkout", data={**form, "method": "card"})
        if "(payment_declined)" not in card.text:
            break
    assert card.status_code == 303, card.text
    assert 'id="bill-method">card-acquirer<' in operator.get(card.headers["location"]).text

    form = _checkout_form(operator, demo.shopper)
    offers = operator.get(
        "/dashboard/shop/offers",
        params={
            "sku": "atlas",
            "merchant": "m-1",
            "customer": demo.shopper,
            "key": form["idempotency_key"],
        },
    ).text
    decision = re.search(r'name="decision" value="([^"]+)"', offers)
    plans = re.findall(r'value="plan:([a-z0-9_]+)"', offers)
    assert decision is not None, offers
    assert plans, offers
    financed = operator.post(
        "/dashboard/shop/checkout",
        data={**form, "method": f"plan:{plans[0]}", "decision": decision.group(1)},
    )
    assert financed.status_code == 303, financed.text
    bill = operator.get(financed.headers["location"]).text
    assert f"installments ({plans[0]})" in bill
    assert len(re.findall(r"<tr><td>\d+</td><td>\d{4}-\d\d-\d\d</td>", bill)) >= 2
    assert demo.keys is not None
    with demo.ledger.reader() as conn:
        active = conn.execute(
            select(func.count()).where(
                loans.c.tenant == demo.keys.tenant, loans.c.status == "active"
            )
        ).scalar_one()
    cache_of(demo.app).figures.clear()
    lending = operator.get("/dashboard/operator").text.split('id="lending"')[1].split("</table>")[0]
    assert f'<td>EUR</td><td class="num">{active}</td>' in lending


def test_order_actions_refused_by_the_api_come_back_as_pages(
    demo: Demo, operator: httpx.Client, api: Client
) -> None:
    assert demo.shopper is not None
    form = _checkout_form(operator, demo.shopper)
    paid = operator.post("/dashboard/shop/checkout", data={**form, "method": "wallet"})
    order_id = paid.headers["location"].rsplit("/", 1)[1]
    early = operator.post(f"/dashboard/shop/bills/{order_id}/confirm")  # not shipped yet
    assert early.status_code == 409
    assert early.headers["content-type"].startswith("text/html")
    assert api.get_order(order_id).status == "paid"  # nothing changed
    unknown = operator.post("/dashboard/merchants/m-1/orders/ord_nope/ship")
    assert unknown.status_code == 404
    shipped = operator.post(f"/dashboard/merchants/m-1/orders/{order_id}/ship")
    assert shipped.status_code == 303
    assert api.get_order(order_id).status == "shipped"


def test_a_challenged_storefront_checkout_steps_up_and_pays(
    demo: Demo, operator: httpx.Client, api: Client
) -> None:
    """A burst of orders makes the next one a challenge: the storefront asks for the code (the
    sandbox shows it to an operator), and the right code pays the order."""
    assert demo.shopper is not None
    buyer = api.create_customer(name="Burst Buyer")
    api.top_up(buyer.id, 100_000, "EUR")
    lines = [{"sku": "atlas", "quantity": 1, "unit_price": 4_500}]
    for _ in range(10):
        api.checkout(customer=buyer.id, merchant="m-1", currency="EUR", lines=lines)
    form = _checkout_form(operator, buyer.id)
    asked = operator.post("/dashboard/shop/checkout", data={**form, "method": "wallet"})
    assert asked.status_code == 402, asked.text
    code = re.search(r'id="sandbox-code">Sandbox: the code sent is <code>(\d{6})<', asked.text)
    challenge = re.search(r'name="challenge_id" value="(ch_[0-9a-f]+)"', asked.text)
    assert code is not None
    assert challenge is not None
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', asked.text))
    wrong = operator.post("/dashboard/shop/challenges", data={**fields, "code": "000000"})
    if code.group(1) != "000000":
        assert wrong.status_code == 402
        assert "wrong code" in wrong.text
    paid = operator.post("/dashboard/shop/challenges", data={**fields, "code": code.group(1)})
    assert paid.status_code == 303, paid.text
    bill = operator.get(paid.headers["location"])
    assert bill.status_code == 200


def test_the_risk_pages_show_the_queue_and_decide_a_case(
    demo: Demo, operator: httpx.Client, api: Client
) -> None:
    assert demo.keys is not None
    farm = {"device_id": "farm-tablet-7"}
    lines = [{"sku": "atlas", "quantity": 1, "unit_price": 4_500}]
    for n in range(4):
        buyer = api.create_customer(name=f"Farm {n}")
        api.top_up(buyer.id, 10_000, "EUR")
        order = api.checkout(
            customer=buyer.id, merchant="m-1", currency="EUR", lines=lines, risk_context=farm
        )
    assert order.risk_hold
    overview = operator.get("/dashboard/risk")
    assert overview.status_code == 200
    assert 'data-testid="risk-queue"' in overview.text
    assert 'data-rule="multi-accounting-device"' in overview.text
    case_id = re.search(r'href="/dashboard/risk/cases/(case_[0-9a-f]+)"', overview.text)
    assert case_id is not None
    page = operator.get(f"/dashboard/risk/cases/{case_id.group(1)}")
    assert "multi_accounting" in page.text
    assert order.id in page.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key is not None
    decided = operator.post(
        f"/dashboard/risk/cases/{case_id.group(1)}/decision",
        data={"idempotency_key": key.group(1), "outcome": "release", "reason": "a family"},
    )
    assert decided.status_code == 303, decided.text
    after = operator.get(decided.headers["location"]).text
    assert 'id="case-status">decided: release<' in after
    assert not api.get_order(order.id).risk_hold
    assert demo.keys.merchant is not None
    with signed_in(demo, demo.keys.merchant) as merchant:
        assert merchant.get("/dashboard/risk").status_code == 403


def test_the_merchant_ranking_and_a_merchants_reserve_page(
    demo: Demo, operator: httpx.Client, api: Client
) -> None:
    with pytest.raises(ApiError) as refused:  # the demo's merchants settle T+0
        api.set_merchant_reserve("m-1", 1_000, 45, "a ring on one tablet")
    assert refused.value.status == 409
    t1 = api.create_merchant(
        category="electronics", country="DE", settlement_currency="EUR", kyc_status="verified"
    ).id
    api.set_merchant_reserve(t1, 1_000, 45, "a ring on one tablet")
    ranked = api.score_merchants()
    assert {m.merchant for m in ranked} >= {"m-1"}
    overview = operator.get("/dashboard/risk")
    assert 'data-testid="merchant-ranking"' in overview.text
    assert 'href="/dashboard/risk/merchants/m-1"' in overview.text
    assert 'id="chart-merchant-scores"' in overview.text
    page = operator.get(f"/dashboard/risk/merchants/{t1}")
    assert page.status_code == 200
    assert 'id="merchant-reserve">10.0% for 45 d<' in page.text
    assert "a ring on one tablet" in page.text
    assert 'id="chart-merchant-history"' in page.text
    assert operator.get("/dashboard/risk/merchants/nobody").status_code == 404
    assert demo.keys is not None
    assert demo.keys.merchant is not None
    with signed_in(demo, demo.keys.merchant) as merchant:
        assert merchant.get("/dashboard/risk/merchants/m-1").status_code == 403


def test_the_fraud_models_page_shows_monitoring(demo: Demo, operator: httpx.Client) -> None:
    page = operator.get("/dashboard/risk/models")
    assert page.status_code == 200, page.text
    assert 'data-testid="fraud-models"' in page.text
    assert 'id="chart-model-drift"' in page.text
    assert 'id="chart-flag-precision"' in page.text
    assert 'data-testid="model-days"' in page.text
    assert demo.keys is not None
    assert demo.keys.merchant is not None
    with signed_in(demo, demo.keys.merchant) as merchant:
        assert merchant.get("/dashboard/risk/models").status_code == 403
