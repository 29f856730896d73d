"""``embedfin check`` catches a fund whose rows and books disagree (SQLite: the SQL is plain)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from embedfin.bootstrap import TenantServices, check_all
from embedfin.db.outbox import read_events
from embedfin.risk.config import RiskSettings
from tests.fundpool.conftest import FUND, Pool, cny


@pytest.fixture
def busy(sqlite_fund: Pool) -> Pool:
    pool = sqlite_fund.pool
    pool.subscribe("s-1", FUND, "b-1", cny(1_000_000))
    pool.subscribe("s-2", FUND, "b-2", cny(500_001))
    pool.buy("t-1", FUND, "reverse_repo", cny(400_000), cny(30), pool.today().replace(day=20))
    sqlite_fund.advance(1)
    pool.redeem("r-1", FUND, "b-1", cny(100_000), "fast")
    pool.redeem("r-2", FUND, "b-2", cny(1_000))
    pool.accrue("a-1", FUND, bank_interest=cny(7))
    return sqlite_fund


def _failed(fund: Pool, sql: str = "") -> set[str]:
    with fund.pool.ledger.transaction() as tx:
        if sql:
            tx.conn.execute(text(sql))
    with fund.pool.ledger.reader() as conn:
        return {v.invariant for v in check_all(conn).violations}


def test_a_busy_fund_passes_every_invariant(busy: Pool) -> None:
    assert _failed(busy) == set()


def test_a_holding_the_ledger_does_not_know_is_caught(busy: Pool) -> None:
    failed = _failed(busy, "UPDATE fundpool_holdings SET units_minor = units_minor + 1"
                           " WHERE holder_id = 'b-2'")  # fmt: skip
    assert failed == {"fund_units_match_holdings"}


def test_an_unpaid_redemption_marked_settled_is_caught(busy: Pool) -> None:
    failed = _failed(busy, "UPDATE fundpool_redemptions SET status = 'settled'")
    assert failed == {"fund_units_match_holdings"}


def test_an_asset_whose_cost_differs_from_the_books_is_caught(busy: Pool) -> None:
    failed = _failed(busy, "UPDATE fundpool_assets SET cost_minor = cost_minor - 1")
    assert failed == {"fund_net_assets_match_units"}


def test_an_invented_carry_is_caught(busy: Pool) -> None:
    failed = _failed(busy, "UPDATE fundpool_holdings SET carry_nano = carry_nano + 1"
                           " WHERE holder_id = 'b-1'")  # fmt: skip
    assert failed == {"fund_income_distributed_or_carried"}


def test_a_lost_day_of_income_is_caught(busy: Pool) -> None:
    failed = _failed(busy, "UPDATE fundpool_days SET distributed_minor = distributed_minor + 1")
    assert failed == {"fund_income_distributed_or_carried"}


def test_fund_money_counted_as_client_money_is_caught(busy: Pool) -> None:
    failed = _failed(busy, "UPDATE payment_accounts SET code = 1 WHERE owner_kind = 'fund'"
                           " AND code = 3000")  # fmt: skip
    assert "fund_money_outside_safeguarding" in failed


def test_the_commands_emit_their_events_with_money_as_minor_units(busy: Pool) -> None:
    with busy.pool.ledger.reader() as conn:
        events = [e for e in read_events(conn, limit=1_000) if e.event.type.startswith("fundpool_")]
    kinds = [e.event.type for e in events]
    assert kinds.count("fundpool_subscribed") == 2
    assert {"fundpool_fund_opened", "fundpool_facility_funded", "fundpool_asset_bought",
            "fundpool_redeemed", "fundpool_income_accrued"} <= set(kinds)  # fmt: skip
    redeemed = next(e.event for e in events if e.event.type == "fundpool_redeemed")
    assert redeemed.payload["amount_minor"] == 100_000
    assert redeemed.payload["currency"] == "CNY"


def test_the_composition_root_builds_the_fund_pool(busy: Pool) -> None:
    from embedfin.bootstrap import Services

    services: TenantServices = Services(busy.pool.ledger, risk=RiskSettings(enabled=False)).tenant(
        "fund-shop"
    )
    assert services.fundpool is services.fundpool
    assert services.fundpool.holding(FUND, "b-1")[0].amount_minor > 0
