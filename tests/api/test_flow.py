"""The API end to end: a marketplace's day through /v1, and its answers to bad input."""

from __future__ import annotations

from sqlalchemy import func, select

from embedfin.bootstrap import check_all
from embedfin.db.tables import transfers
from tests.api.conftest import Api


def test_a_checkout_from_top_up_to_payout(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a, payout_preference="t0")
    api.ok(
        api.post(
            a,
            f"/v1/merchants/{merchant}/bank_account",
            {"bank_token": "tok_12345678ab", "bank_last4": "4242"},
        )
    )
    buyer = api.customer(a, funds=10_000)
    order = api.checkout(a, buyer, merchant, price=2_500)
    assert (
        api.ok(api.get(a, f"/v1/customers/{buyer}/balance", currency="EUR"))["available"] == 7_500
    )
    shipped = api.ok(api.post(a, f"/v1/orders/{order}/ship", {"tracking": "DHL-1"}))
    assert shipped["status"] == "shipped"
    assert shipped["auto_confirm_at"] is not None
    done = api.ok(api.post(a, f"/v1/orders/{order}/confirm"))
    assert done["status"] == "completed"
    assert done["amount_released"] + done["commission"] == 2_500
    balance = api.ok(api.get(a, f"/v1/merchants/{merchant}/balance"))
    assert balance["available"] == done["amount_released"]
    settled = {
        "kind": "channel_settlement",
        "channel": "card-acquirer",
        "amount": 10_000,
        "fee": 150,
        "currency": "EUR",
    }
    api.ok(api.post(a, "/v1/settlement_runs", settled), 201)
    run = api.ok(api.post(a, "/v1/settlement_runs", {"kind": "payouts"}), 201)
    assert run["lines"] == [
        {"merchant": merchant, "amount": done["amount_released"], "currency": "EUR"}
    ]
    payouts = api.ok(api.get(a, "/v1/payouts"))["data"]
    assert payouts[0]["bank_last4"] == "4242"
    types = [e["type"] for e in api.ok(api.get(a, "/v1/events", limit=100))["data"]]
    assert {"order_placed", "order_paid", "shipped", "escrow_released"} <= set(types)
    with api.platform.ledger.reader() as conn:
        assert check_all(conn).ok


def test_refund_dispute_cancel_and_fx(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)
    buyer = api.customer(a, funds=20_000)
    order = api.checkout(a, buyer, merchant, price=4_000)
    refunded = api.ok(
        api.post(a, f"/v1/orders/{order}/refunds", {"amount": 1_000, "currency": "EUR"})
    )
    assert refunded["amount_refunded"] == 1_000
    frozen = api.ok(api.post(a, f"/v1/orders/{order}/disputes", {"reason": "damaged"}))
    assert frozen["frozen"] is True
    resolved = api.ok(api.post(a, f"/v1/orders/{order}/disputes/resolve", {"outcome": "refund"}))
    assert resolved["status"] == "closed"
    other = api.ok(
        api.post(
            a,
            "/v1/orders",
            {
                "customer": buyer,
                "merchant": merchant,
                "currency": "EUR",
                "lines": [{"sku": "pen", "quantity": 3, "unit_price": 100}],
            },
        ),
        201,
    )
    assert api.ok(api.post(a, f"/v1/orders/{other['id']}/cancel"))["status"] == "closed"
    quote = api.ok(
        api.post(
            a,
            "/v1/fx_quotes",
            {
                "customer": buyer,
                "sell_amount": 1_000,
                "sell_currency": "EUR",
                "buy_currency": "USD",
            },
        ),
        201,
    )
    converted = api.ok(api.post(a, f"/v1/fx_quotes/{quote['id']}/convert"))
    assert converted["buy_amount"] == quote["buy_amount"] > 0
    again = api.post(a, f"/v1/fx_quotes/{quote['id']}/convert")
    assert again.status_code == 409
    assert again.json()["code"] == "quote_already_used"
    actions = [e["action"] for e in api.ok(api.get(a, "/v1/audit_log", limit=100))["data"]]
    assert {"order.refunds", "order.disputes", "order.disputes/resolve"} <= set(actions)


