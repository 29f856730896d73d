"""Every code the services write to the ledger is in the chart: a scenario through each service
on a scratch SQLite ledger, then every transfer and account code found is looked up."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import text

from embedfin.bootstrap import build_chart
from embedfin.commerce.orders import OrderLine
from embedfin.commerce.sales import CommerceSales
from embedfin.core.clock import ManualClock
from embedfin.core.errors import NotFound
from embedfin.core.money import Money
from embedfin.fundpool.redemption import FeePolicy
from embedfin.fundpool.service import FundPool
from embedfin.ledger.service import Ledger
from embedfin.lending.products import JURISDICTIONS, default_catalog
from embedfin.lending.servicing import Lending
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import (
    ChannelKind,
    FeeSchedule,
    SimulatedProcessor,
    default_channels,
)
from embedfin.payments.channels.routing import Router
from embedfin.payments.chart import CODE_CHANNEL_OVERPAYMENT, AccountCode
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.fx import Fx
from embedfin.payments.payouts.batches import MerchantSettlement
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.refunds.service import Refunds
from embedfin.payments.wallets import Wallets
from embedfin.risk.cases import Cases
from embedfin.risk.merchant import Reserve
from embedfin.risk.merchants import MerchantRisk
from embedfin.scf.inventory import Policy, StockLine
from embedfin.scf.orders import OrderFinancing
from embedfin.scf.service import Certificates
from embedfin.scf.stock import InventoryFinancing
from embedfin.transparency.service import LogSigner, TransparencyLog

TENANT = "shop-codes"
TOKEN = "tok_9aBcDeFgHiJkLmNo"
DAY_S = 86_400


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def sell(shop: Checkout, order_id: str, merchant: str, minor: int, currency: str = "USD") -> str:
    shop.place_order(
        order_id,
        buyer_id="b-1",
        merchant_id=merchant,
        currency_code=currency,
        lines=[OrderLine("sku", 1, minor)],
    )
    return order_id


def trade(ledger: Ledger, clock: ManualClock) -> None:
    """Wallet top-up and withdrawal, escrow checkout, channel and split-tender payments, refunds
    before and after release, FX, a loan financed, repaid, charged late and written off,
    channel settlement, T+1 settlement, payouts and the commission sweep."""
    shop = Checkout(ledger, TENANT)
    shop.register_merchant("m-t1", category="books", country="US", settlement_currency="USD")
    shop.register_merchant(
        "m-t0", category="apparel", country="US", settlement_currency="USD", payout_preference="t0"
    )
    shop.register_merchant("m-eu", category="books", country="DE", settlement_currency="EUR")
    wallets = Wallets(ledger, TENANT)
    wallets.top_up("b-1", usd(200_000), "card", "top-1")
    settle_channel(ledger, TENANT, "card", usd(200_000), usd(2_000), "settle-1")
    wallets.withdraw("buyer", "b-1", usd(1_000), TOKEN, "6789", "out-1")

    shop.pay_with_wallet(sell(shop, "o-1", "m-t1", 10_000))
    shop.ship("o-1", "T-1")
    shop.confirm_receipt("o-1")
    refunds = Refunds(ChannelPayments(shop, Router(default_channels())))
    refunds.refund("o-1", usd(1_000), "rf-1")  # after release
    shop.pay_with_wallet(sell(shop, "o-2", "m-t0", 20_000))
    refunds.refund("o-2", usd(2_000), "rf-2")  # out of escrow
    shop.ship("o-2", "T-2")
    shop.confirm_receipt("o-2")

    card = SimulatedProcessor("card", ChannelKind.CARD, ["USD"], FeeSchedule(100), latency_ms=0)
    card.approval_rate = 1.0
    payments = ChannelPayments(shop, Router([card], exploration=0.0))
    payments.pay_order(sell(shop, "o-3", "m-t1", 5_000), "pay-3")
    payments.pay_order(sell(shop, "o-4", "m-t1", 5_000), "pay-4", wallet_part=usd(2_000))
    Refunds(payments).refund("o-3", usd(500), "rf-3")

    fx = Fx(ledger, TENANT, spread_bp=100, lock_seconds=30)
    fx.convert(fx.quote("buyer", "b-1", usd(50_000), "EUR").quote_id)

    lending = Lending(shop, default_catalog(JURISDICTIONS["CN"]))
    lending.fund("bank-1", eur(1_000_000), "fund-1")
    lending.finance_order(sell(shop, "o-5", "m-eu", 30_000, "EUR"), "months_3_fee", "bank-1", "l-1")
    lending.finance_order(sell(shop, "o-6", "m-eu", 60_000, "EUR"), "months_6", "bank-1", "l-2")
    clock.advance(seconds=30 * DAY_S)
    lending.repay("l-1", eur(5_000), "repay-1")  # fees and principal (the plan is 0%)
    lending.repay("l-2", eur(5_000), "repay-2")  # interest and principal
    Refunds(payments, financing=lending).refund("o-5", eur(1_000), "rf-5")
    start = lending.today()
    lending.provision(start)
    lending.assess_late_fees(start + timedelta(days=15))
    lending.charge_off(start + timedelta(days=200))

    merchant_risk = MerchantRisk(ledger, TENANT, Cases(ledger, TENANT, None))
    merchant_risk.set_policy("m-t1", Reserve(1_000, 1), "a rolling reserve", "officer")
    settlement = MerchantSettlement(ledger, TENANT, reserves=merchant_risk)
    settlement.run_t1("t1-1", clock.now_ns())  # 10% of m-t1's settlement held for a day
    clock.advance(seconds=2 * DAY_S)
    settlement.release_reserves("t1-3", clock.now_ns())
    settlement.bind_bank_account("m-t0", TOKEN, "6790")
    settlement.run_payouts("p-1")
    settlement.sweep_commission("USD", "sweep-1")
    # o-1's merchant (T+1) still holds its share; the commission was swept: the platform's cash
    # goes back into the reserve with it
    refunds.refund("o-1", usd(2_000), "rf-after-sweep")
    certificates(ledger, clock, shop, lending)
    fund_pool(ledger, clock, wallets)


def certificates(ledger: Ledger, clock: ManualClock, shop: Checkout, lending: Lending) -> None:
    """A certificate split, passed on in part, discounted and settled at maturity."""
    shop.pay_with_wallet(sell(shop, "o-7", "m-t0", 20_000))
    shop.ship("o-7", "T-7")
    shop.confirm_receipt("o-7")
    lending.fund("bank-2", usd(100_000), "fund-2")
    scf = Certificates(ledger, TENANT, TransparencyLog(ledger, TENANT, LogSigner.load()))
    scf.register("m-t0", "core", "Core", discount_rate=Decimal("0.04"),
                 overdue_rate=Decimal("0.1"))  # fmt: skip
    scf.register("s-1", "supplier", "Supplier one")
    scf.register("s-2", "supplier", "Supplier two")
    scf.register("bank-2", "funder", "Bank two")
    first = scf.issue("c-1", "m-t0", "s-1", "PO-1", usd(5_000), scf.today() + timedelta(days=30))
    a, b = scf.split("c-2", first.certificate_id, "s-1", [3_000, 2_000])
    scf.transfer("c-3", b.certificate_id, "s-1", "s-2", 1_000)
    scf.discount("c-4", a.certificate_id, "s-1", "bank-2")
    orders = OrderFinancing(scf)
    order = orders.place("po-1", "m-t0", "s-1", "PO-9", usd(4_000), scf.today() + timedelta(days=9))
    orders.advance("po-2", order.po_id, "bank-2", 8_000, 100)
    clock.advance(seconds=30 * DAY_S)
    assert scf.run_maturities().settled == 1
    orders.pay("po-3", order.po_id)
    inventory(scf, shop)


def inventory(scf: Certificates, shop: Checkout) -> None:
    """A distributor draws on its stock and pays the draw back."""
    scf.register("m-t1", "distributor", "Distributor")
    stock = InventoryFinancing(scf, CommerceSales())
    facility = stock.open("inv-1", "m-t1", "bank-2", "USD", Policy(advance_bp=5_000, fee_bp=100))
    shop.pay_with_wallet(sell(shop, "o-8", "m-t1", 5_000))
    stock.report("inv-2", facility.facility_id, [StockLine("sku", 2, 1_000)])  # limit 1,000
    stock.draw("inv-3", facility.facility_id, usd(1_000))
    shop.ship("o-8", "T-8")
    shop.confirm_receipt("o-8")
    stock.repay("inv-4", facility.facility_id, usd(1_000))


def fund_pool(ledger: Ledger, clock: ManualClock, wallets: Wallets) -> None:
    """Subscriptions, fast and normal redemptions with a liquidity fee, the facility, the three
    kinds of asset bought and matured, a day's income accrued and distributed."""
    pool = FundPool(ledger, TENANT)
    fee = FeePolicy(Decimal("0.05"), Decimal("0.01"))
    pool.open_fund("mmf", "Fund", "USD", fast_cap_minor=50_000, fee_policy=fee)
    pool.fund_facility("fp-1", "mmf", usd(100_000))
    wallets.top_up("b-9", usd(100_000), "card", "top-9")
    settle_channel(ledger, TENANT, "card", usd(100_000), usd(0), "settle-9")
    pool.subscribe("fp-2", "mmf", "b-9", usd(100_000))
    matures_on = pool.today() + timedelta(days=2)
    assets = [
        pool.buy(f"fp-b{i}", "mmf", kind, usd(10_000), usd(10), matures_on)
        for i, kind in enumerate(("term_deposit", "short_bond", "reverse_repo"))
    ]
    clock.advance(seconds=DAY_S)
    pool.redeem("fp-3", "mmf", "b-9", usd(20_000), "fast")  # 20% of the fund: a fee
    pool.redeem("fp-4", "mmf", "b-9", usd(10_000))
    pool.accrue("fp-5", "mmf", bank_interest=usd(3))
    clock.advance(seconds=3 * DAY_S)
    for asset in assets:
        pool.mature(f"fp-m-{asset.asset_id}", asset.asset_id)
    assert pool.settle_redemptions("mmf") == (2, 0)


def test_every_transfer_and_account_code_the_services_write_is_in_the_chart(
    sqlite_url: str,
) -> None:
    clock = ManualClock()
    ledger = Ledger.open(sqlite_url, clock)
    trade(ledger, clock)
    with ledger.reader() as conn:
        transfer_codes = set(conn.execute(text("SELECT DISTINCT code FROM transfers")).scalars())
        account_codes = set(conn.execute(text("SELECT DISTINCT code FROM accounts")).scalars())
    chart = build_chart()
    unknown: list[str] = []
    for code in sorted(transfer_codes):
        try:
            chart.transfer(code)
        except NotFound:
            unknown.append(f"transfer code {code}")
    for code in sorted(account_codes):
        try:
            chart.account(code)
        except NotFound:
            unknown.append(f"account code {code}")
    assert unknown == []
    # the scenario reached every service it names (so the check above means something)
    missed = {t.code for t in chart.transfers} - transfer_codes
    assert missed == {CODE_CHANNEL_OVERPAYMENT}  # a channel paying an order twice, not staged here
    assert account_codes == {t.code for t in chart.accounts} - {AccountCode.PLATFORM_EQUITY}
