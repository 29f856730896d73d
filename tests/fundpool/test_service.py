"""The fund pool's commands: subscribe from the wallet, redeem normally (T+1) or fast (T+0,
from the facility, within the 2018 daily cap), accrue and publish, buy and mature assets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from embedfin.bootstrap import check_all
from embedfin.core.clock import ManualClock
from embedfin.core.errors import (
    AmountOutOfRange,
    CurrencyMismatch,
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from embedfin.core.money import Money
from embedfin.db.engine import make_engine
from embedfin.fundpool.redemption import FastCapExceeded
from embedfin.fundpool.store import RedemptionStatus
from embedfin.ledger.service import Ledger
from tests.fundpool.conftest import FUND, Pool, cny
from tests.fundpool.conftest import make_pool as make_pool_for


def _healthy(fund: Pool) -> None:
    with fund.pool.ledger.reader() as conn:
        report = check_all(conn)
    assert report.ok, report.violations


def test_subscription_moves_wallet_money_into_units(fund: Pool) -> None:
    made = fund.pool.subscribe("s-1", FUND, "b-1", cny(300_000))
    assert made.amount_minor == 300_000
    assert fund.wallet("b-1") == 10_000_000 - 300_000
    units, carry = fund.pool.holding(FUND, "b-1")
    assert (units, carry) == (cny(300_000), Decimal(0))
    books = fund.pool.portfolio.books(FUND)
    assert (books.cash_minor, books.units_minor, books.net_assets_minor) == (300_000,) * 3
    _healthy(fund)


def test_a_retried_subscription_moves_nothing_twice(sqlite_fund: Pool) -> None:
    fund = sqlite_fund
    first = fund.pool.subscribe("s-1", FUND, "b-1", cny(300_000))
    assert fund.pool.subscribe("s-1", FUND, "b-1", cny(300_000)) == first
    assert fund.wallet("b-1") == 10_000_000 - 300_000
    with pytest.raises(IdempotencyMismatch):
        fund.pool.subscribe("s-1", FUND, "b-1", cny(1))


def test_bad_subscriptions_write_nothing(sqlite_fund: Pool) -> None:
    fund = sqlite_fund
    with pytest.raises(CurrencyMismatch):
        fund.pool.subscribe("s-1", FUND, "b-1", Money(100, "USD"))
    with pytest.raises(InvalidAmount):
        fund.pool.subscribe("s-2", FUND, "b-1", cny(-5))
    with pytest.raises(InsufficientFunds):
        fund.pool.subscribe("s-3", FUND, "b-1", cny(10_000_001))
    with pytest.raises(InsufficientFunds):
        fund.pool.subscribe("s-4", FUND, "nobody", cny(1))
    with pytest.raises(NotFound):
        fund.pool.subscribe("s-5", "no-fund", "b-1", cny(1))
    with pytest.raises(NotFound):
        fund.pool.holding(FUND, "b-1")
    assert fund.wallet("b-1") == 10_000_000
    fund.pool.subscribe("s-1", FUND, "b-1", cny(1))  # the refused request ids are still free
    _healthy(fund)


def test_normal_redemption_pays_the_wallet_at_t_plus_1(fund: Pool) -> None:
    fund.pool.subscribe("s-1", FUND, "b-1", cny(300_000))
    made = fund.pool.redeem("r-1", FUND, "b-1", cny(100_000))
    assert (made.status, made.settles_on) == (RedemptionStatus.PENDING, date(2026, 1, 2))
    assert fund.wallet("b-1") == 9_700_000  # nothing yet
    assert fund.pool.settle_redemptions(FUND) == (0, 0)
    fund.advance(1)
    assert fund.pool.settle_redemptions(FUND) == (1, 0)
    assert fund.wallet("b-1") == 9_800_000
    assert fund.pool.redemption(made.redemption_id).status is RedemptionStatus.SETTLED
    assert fund.pool.settle_redemptions(FUND) == (0, 0)
    _healthy(fund)


def test_fast_redemption_is_advanced_by_the_facility_at_once(fund: Pool) -> None:
    fund.pool.subscribe("s-1", FUND, "b-1", cny(3_000_000))
    fund.pool.redeem("r-1", FUND, "b-1", cny(1_000_000), "fast")
    assert fund.wallet("b-1") == 10_000_000 - 3_000_000 + 1_000_000
    books = fund.pool.portfolio.books(FUND)
    assert (books.facility_cash_minor, books.facility_advances_minor) == (4_000_000, 1_000_000)
    fund.advance(1)
    assert fund.pool.settle_redemptions(FUND) == (1, 0)
    books = fund.pool.portfolio.books(FUND)
    assert (books.facility_cash_minor, books.facility_advances_minor) == (5_000_000, 0)
    assert books.cash_minor == 2_000_000
    _healthy(fund)


def test_fast_redemption_above_the_daily_cap_is_refused(sqlite_fund: Pool) -> None:
    fund = sqlite_fund
    fund.pool.subscribe("s-1", FUND, "b-1", cny(3_000_000))
    fund.pool.redeem("r-1", FUND, "b-1", cny(600_000), "fast")
    with pytest.raises(FastCapExceeded):
        fund.pool.redeem("r-2", FUND, "b-1", cny(400_001), "fast")
    fund.pool.redeem("r-3", FUND, "b-1", cny(400_000), "fast")  # exactly RMB 10,000 in all
    fund.pool.redeem("r-4", FUND, "b-1", cny(400_001))  # the rest normally
    fund.advance(1)
    fund.pool.redeem("r-5", FUND, "b-1", cny(1_000_000), "fast")  # a new day, a new cap
    _healthy(fund)


def test_fast_redemption_needs_a_funded_facility(sqlite_url: str, clock: ManualClock) -> None:
    from embedfin.fundpool.service import FundPool
    from embedfin.payments.payouts.settlement import settle_channel
    from embedfin.payments.wallets import Wallets

    ledger = Ledger(make_engine(sqlite_url), clock)
    pool = FundPool(ledger, "bare")
    pool.open_fund(FUND, "Unfunded", "CNY")
    Wallets(ledger, "bare").top_up("b-1", cny(100_000), "card", "top-1")
    settle_channel(ledger, "bare", "card", cny(100_000), cny(0), "settle-1")
    pool.subscribe("s-1", FUND, "b-1", cny(100_000))
    with pytest.raises(InsufficientFunds):
        pool.redeem("r-1", FUND, "b-1", cny(50_000), "fast")
    assert pool.holding(FUND, "b-1")[0] == cny(100_000)  # nothing written


def test_redemption_over_the_holding_or_of_a_stranger_is_refused(sqlite_fund: Pool) -> None:
    fund = sqlite_fund
    fund.pool.subscribe("s-1", FUND, "b-1", cny(100_000))
    with pytest.raises(InsufficientFunds):
        fund.pool.redeem("r-1", FUND, "b-1", cny(100_001))
    with pytest.raises(NotFound):
        fund.pool.redeem("r-2", FUND, "b-2", cny(1))
    with pytest.raises(InvalidAmount):
        fund.pool.redeem("r-3", FUND, "b-1", cny(0))
    with pytest.raises(InvalidInput, match="speed"):
        fund.pool.redeem("r-4", FUND, "b-1", cny(1), "instant")


def test_another_tenants_fund_is_not_found(sqlite_fund: Pool) -> None:
    fund = sqlite_fund
    from embedfin.fundpool.service import FundPool

    other = FundPool(fund.pool.ledger, "another-tenant")
    with pytest.raises(NotFound):
        other.subscribe("s-1", FUND, "b-1", cny(1))
    with pytest.raises(NotFound):
        other.publish(FUND)


def test_a_day_of_income_is_distributed_to_holders_with_the_fraction_carried(fund: Pool) -> None:
    fund.pool.subscribe("s-1", FUND, "b-1", cny(1_000_000))
    fund.pool.subscribe("s-2", FUND, "b-2", cny(2_000_001))
    day = fund.pool.accrue("a-1", FUND, bank_interest=cny(100))
    assert (day.income_minor, day.units_minor, day.holders) == (100, 3_000_001, 2)
    assert day.distributed_minor == 99  # 33.333 and 66.666: the fractions carried
    b1, carry1 = fund.pool.holding(FUND, "b-1")
    b2, carry2 = fund.pool.holding(FUND, "b-2")
    assert (b1, b2) == (cny(1_000_033), cny(2_000_067))
    assert Decimal(0) < carry1 < 1
    assert day.per_10k == Decimal("0.3333")
    assert fund.pool.publish(FUND).yield_7d == day.yield_7d
    assert fund.pool.accrue("a-1", FUND, bank_interest=cny(100)) == day  # a retry
    _healthy(fund)


def test_days_are_accrued_in_order_and_never_ahead(sqlite_fund: Pool) -> None:
    fund = sqlite_fund
    fund.pool.accrue("a-1", FUND)
    with pytest.raises(InvalidStateTransition):
        fund.pool.accrue("a-2", FUND)  # tomorrow has not come
    fund.advance(2)
    with pytest.raises(InvalidStateTransition):
        fund.pool.accrue("a-3", FUND, date(2026, 1, 3))  # 2 January comes first
    assert fund.pool.accrue("a-4", FUND).day == date(2026, 1, 2)


def test_a_term_deposit_earns_straight_line_and_pays_at_maturity(fund: Pool) -> None:
    fund.pool.subscribe("s-1", FUND, "b-1", cny(1_000_000))
    today = date(2026, 1, 1)
    asset = fund.pool.buy("t-1", FUND, "term_deposit", cny(600_000), cny(70),
                          today + timedelta(days=7))  # fmt: skip
    assert fund.pool.liquidity(FUND).daily == Decimal("0.4000")
    with pytest.raises(InvalidStateTransition):
        fund.pool.mature("m-0", asset.asset_id)
    distributed = 0
    for n in range(8):
        distributed += fund.pool.accrue(f"a-{n}", FUND).distributed_minor
        fund.advance(1)
    fund.pool.mature("m-1", asset.asset_id)
    books = fund.pool.portfolio.books(FUND)
    assert books.cash_minor == 1_000_070
    assert distributed + books.undistributed_minor == 70
    assert books.units_minor == 1_000_000 + distributed
    with pytest.raises(InvalidStateTransition):
        fund.pool.mature("m-2", asset.asset_id)
    _healthy(fund)


def test_bad_purchases_are_refused(sqlite_fund: Pool) -> None:
    fund = sqlite_fund
    fund.pool.subscribe("s-1", FUND, "b-1", cny(1_000))
    with pytest.raises(InsufficientFunds):
        fund.pool.buy("t-1", FUND, "short_bond", cny(1_001), cny(1), date(2026, 2, 1))
    with pytest.raises(InvalidInput):
        fund.pool.buy("t-2", FUND, "short_bond", cny(1_000), cny(1), date(2027, 2, 3))
    with pytest.raises(InvalidInput, match="kind"):
        fund.pool.buy("t-3", FUND, "equity", cny(1_000), cny(1), date(2026, 2, 1))


def test_liquidity_fee_applies_past_five_percent_of_net_assets(
    sqlite_url: str, clock: ManualClock
) -> None:
    from embedfin.fundpool.redemption import FeePolicy
    from tests.fundpool.conftest import make_pool

    ledger = Ledger(make_engine(sqlite_url), clock)
    fund = make_pool(ledger, clock, "fee-shop", FeePolicy(Decimal("0.05"), Decimal("0.01")))
    fund.pool.subscribe("s-1", FUND, "b-1", cny(5_000_000))
    fund.pool.subscribe("s-2", FUND, "b-2", cny(5_000_000))
    fund.advance(1)
    assert fund.pool.redeem("r-1", FUND, "b-1", cny(500_000)).fee_minor == 0  # 5% exactly
    second = fund.pool.redeem("r-2", FUND, "b-2", cny(100_000))
    assert (second.fee_minor, second.paid_minor) == (1_000, 99_000)
    day = fund.pool.accrue("a-1", FUND)
    assert day.fees_minor == 1_000
    _healthy(fund)


def test_open_fund_again_is_a_no_op_and_differently_refused(sqlite_fund: Pool) -> None:
    fund = sqlite_fund
    assert fund.pool.open_fund(FUND, "Balance Fund", "CNY").fund_id == FUND
    with pytest.raises(InvalidStateTransition):
        fund.pool.open_fund(FUND, "Balance Fund", "CNY", carry_method="monthly")
    with pytest.raises(InvalidInput):
        fund.pool.open_fund("usd-1", "Dollar", "USD")
    with pytest.raises(AmountOutOfRange):
        fund.pool.open_fund("usd-1", "Dollar", "USD", fast_cap_minor=-1)


def test_checkout_redeems_and_pays_in_one_unit_of_work(ledger, clock) -> None:  # type: ignore[no-untyped-def]
    from embedfin.bootstrap import Services
    from embedfin.commerce.orders import OrderLine
    from embedfin.fundpool.checkout import RedeemAndPay
    from embedfin.risk.config import RiskSettings

    fund = make_pool_for(ledger, clock)
    services = Services(ledger, risk=RiskSettings(enabled=False)).tenant("fund-shop")
    shop = services.checkout
    shop.register_merchant("m-1", category="books", country="CN", settlement_currency="CNY")
    fund.pool.subscribe("s-1", FUND, "b-1", cny(10_000_000))  # the whole wallet into the fund
    shop.place_order("o-1", buyer_id="b-1", merchant_id="m-1", currency_code="CNY",
                     lines=[OrderLine("sku", 1, 250_000)])  # fmt: skip
    pay = RedeemAndPay(fund.pool, shop)
    made = pay.pay_order("p-1", FUND, "o-1")
    assert made.amount_minor == 250_000
    assert shop.find_order("o-1").paid_minor == 250_000  # type: ignore[union-attr]
    assert fund.wallet("b-1") == 0
    assert pay.pay_order("p-1", FUND, "o-1") == made  # a retry pays nothing twice
    with pytest.raises(InvalidStateTransition):
        pay.pay_order("p-2", FUND, "o-1")  # paid already: nothing is redeemed
    shop.place_order("o-2", buyer_id="b-1", merchant_id="m-1", currency_code="CNY",
                     lines=[OrderLine("sku", 1, 900_000)])  # fmt: skip
    with pytest.raises(FastCapExceeded):
        pay.pay_order("p-3", FUND, "o-2")  # over what is left of today's cap: nothing moves
    assert fund.pool.holding(FUND, "b-1")[0] == cny(10_000_000 - 250_000)
    assert fund.wallet("b-1") == 0
    _healthy(fund)


def test_membership_comes_from_the_fund_balance_and_activity(sqlite_fund: Pool) -> None:
    from embedfin.fundpool.membership import Tier
    from embedfin.payments.payouts.settlement import settle_channel

    pool = sqlite_fund.pool
    sqlite_fund.wallets.top_up("b-1", cny(100_000), "card", "top-more")
    settle_channel(pool.ledger, pool.tenant, "card", cny(100_000), cny(0), "settle-more")
    pool.subscribe("s-1", FUND, "b-1", cny(9_999_999))
    assert pool.membership(FUND, "b-1").tier is Tier.SILVER  # one active day
    sqlite_fund.advance(1)
    for day in range(4):
        pool.redeem(f"r-{day}", FUND, "b-1", cny(1))
        sqlite_fund.advance(1)
    pool.subscribe("s-2", FUND, "b-1", cny(10))
    assert pool.membership(FUND, "b-1").tier is Tier.GOLD  # 10,000,005 held, 6 active days
    with pytest.raises(NotFound):
        pool.membership(FUND, "b-2")


def test_a_customer_compliance_holds_moves_nothing_in_or_out(sqlite_fund: Pool) -> None:
    from embedfin.core.errors import ComplianceHold
    from embedfin.fundpool.service import FundPool

    class HeldB1:
        def catch_up(self, party_kind: str | None = None, party_id: str | None = None) -> int:
            return 0

        def hold_of(self, tx: object, party_kind: str, party_id: str) -> str | None:
            return "sanctions hit under review" if party_id == "b-1" else None

    sqlite_fund.pool.subscribe("s-1", FUND, "b-1", cny(1_000))
    held = FundPool(sqlite_fund.pool.ledger, sqlite_fund.pool.tenant, holds=HeldB1())
    with pytest.raises(ComplianceHold):
        held.subscribe("s-2", FUND, "b-1", cny(1_000))
    with pytest.raises(ComplianceHold):
        held.redeem("r-1", FUND, "b-1", cny(1_000), "fast")
    held.subscribe("s-3", FUND, "b-2", cny(1_000))
    assert held.holding(FUND, "b-1")[0] == cny(1_000)
