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
