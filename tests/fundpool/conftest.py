"""Fixtures for the fund pool: a tenant with a CNY fund, a funded liquidity facility and two
buyers whose wallets hold money."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from embedfin.core.clock import ManualClock
from embedfin.core.money import Money
from embedfin.db.engine import make_engine
from embedfin.fundpool.redemption import FeePolicy
from embedfin.fundpool.service import FundPool
from embedfin.ledger.service import Ledger
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.payments.wallets import Wallets

TENANT = "fund-shop"
FUND = "mmf-1"
DAY_S = 86_400


def cny(minor: int) -> Money:
    return Money(minor, "CNY")


@dataclass
class Pool:
    pool: FundPool
    wallets: Wallets
    clock: ManualClock

    def wallet(self, buyer: str) -> int:
        return self.wallets.balance("buyer", buyer, "CNY").available.amount_minor

    def advance(self, days: int) -> None:
        self.clock.advance(seconds=days * DAY_S)


def make_pool(
    ledger: Ledger, clock: ManualClock, tenant: str = TENANT, fee: FeePolicy | None = None
) -> Pool:
    pool = FundPool(ledger, tenant)
    pool.open_fund(FUND, "Balance Fund", "CNY", fee_policy=fee)
    pool.fund_facility("facility-1", FUND, cny(5_000_000))
    wallets = Wallets(ledger, tenant)
    wallets.top_up("b-1", cny(10_000_000), "card", "top-1")
    wallets.top_up("b-2", cny(10_000_000), "card", "top-2")
    settle_channel(ledger, tenant, "card", cny(20_000_000), cny(0), "settle-1")  # in the reserve
    return Pool(pool, wallets, clock)


@pytest.fixture
def fund(ledger: Ledger, clock: ManualClock) -> Pool:
    """On each store."""
    return make_pool(ledger, clock)


@pytest.fixture
def sqlite_fund(sqlite_url: str, clock: ManualClock) -> Pool:
    """On SQLite only: for cases refused before any store is asked."""
    return make_pool(Ledger(make_engine(sqlite_url), clock), clock)
