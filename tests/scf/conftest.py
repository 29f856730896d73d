"""Fixtures for supply-chain finance: a tenant with a core enterprise that has sold goods (so it
holds a merchant balance to pay certificates from), two suppliers and a funded funder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from embedfin.bootstrap import Services, TenantServices
from embedfin.commerce.orders import OrderLine
from embedfin.core.clock import ManualClock
from embedfin.core.money import Money
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.risk.config import RiskSettings
from embedfin.scf.service import Certificates

TENANT = "scf-shop"
CORE, S1, S2, S3, BANK = "core-1", "sup-1", "sup-2", "sup-3", "bank-1"
DAY_S = 86_400


def cny(minor: int) -> Money:
    return Money(minor, "CNY")


def sell_to(services: TenantServices, merchant_id: str, minor: int, order_id: str) -> None:
    """A buyer pays ``merchant_id`` an order of ``minor`` and confirms it: the merchant's
    available balance grows (less the platform's commission)."""
    shop = services.checkout
    services.wallets.top_up("buyer-1", cny(minor), "card", f"top-{order_id}")
    shop.place_order(order_id, buyer_id="buyer-1", merchant_id=merchant_id,
                     currency_code="CNY", lines=[OrderLine("sku", 1, minor)])  # fmt: skip
    shop.pay_with_wallet(order_id)
    shop.ship(order_id, f"T-{order_id}")
    shop.confirm_receipt(order_id)


def available(services: TenantServices, owner_id: str) -> int:
    return services.wallets.balance("merchant", owner_id, "CNY").available.amount_minor


@dataclass
class Chain:
    services: TenantServices
    scf: Certificates
    clock: ManualClock

    def today(self) -> date:
        return self.scf.today()

    def days(self, n: int) -> date:
        return self.today() + timedelta(days=n)

    def advance(self, days: int) -> None:
        self.clock.advance(seconds=days * DAY_S)


def make_chain(ledger: Ledger, clock: ManualClock, tenant: str = TENANT) -> Chain:
    services = Services(ledger, risk=RiskSettings(enabled=False)).tenant(tenant)
    services.checkout.register_merchant(
        CORE, category="books", country="CN", settlement_currency="CNY", payout_preference="t0"
    )
    sell_to(services, CORE, 5_000_000, f"{tenant}-o-1")
    services.lending.fund(BANK, cny(10_000_000), f"{tenant}-fund-1")
    scf = services.scf
    scf.register(CORE, "core", "Core Enterprise Ltd", discount_rate=Decimal("0.036"),
                 overdue_rate=Decimal("0.18"), day_basis=360)  # fmt: skip
    for supplier in (S1, S2, S3):
        scf.register(supplier, "supplier", f"Supplier {supplier}")
    scf.register(BANK, "funder", "Bank One")
    return Chain(services, scf, clock)


@pytest.fixture
def chain(ledger: Ledger, clock: ManualClock) -> Chain:
    """On each store."""
    return make_chain(ledger, clock)


@pytest.fixture
def sqlite_chain(sqlite_url: str, clock: ManualClock) -> Chain:
    """On SQLite only: for the many cases that check input before any store is asked."""
    return make_chain(Ledger(make_engine(sqlite_url), clock), clock)
