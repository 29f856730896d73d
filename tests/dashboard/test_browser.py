"""The dashboard in a real browser (Playwright driving Debian's Chromium) after a short
simulation: the operator view's figures against the service layer, live updates, the
storefront's embedded checkout (card and installments) and the merchant view. Screenshots are
saved under test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from embedfin.client import Client
from embedfin.core.money import Money, format_money
from embedfin.demo import Demo
from tests.dashboard.conftest import Screenshot

pytestmark = pytest.mark.browser


def sign_in(browser: Browser, demo: Demo, key: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{demo.base_url}/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/login$"))
    page.fill("#key", key)
    page.click("button[type=submit]")
    return page


def test_operator_view_matches_the_services_and_updates_live(
    demo: Demo, browser: Browser, screenshot: Screenshot
) -> None:
    assert demo.keys is not None
    assert demo.shopper is not None
    page = sign_in(browser, demo, demo.keys.operator)
    expect(page).to_have_url(re.compile(r"/dashboard/operator$"))
    for chart in ("#chart-sales", "#chart-channels", "#chart-settlement"):
        expect(page.locator(f"{chart}[data-drawn] .main-svg").first).to_be_visible()
    with Client(demo.keys.operator, demo.base_url) as api:
        paid = [o for o in api.list_orders() if o.paid_at is not None]
        expect(page.locator("#kpi-orders")).to_have_text(str(len(paid)))
        gmv = sum(o.amount_paid for o in paid)
        expect(page.locator("#kpi-gmv")).to_have_text(format_money(Money(gmv, "EUR")))
        expect(page.locator("#kpi-invariants")).to_have_text("all hold")
        screenshot(page, "operator")
        api.checkout(
            customer=demo.shopper,
            merchant="m-2",
            currency="EUR",
            lines=[{"sku": "kite", "quantity": 1, "unit_price": 5_900}],
        )
    # the panels poll every few seconds: the new order appears without a reload
    expect(page.locator("#kpi-orders")).to_have_text(str(len(paid) + 1), timeout=15_000)
    expect(page.locator("#events")).to_contain_text("order_paid")
    page.close()


def test_storefront_checkout_by_card_without_a_redirect(
    demo: Demo, browser: Browser, screenshot: Screenshot
) -> None:
    assert demo.keys is not None
    page = sign_in(browser, demo, demo.keys.operator)
    page.goto(f"{demo.base_url}/dashboard/shop")
    screenshot(page, "storefront")
    page.locator("a.buy").first.click()
    expect(page).to_have_url(re.compile(r"/dashboard/shop/checkout\?"))
    expect(page.locator("#offers")).not_to_contain_text("Checking installment offers")
    page.check("input[name=method][value=card]")
    screenshot(page, "checkout")
    page.click("#pay")
    for _ in range(3):  # the simulated acquirer declines a card payment now and then
        page.wait_for_load_state()
        if "/bills/" in page.url or "payment_declined" not in page.content():
            break
        page.check("input[name=method][value=card]")
        page.click("#pay")
    expect(page).to_have_url(re.compile(r"/dashboard/shop/bills/ord_"))
    expect(page.locator("#bill-method")).to_have_text("card-acquirer")
    expect(page.locator("#bill-status")).to_have_text("paid")
    screenshot(page, "bill")
    page.close()


def test_storefront_checkout_with_installments(
    demo: Demo, browser: Browser, screenshot: Screenshot
) -> None:
    assert demo.keys is not None
    assert demo.shopper is not None
    page = sign_in(browser, demo, demo.keys.operator)
    page.goto(
        f"{demo.base_url}/dashboard/shop/checkout?sku=cookbook&merchant=m-1&customer={demo.shopper}"
    )
    plans = page.locator("input[name=method][value^='plan:']")
    expect(plans.first).to_be_visible()
    plans.first.check()
    screenshot(page, "offers")
    page.click("#pay")
    expect(page).to_have_url(re.compile(r"/dashboard/shop/bills/ord_"))
    expect(page.locator("#bill-method")).to_contain_text("installments")
    assert page.locator("#installments tbody tr").count() >= 2
    screenshot(page, "installments")
    page.close()


def test_merchant_view_in_a_browser(demo: Demo, browser: Browser, screenshot: Screenshot) -> None:
    assert demo.keys is not None
    assert demo.keys.merchant is not None
    page = sign_in(browser, demo, demo.keys.merchant)
    expect(page).to_have_url(re.compile(rf"/dashboard/merchants/{demo.keys.merchant_id}$"))
    with Client(demo.keys.operator, demo.base_url) as api:
        sold = [o for o in api.list_orders() if o.merchant == demo.keys.merchant_id and o.paid_at]
    expect(page.locator("#m-orders")).to_have_text(str(len(sold)))
    expect(page.locator("#chart-merchant-sales[data-drawn] .main-svg").first).to_be_visible()
    screenshot(page, "merchant")
    page.close()


def test_the_escrow_loop_walked_in_the_browser(
    demo: Demo, browser: Browser, screenshot: Screenshot
) -> None:
    """The buyer pays into escrow, the merchant ships, the buyer confirms: the merchant is
    paid, with every step a click on a page that calls the API."""
    assert demo.keys is not None
    assert demo.keys.merchant is not None
    merchant_id = demo.keys.merchant_id
    assert merchant_id is not None
    with Client(demo.keys.operator, demo.base_url) as api:
        available_before = api.merchant_balance(merchant_id).available
    buyer = sign_in(browser, demo, demo.keys.operator)
    buyer.goto(
        f"{demo.base_url}/dashboard/shop/checkout?sku=kite&merchant={merchant_id}"
        f"&customer={demo.shopper}"
    )
    buyer.click("#pay")  # the wallet is the default
    expect(buyer).to_have_url(re.compile(r"/dashboard/shop/bills/ord_"))
    order_id = buyer.url.rsplit("/", 1)[1]
    expect(buyer.locator("#bill-status")).to_have_text("paid")

    seller = sign_in(browser, demo, demo.keys.merchant)
    row = seller.locator("#m-order-table tr", has_text=order_id)
    row.locator("button.ship").click()
    expect(seller.locator("#m-order-table tr", has_text=order_id)).to_contain_text("shipped")

    buyer.reload()
    expect(buyer.locator("#bill-status")).to_have_text("shipped")
    buyer.click("#confirm")
    expect(buyer.locator("#bill-status")).to_have_text("completed")
    expect(buyer.locator("#bill")).to_contain_text("released to the merchant")
    screenshot(buyer, "bill-released")
    with Client(demo.keys.operator, demo.base_url) as api:
        order = api.get_order(order_id)
        assert api.merchant_balance(merchant_id).available == (
            available_before + order.amount_total - order.commission
        )
    buyer.close()
    seller.close()


def test_the_risk_officer_decides_a_held_order_in_the_browser(
    demo: Demo, browser: Browser, screenshot: Screenshot
) -> None:
    """Four accounts on one tablet: the fourth order is held; the officer opens the queue, reads
    the case's evidence and refunds it; the order closes and its money goes back."""
    assert demo.keys is not None
    lines = [{"sku": "kite", "quantity": 1, "unit_price": 5_900}]
    with Client(demo.keys.operator, demo.base_url) as api:
        for n in range(4):
            buyer = api.create_customer(name=f"Tablet {n}")
            api.top_up(buyer.id, 10_000, "EUR")
            order = api.checkout(
                customer=buyer.id,
                merchant="m-2",
                currency="EUR",
                lines=lines,
                risk_context={"device_id": "browser-farm-tablet"},
            )
        assert order.risk_hold
        page = sign_in(browser, demo, demo.keys.operator)
        page.goto(f"{demo.base_url}/dashboard/risk")
        queue = page.get_by_test_id("risk-queue")
        expect(queue).to_contain_text("multi_accounting")
        expect(page.locator("#chart-risk-actions[data-drawn] .main-svg").first).to_be_visible()
        expect(page.get_by_test_id("rule-hits")).to_contain_text("multi-accounting-device")
        screenshot(page, "risk-queue")
        queue.locator("tr").filter(has_text=order.id).locator("a").click()
        expect(page.get_by_test_id("case-evidence")).to_contain_text(order.id)
        expect(page.get_by_test_id("linked-accounts")).to_contain_text("b:")
        page.fill("input[name=reason]", "a ring of new accounts on one tablet")
        page.click("button[value=refund]")
        expect(page.locator("#case-status")).to_have_text("decided: refund")
        screenshot(page, "risk-case")
        refunded = api.get_order(order.id)
        assert refunded.status == "closed"
        assert refunded.amount_refunded == 5_900
        page.close()
