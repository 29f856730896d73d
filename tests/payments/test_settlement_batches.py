"""T+1 settlement from balance history, payouts to banks, the commission sweep."""

from __future__ import annotations

import pytest

from embedfin.bootstrap import check_all
from embedfin.commerce.orders import DAY_NS, OrderLine
from embedfin.core.clock import ManualClock
from embedfin.core.errors import InvalidInput, LedgerRejected, NotFound
from embedfin.core.money import Money
from embedfin.ledger.service import Ledger
from embedfin.payments.chart import AccountCode, AccountKey, platform_account
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.payouts.batches import MerchantSettlement
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.wallets import Wallets

TENANT = "shop-1"
TOKEN = "tok_9aBcDeFgHiJkLmNo"


def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture
def shop(ledger: Ledger) -> Checkout:
    shop = Checkout(ledger, TENANT)
    shop.register_merchant(
        "m-t1",
        category="electronics",
        country="US",
        settlement_currency="USD",
        payout_preference="t1",
    )
    shop.register_merchant(
        "m-t0", category="apparel", country="US", settlement_currency="USD", payout_preference="t0"
    )
    Wallets(ledger, TENANT).top_up("b-1", usd(100_000), "card", "top-up")
    settle_channel(ledger, TENANT, "card", usd(100_000), usd(2_930), "settle-1")
    return shop


def sell(shop: Checkout, order_id: str, merchant: str, amount: int) -> None:
    shop.place_order(
        order_id,
        buyer_id="b-1",
        merchant_id=merchant,
        currency_code="USD",
        lines=[OrderLine("sku", 1, amount)],
    )
    shop.pay_with_wallet(order_id)
    shop.ship(order_id, "T")
    shop.confirm_receipt(order_id)


def balance(shop: Checkout, key: AccountKey) -> int:
    found = shop.ledger.lookup_accounts([key.account_id])
    return (found[0].credits_posted - found[0].debits_posted) if found else 0


def merchant(code: AccountCode, who: str = "m-t1") -> AccountKey:
    return AccountKey(TENANT, "merchant", who, "USD", code)


