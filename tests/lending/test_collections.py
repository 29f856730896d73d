"""Collections limits: quiet hours, frequency, complaints (hypothesis: never more than allowed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import InvalidInput
from embedfin.lending.collections import Action, may_contact, next_action
from embedfin.lending.products import JURISDICTIONS

CN = JURISDICTIONS["CN"]  # 3 contacts a week, quiet 21:00-08:00
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def test_quiet_hours_frequency_and_complaints() -> None:
    assert may_contact(CN, at(2, 10), [], False).allowed
    assert may_contact(CN, at(2, 21), [], False).rule == "quiet_hours"
    assert may_contact(CN, at(2, 7, 59), [], False).rule == "quiet_hours"
    assert may_contact(CN, at(2, 8), [], False).allowed
    three = [at(1, 10), at(2, 10), at(3, 10)]
    assert may_contact(CN, at(4, 10), three, False).rule == "frequency_limit"
    assert may_contact(CN, at(8, 10, 1), three, False).allowed  # the first fell out of the week
    assert may_contact(CN, at(2, 10), [], True).rule == "complaint_open"
    with pytest.raises(InvalidInput):
        may_contact(CN, datetime(2026, 3, 2, 10), [], False)  # noqa: DTZ001 - the point


@given(st.lists(st.integers(0, 14 * 24 * 60), max_size=200))
def test_following_the_rule_never_exceeds_the_weekly_limit(minutes: list[int]) -> None:
    """Attempt contacts at arbitrary times, make only those allowed: any 7-day window holds
    at most the limit, and none is in quiet hours."""
    start = at(1, 0)
    made: list[datetime] = []
    for m in sorted(minutes):
        now = start + timedelta(minutes=m)
        if may_contact(CN, now, made, False).allowed:
            made.append(now)
    for t in made:
        assert sum(1 for u in made if t - timedelta(days=7) < u <= t) <= CN.contacts_per_week
        assert 8 <= t.hour < 21


def test_actions_follow_the_bucket() -> None:
    assert next_action("current") is Action.NONE
    assert next_action("1-30") is Action.REMINDER
    assert next_action("120+") is Action.CHARGE_OFF_REVIEW


def test_collections_run_logs_contacts_and_stops_on_a_complaint(sqlite_url: str) -> None:
    from datetime import UTC

    from embedfin.commerce.orders import OrderLine
    from embedfin.core.clock import ManualClock
    from embedfin.core.money import Money
    from embedfin.ledger.service import Ledger
    from embedfin.lending.collections import Collections
    from embedfin.lending.servicing import Lending
    from embedfin.payments.escrow.checkout import Checkout

    # 2026-01-01 02:00 UTC = 10:00 in Shanghai: office hours
    clock = ManualClock(int(datetime(2026, 1, 1, 2, tzinfo=UTC).timestamp()) * 10**9)
    ledger = Ledger.open(sqlite_url, clock)
    shop = Checkout(ledger, "t")
    shop.register_merchant("m", category="books", country="CN", settlement_currency="CNY")
    from embedfin.lending.products import default_catalog

    lending = Lending(shop, default_catalog(CN))
    lending.fund("bank", Money(10_000_000, "CNY"), "f")
    shop.place_order(
        "o", buyer_id="b", merchant_id="m", currency_code="CNY", lines=[OrderLine("x", 1, 60_000)]
    )
    lending.finance_order("o", "months_6", "bank", "loan")
    collections = Collections(lending, "Asia/Shanghai")
    assert collections.run() == []  # current: nothing to do
    clock.advance(seconds=45 * 86_400)  # the first installment is two weeks late
    first = collections.run()
    assert [(a.action, a.made) for a in first] == [(Action.REMINDER, True)]
    collections.open_complaint("c-1", "b", "I was charged twice")
    blocked = collections.run()
    assert [(a.made, a.rule) for a in blocked] == [(False, "complaint_open")]
    collections.resolve_complaint("c-1")
    clock.advance(seconds=3600)
    for _ in range(3):
        collections.run()
    again = collections.run()
    assert again[0].rule == "frequency_limit"  # three made in the week already
    clock.advance(seconds=12 * 3600)  # 22:00 local
    assert collections.run()[0].rule == "quiet_hours"
