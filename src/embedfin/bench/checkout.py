"""``embedfin bench checkout``: full escrow lifecycles through the service layer.

Each lifecycle is the buyer's and merchant's journey: place the order, pay it from the wallet
into escrow, ship, confirm receipt (escrow released to the merchant minus commission); every 100
lifecycles a payout batch pays merchants out. With ``--batch N`` the same commands run for N
orders at a time (the bulk service commands: one unit of work and one ledger batch per step);
an order's latency is then its batch's. In the same run, the baseline posts the same
ledger transfers straight to the ledger, one commit for the payment and one for the release (no
commerce rows, no events, no order or state checks), so ``ratio`` is the price of the service
layer and its two extra commits (placing and shipping an order move no money).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select

from embedfin.bench.memory import peak_rss_mb
from embedfin.bootstrap import Services
from embedfin.commerce.orders import OrderLine
from embedfin.core.clock import ManualClock
from embedfin.core.money import Money
from embedfin.db.engine import make_engine
from embedfin.db.migrate import upgrade
from embedfin.db.scratch import scratch_database
from embedfin.db.tables import transfers
from embedfin.ledger.service import Ledger
from embedfin.ledger.types import Account, AccountFlags, Transfer
from embedfin.payments.escrow.bulk import OrderSpec, Shipment
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.payouts.batches import MerchantSettlement
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.progress import Progress, no_progress

TENANT = "bench"
MERCHANTS = 20
BUYERS = 200
PAYOUT_EVERY = 100


@dataclass(frozen=True, slots=True)
class CheckoutBenchResult:
    database: str
    orders: int
    seconds: float
    lifecycles_per_s: float
    p50_ms: float
    p99_ms: float
    transfers_per_lifecycle: float
    orders_per_command: int
    baseline_lifecycles_per_s: float
    ratio: float
    peak_rss_mb: float


def run(
    url: str | None, orders: int, progress: Progress = no_progress, batch: int = 1
) -> CheckoutBenchResult:
    """``batch`` orders per command (1: one order per command and per transaction)."""
    with scratch_database(url, "checkout") as ours, scratch_database(url, "checkoutbase") as base:
        engine = make_engine(ours)
        upgrade(engine)
        ledger = Ledger(engine, ManualClock())
        shop, settlement = _setup(ledger, orders)
        with engine.connect() as conn:
            transfers_before = conn.execute(
                select(func.count()).select_from(transfers)
            ).scalar_one()
        latencies: list[float] = []
        started = time.perf_counter()
        with progress("checkout", orders) as advance:
            for first in range(0, orders, batch):
                numbers = range(first, min(first + batch, orders))
                t0 = time.perf_counter()
                _lifecycles(shop, numbers, bulk=batch > 1, latencies=latencies)
                if batch > 1:  # an order's lifecycle ends when its batch's does
                    latencies += [time.perf_counter() - t0] * len(numbers)
                if numbers[-1] // PAYOUT_EVERY != (numbers[-1] + 1) // PAYOUT_EVERY or (
                    numbers[-1] + 1 == orders
                ):
                    settlement.run_payouts(f"payout-{numbers[-1]}")
                advance(len(numbers))
        seconds = time.perf_counter() - started
        with engine.connect() as conn:
            transfers_after = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
        engine.dispose()
        baseline = _baseline(base, orders)
    latencies.sort()
    per_s = orders / seconds
    return CheckoutBenchResult(
        database=ledger.dialect,
        orders=orders,
        seconds=round(seconds, 3),
        lifecycles_per_s=round(per_s, 1),
        p50_ms=round(latencies[len(latencies) // 2] * 1000, 2),
        p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        transfers_per_lifecycle=round((transfers_after - transfers_before) / orders, 2),
        orders_per_command=batch,
        baseline_lifecycles_per_s=round(baseline, 1),
        ratio=round(per_s / baseline, 3),
        peak_rss_mb=round(peak_rss_mb(), 1),
    )


def _lifecycles(shop: Checkout, numbers: range, *, bulk: bool, latencies: list[float]) -> None:
    specs = [
        OrderSpec(
            f"o-{n}",
            f"b-{n % BUYERS}",
            f"m-{n % MERCHANTS}",
            "USD",
            [OrderLine("sku-1", 1 + n % 3, 1_999)],
        )
        for n in numbers
    ]
    if bulk:
        ids = [s.order_id for s in specs]
        for results in (
            shop.place_orders(specs),
            shop.pay_with_wallets(ids),
            shop.ship_many([Shipment(i, f"T{i}") for i in ids]),
            shop.confirm_receipts(ids),
        ):
            for result in results:
                result.unwrap()
        return
    for spec in specs:
        t0 = time.perf_counter()
        shop.place_order(
            spec.order_id,
            buyer_id=spec.buyer_id,
            merchant_id=spec.merchant_id,
            currency_code="USD",
            lines=spec.lines,
        )
        shop.pay_with_wallet(spec.order_id)
        shop.ship(spec.order_id, f"T{spec.order_id}")
        shop.confirm_receipt(spec.order_id)
        latencies.append(time.perf_counter() - t0)


def _setup(ledger: Ledger, orders: int) -> tuple[Checkout, MerchantSettlement]:
    services = Services(ledger).tenant(TENANT)
    shop, settlement, wallets = services.checkout, services.settlement, services.wallets
    for m in range(MERCHANTS):
        shop.register_merchant(
            f"m-{m}",
            category="apparel",
            country="US",
            settlement_currency="USD",
            payout_preference="t0",
        )
        settlement.bind_bank_account(f"m-{m}", "tok_benchmark0001", "0001")
    per_buyer = (orders // BUYERS + 1) * 6_000
    for b in range(BUYERS):
        wallets.top_up(f"b-{b}", Money(per_buyer, "USD"), "card", f"top-up-{b}")
    settle_channel(
        ledger,
        TENANT,
        "card",
        Money(per_buyer * BUYERS, "USD"),
        Money(0, "USD"),
        "bench-settlement",
    )
    return shop, settlement


def _baseline(url: str, orders: int) -> float:
    """The same money movements and commits, straight to the ledger."""
    engine = make_engine(url)
    upgrade(engine)
    ledger = Ledger(engine, ManualClock())
    limited = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    funding, escrow, commission, reserve = 1, 2, 3, 4
    buyers = [100 + b for b in range(BUYERS)]
    merchants = [1_000 + m for m in range(MERCHANTS)]
    ledger.create_accounts(
        [
            Account(funding, 840, 1),
            Account(escrow, 840, 300, limited),
            Account(commission, 840, 400, limited),
            Account(reserve, 840, 2),
        ]
        + [Account(b, 840, 100, limited) for b in buyers]
        + [Account(m, 840, 210, limited) for m in merchants]
    )
    per_buyer = (orders // BUYERS + 1) * 6_000
    ledger.create_transfers(
        [Transfer(10_000 + i, funding, b, per_buyer, 840, 1) for i, b in enumerate(buyers)]
    )
    next_id = 100_000
    started = time.perf_counter()
    for n in range(orders):
        amount = 1_999 * (1 + n % 3)
        fee = amount * 5 // 100
        buyer, merchant = buyers[n % BUYERS], merchants[n % MERCHANTS]
        ledger.create_transfers([])  # the order row's commit has no ledger work
        ledger.create_transfers([Transfer(next_id, buyer, escrow, amount, 840, 2)])
        ledger.create_transfers([])
        ledger.create_transfers(
            [
                Transfer(next_id + 1, escrow, merchant, amount - fee, 840, 3, 1),
                Transfer(next_id + 2, escrow, commission, fee, 840, 4),
            ]
        )
        next_id += 3
        if (n + 1) % PAYOUT_EVERY == 0:
            for account in ledger.lookup_accounts(merchants):
                balance = account.credits_posted - account.debits_posted
                if balance:
                    ledger.create_transfers(
                        [Transfer(next_id, account.id, reserve, balance, 840, 5)]
                    )
                    next_id += 1
    seconds = time.perf_counter() - started
    engine.dispose()
    return orders / seconds