def books_balance(shop: Checkout) -> None:
    with shop.ledger.engine.connect() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def test_t1_batch_settles_what_was_pending_at_the_cutoff(
    shop: Checkout, clock: ManualClock
) -> None:
    settlement = MerchantSettlement(shop.ledger, TENANT)
    sell(shop, "o-1", "m-t1", 10_000)  # 3% commission: 9,700 to the merchant
    clock.advance(ns=DAY_NS // 4)
    cutoff = clock.now_ns()  # e.g. midnight
    clock.advance(ns=DAY_NS // 4)
    sell(shop, "o-2", "m-t1", 20_000)  # after the cut-off: waits for the next batch
    lines = settlement.run_t1("day-1", cutoff)
    assert [(line.merchant_id, line.amount) for line in lines] == [("m-t1", usd(9_700))]
    assert settlement.run_t1("day-1", cutoff) == []  # re-run moves nothing
    with pytest.raises(InvalidInput):  # a cut-off ahead of the clock would end reserves early
        settlement.run_t1("day-2", clock.now_ns() + 1)
    with pytest.raises(InvalidInput):  # year 752: before the books, past a 64-bit time
        settlement.run_t1("day-2", -(39 * 10**18))
    assert balance(shop, merchant(AccountCode.MERCHANT_AVAILABLE)) == 9_700
    assert balance(shop, merchant(AccountCode.MERCHANT_PENDING)) == 19_400
    books_balance(shop)


def test_payout_batch_pays_available_balances_to_bound_banks_once(shop: Checkout) -> None:
    settlement = MerchantSettlement(shop.ledger, TENANT)
    sell(shop, "o-1", "m-t0", 10_000)  # 5%: 9,500 available at once
    settlement.bind_bank_account("m-t0", TOKEN, "6789")
    lines = settlement.run_payouts("p-1")
    assert [(line.merchant_id, line.amount) for line in lines] == [("m-t0", usd(9_500))]
    assert settlement.run_payouts("p-1") == []
    assert balance(shop, merchant(AccountCode.MERCHANT_AVAILABLE, "m-t0")) == 0
    books_balance(shop)


def test_commission_sweep_moves_platform_money_out_of_the_reserve(shop: Checkout) -> None:
    settlement = MerchantSettlement(shop.ledger, TENANT)
    sell(shop, "o-1", "m-t0", 10_000)
    swept = settlement.sweep_commission("USD", "sweep-1")
    assert swept == usd(500)
    assert settlement.sweep_commission("USD", "sweep-2") == usd(0)
    revenue = platform_account(TENANT, "USD", AccountCode.COMMISSION_REVENUE)
    assert balance(shop, revenue) == 500
    books_balance(shop)


def test_bank_binding_refuses_raw_numbers_and_unknown_merchants(shop: Checkout) -> None:
    settlement = MerchantSettlement(shop.ledger, TENANT)
    with pytest.raises(InvalidInput):
        settlement.bind_bank_account("m-t0", "DE89370400440532013000", "3000")
    with pytest.raises(NotFound):
        settlement.bind_bank_account("m-other", TOKEN, "1234")
    with pytest.raises(NotFound):
        MerchantSettlement(shop.ledger, "shop-2").bind_bank_account("m-t0", TOKEN, "1234")


def test_a_payout_the_reserve_cannot_cover_is_refused_alone_and_paid_on_a_rerun(
    shop: Checkout,
) -> None:
    shop.register_merchant(
        "m-t0b", category="books", country="US", settlement_currency="USD", payout_preference="t0"
    )
    Wallets(shop.ledger, TENANT).top_up("b-1", usd(100_000), "card", "top-up-2")  # in transit
    sell(shop, "o-1", "m-t0", 60_000)
    sell(shop, "o-2", "m-t0b", 60_000)  # 57,000-57,600 each; 100,000 in the reserve
    owed = {
        w: balance(shop, merchant(AccountCode.MERCHANT_AVAILABLE, w)) for w in ("m-t0", "m-t0b")
    }
    settlement = MerchantSettlement(shop.ledger, TENANT)
    settlement.bind_bank_account("m-t0", TOKEN, "6789")
    settlement.bind_bank_account("m-t0b", TOKEN, "6790")
    with pytest.raises(LedgerRejected, match="the others were paid"):
        settlement.run_payouts("p-1")
    left = {
        who: balance(shop, merchant(AccountCode.MERCHANT_AVAILABLE, who))
        for who in ("m-t0", "m-t0b")
    }
    unpaid = [who for who, value in left.items() if value]
    assert len(unpaid) == 1  # one paid, one refused and untouched
    assert left[unpaid[0]] == owed[unpaid[0]]
    books_balance(shop)
    settle_channel(shop.ledger, TENANT, "card", usd(100_000), usd(0), "settle-2")
    again = settlement.run_payouts("p-1")  # the same batch id pays only what is left
    assert [(line.merchant_id, line.amount) for line in again] == [
        (unpaid[0], usd(owed[unpaid[0]]))
    ]
    assert settlement.run_payouts("p-1") == []
    books_balance(shop)


def test_payouts_are_listed_newest_first_per_merchant_and_page(
    shop: Checkout, clock: ManualClock
) -> None:
    settlement = MerchantSettlement(shop.ledger, TENANT)
    settlement.bind_bank_account("m-t0", TOKEN, "6789")
    sell(shop, "o-1", "m-t0", 10_000)
    settlement.run_payouts("p-1")
    clock.advance(ns=DAY_NS)
    sell(shop, "o-2", "m-t0", 20_000)
    settlement.run_payouts("p-2")
    found, more = settlement.list_payouts(10)
    assert not more
    assert [(p.batch_id, p.amount_minor, p.bank_last4) for p in found] == [
        ("p-2", 19_000, "6789"),
        ("p-1", 9_500, "6789"),
    ]
    assert settlement.list_payouts(1) == (found[:1], True)
    assert settlement.list_payouts(1, offset=1) == (found[1:], False)
    assert settlement.list_payouts(10, merchant_id="m-t1") == ([], False)
    assert MerchantSettlement(shop.ledger, "shop-2").list_payouts(10) == ([], False)