def test_bad_input_gets_a_problem_and_changes_nothing(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)
    buyer = api.customer(a, funds=1_000)
    with api.platform.ledger.reader() as conn:
        before = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
    order = {
        "customer": buyer,
        "merchant": merchant,
        "currency": "EUR",
        "lines": [{"sku": "tv", "quantity": 1, "unit_price": 5_000}],
    }
    cases = [
        ("/v1/checkouts", order, 402, "insufficient_funds"),
        ("/v1/checkouts", order | {"currency": "XXY"}, 422, "unknown_currency"),
        ("/v1/checkouts", order | {"currency": "eur"}, 422, "invalid_request"),
        ("/v1/checkouts", order | {"customer": "cus_unknown"}, 404, "not_found"),
        ("/v1/checkouts", order | {"lines": []}, 422, "invalid_request"),
        (
            "/v1/checkouts",
            order | {"lines": [{"sku": "x", "quantity": 1, "unit_price": -5}]},
            422,
            "invalid_request",
        ),
        (
            f"/v1/customers/{buyer}/top_ups",
            {"amount": 0, "currency": "EUR"},
            422,
            "invalid_request",
        ),
        (
            f"/v1/customers/{buyer}/top_ups",
            {"amount": 2**63, "currency": "EUR"},
            422,
            "invalid_request",
        ),
        (
            f"/v1/customers/{buyer}/withdrawals",
            {
                "amount": 10,
                "currency": "EUR",
                "bank_token": "DE89370400440532013000",
                "bank_last4": "3000",
            },
            422,
            "invalid_request",
        ),
        (
            f"/v1/customers/{buyer}/withdrawals",
            {
                "amount": 5_000,
                "currency": "EUR",
                "bank_token": "tok_abcdefgh12",
                "bank_last4": "3000",
            },
            402,
            "insufficient_funds",
        ),
        ("/v1/merchants", {"category": "books", "country": "DE"}, 422, "invalid_request"),
    ]
    for path, body, status, code in cases:
        response = api.post(a, path, body)
        assert response.status_code == status, (path, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["code"] == code, problem
        assert problem["status"] == status
    ship_unpaid = api.ok(
        api.post(a, "/v1/orders", order),
        201,
    )
    wrong_state = api.post(a, f"/v1/orders/{ship_unpaid['id']}/ship", {"tracking": "x"})
    assert (wrong_state.status_code, wrong_state.json()["code"]) == (
        409,
        "invalid_state_transition",
    )
    with api.platform.ledger.reader() as conn:
        after = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
    assert after == before
    assert api.client.get("/v1/nothing-here", headers=a.headers).json()["code"] == "not_found"


def test_pagination_walks_every_order_once(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)
    buyer = api.customer(a, funds=100_000)
    made = []
    for _ in range(7):
        api.clock.advance(ns=1_000_000)
        made.append(api.checkout(a, buyer, merchant, price=100))
    seen: list[str] = []
    after = None
    while True:
        params = {"limit": 3} | ({"starting_after": after} if after else {})
        page = api.ok(api.get(a, "/v1/orders", **params))
        seen += [o["id"] for o in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert seen == list(reversed(made))


def test_a_channel_paid_order_is_refunded_through_its_channel(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)
    buyer = api.customer(a)
    body = {
        "customer": buyer,
        "merchant": merchant,
        "currency": "EUR",
        "payment_method": "channel",
        "lines": [{"sku": "lamp", "quantity": 1, "unit_price": 3_000}],
    }
    order = api.ok(api.post(a, "/v1/checkouts", body, key="card-1"), 201)
    channel = order["payment_channel"]
    refund = {"amount": 1_000, "currency": "EUR"}
    refunded = api.ok(api.post(a, f"/v1/orders/{order['id']}/refunds", refund, key="rf-1"))
    assert refunded["amount_refunded"] == 1_000
    processor = api.platform.router.channels[channel]
    assert sum(m.amount_minor for _, _, m in processor.refunds.values()) == 1_000  # type: ignore[attr-defined]
    wallet = api.ok(api.get(a, f"/v1/customers/{buyer}/balance", currency="EUR"))
    assert wallet["available"] == 0  # the money went back to the card, not the wallet
    processor.refunds_down = True  # type: ignore[attr-defined]
    down = api.post(a, f"/v1/orders/{order['id']}/refunds", refund, key="rf-2")
    assert (down.status_code, down.json()["code"]) == (503, "channel_unavailable")
    assert down.headers["retry-after"] == "30"
    processor.refunds_down = False  # type: ignore[attr-defined]
    retried = api.ok(api.post(a, f"/v1/orders/{order['id']}/refunds", refund, key="rf-2"))
    assert retried["amount_refunded"] == 2_000
    with api.platform.ledger.reader() as conn:
        assert check_all(conn).ok


def test_a_buyer_pays_in_their_own_currency(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)  # settles in EUR, prices in EUR
    buyer = api.customer(a)
    api.ok(
        api.post(a, f"/v1/customers/{buyer}/top_ups", {"amount": 20_000, "currency": "USD"}), 201
    )
    order = api.ok(
        api.post(
            a,
            "/v1/orders",
            {
                "customer": buyer,
                "merchant": merchant,
                "currency": "EUR",
                "lines": [{"sku": "atlas", "quantity": 1, "unit_price": 4_999}],
            },
        ),
        201,
    )
    quote = api.ok(api.post(a, f"/v1/orders/{order['id']}/fx_quote", {"currency": "USD"}), 201)
    assert (quote["buy_amount"], quote["buy_currency"]) == (4_999, "EUR")
    assert quote["sell_currency"] == "USD"
    paid = api.ok(
        api.post(a, f"/v1/orders/{order['id']}/pay", {"method": "wallet", "fx_quote": quote["id"]})
    )
    assert paid["status"] == "paid"
    usd = api.ok(api.get(a, f"/v1/customers/{buyer}/balance", currency="USD"))
    assert usd["available"] == 20_000 - quote["sell_amount"]
    again = api.post(
        a, f"/v1/orders/{order['id']}/pay", {"method": "wallet", "fx_quote": quote["id"]}
    )
    assert again.status_code == 409
    with api.platform.ledger.reader() as conn:
        assert check_all(conn).ok


def test_credit_at_checkout_through_the_api(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)
    buyer = api.customer(a, funds=50_000)
    for _ in range(6):  # some history for the features
        api.clock.advance(seconds=5 * 86_400)
        api.checkout(a, buyer, merchant, price=2_000)
    api.ok(api.post(a, "/v1/funder_deposits", {"amount": 5_000_000, "currency": "EUR"}), 201)
    decision = api.ok(
        api.post(
            a,
            "/v1/credit_decisions",
            {"customer": buyer, "amount": 30_000, "currency": "EUR", "category": "books"},
        ),
        201,
    )
    assert decision["outcome"] in ("approve", "counter_offer", "decline")
    assert decision["model"].startswith("csm_")
    if decision["outcome"] == "decline":
        assert 1 <= len(decision["reasons"]) <= 4
        return
    plan = decision["plans"][0]
    assert sum(plan["installment_amounts"]) == decision["amount"] + plan["total_cost"]
    order = api.ok(
        api.post(
            a,
            "/v1/orders",
            {
                "customer": buyer,
                "merchant": merchant,
                "currency": "EUR",
                "lines": [{"sku": "atlas", "quantity": 1, "unit_price": decision["amount"]}],
            },
        ),
        201,
    )
    loan = api.ok(
        api.post(
            a,
            f"/v1/orders/{order['id']}/finance",
            {"decision": decision["id"], "plan": plan["plan"]},
        ),
        201,
    )
    assert loan["principal"] == decision["amount"]
    assert api.ok(api.get(a, f"/v1/orders/{order['id']}"))["status"] == "paid"
    repaid = api.ok(
        api.post(a, f"/v1/loans/{loan['id']}/repayments", {"amount": 1_000, "currency": "EUR"})
    )
    assert repaid["repaid"] >= 1_000
    # the API's refund route pays the loan down; nothing reaches the wallet while principal is owed
    wallet_before = api.ok(api.get(a, f"/v1/customers/{buyer}/balance", currency="EUR"))
    refund = {"amount": 5_000, "currency": "EUR"}
    api.ok(api.post(a, f"/v1/orders/{order['id']}/refunds", refund, key="rf-financed"))
    after = api.ok(api.get(a, f"/v1/loans/{loan['id']}"))
    assert after["principal_outstanding"] == repaid["principal_outstanding"] - 5_000
    wallet_after = api.ok(api.get(a, f"/v1/customers/{buyer}/balance", currency="EUR"))
    assert wallet_after["available"] == wallet_before["available"]
    with api.platform.ledger.reader() as conn:
        assert check_all(conn).ok


def test_cancelling_a_card_paid_order_refunds_the_card_not_the_wallet(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)
    buyer = api.customer(a)
    body = {
        "customer": buyer,
        "merchant": merchant,
        "currency": "EUR",
        "payment_method": "channel",
        "lines": [{"sku": "lamp", "quantity": 1, "unit_price": 3_000}],
    }
    order = api.ok(api.post(a, "/v1/checkouts", body, key="card-cancel"), 201)
    cancelled = api.ok(api.post(a, f"/v1/orders/{order['id']}/cancel", key="cancel-1"))
    assert (cancelled["status"], cancelled["amount_refunded"]) == ("closed", 3_000)
    processor = api.platform.router.channels[order["payment_channel"]]
    assert sum(m.amount_minor for _, _, m in processor.refunds.values()) == 3_000  # type: ignore[attr-defined]
    wallet = api.ok(api.get(a, f"/v1/customers/{buyer}/balance", currency="EUR"))
    assert wallet["available"] == 0
    again = api.post(a, f"/v1/orders/{order['id']}/cancel", key="cancel-2")  # a new key: no 2nd
    assert api.ok(again)["amount_refunded"] == 3_000
    with api.platform.ledger.reader() as conn:
        assert check_all(conn).ok


def test_a_virtual_card_through_the_api(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)
    buyer = api.customer(a)
    api.ok(api.post(a, "/v1/funder_deposits", {"amount": 1_000_000, "currency": "EUR"}), 201)
    line = api.ok(
        api.post(a, "/v1/credit_lines", {"customer": buyer, "limit": 20_000, "currency": "EUR"}),
        201,
    )
    token = line["card_token"]
    assert token.startswith("vc_")
    assert api.ok(api.get(a, f"/v1/credit_lines/{line['id']}"))["card_token"] is None
    order = api.ok(
        api.post(
            a,
            "/v1/orders",
            {
                "customer": buyer,
                "merchant": merchant,
                "currency": "EUR",
                "lines": [{"sku": "lamp", "quantity": 1, "unit_price": 15_000}],
            },
        ),
        201,
    )
    api.ok(api.post(a, f"/v1/credit_lines/{line['id']}/freeze"))
    frozen = api.post(a, f"/v1/orders/{order['id']}/pay_with_card", {"card_token": token})
    assert (frozen.status_code, frozen.json()["code"]) == (409, "invalid_state_transition")
    api.ok(api.post(a, f"/v1/credit_lines/{line['id']}/unfreeze"))
    loan = api.ok(
        api.post(a, f"/v1/orders/{order['id']}/pay_with_card", {"card_token": token}), 201
    )
    assert loan["plan"] == "revolving"
    after = api.ok(api.get(a, f"/v1/credit_lines/{line['id']}"))
    assert after["available"] == 5_000
    lowered = api.ok(
        api.post(
            a,
            f"/v1/credit_lines/{line['id']}/limit",
            {"limit": 10_000, "currency": "EUR", "reason": "income changed"},
        )
    )
    assert (lowered["limit"], lowered["available"]) == (10_000, 0)


def test_returns_and_reviews_through_the_api(api: Api) -> None:
    a = api.a
    merchant = api.merchant(a)
    buyer = api.customer(a, funds=20_000)
    first = api.checkout(a, buyer, merchant, price=5_000)
    second = api.checkout(a, buyer, merchant, price=3_000)
    for order in (first, second):
        api.ok(api.post(a, f"/v1/orders/{order}/ship", {"tracking": "T"}))
        api.ok(api.post(a, f"/v1/orders/{order}/delivered"))
    frozen = api.ok(api.post(a, f"/v1/orders/{first}/returns", {"reason": "too small"}))
    assert frozen["frozen"] is True
    closed = api.ok(api.post(a, f"/v1/orders/{first}/returns/receive"))
    assert (closed["status"], closed["amount_refunded"]) == ("closed", 5_000)
    api.ok(api.post(a, f"/v1/orders/{second}/confirm"))
    api.ok(api.post(a, f"/v1/orders/{second}/reviews", {"rating": 5, "text": "great"}))
    bad = api.post(a, f"/v1/orders/{first}/reviews", {"rating": 5})
    assert (bad.status_code, bad.json()["code"]) == (409, "invalid_state_transition")
    with api.platform.ledger.reader() as conn:
        assert check_all(conn).ok
