"""Report deadlines: a number of working or calendar days after the day something happened.

A working day is one the jurisdiction's official calendar says is worked: Monday to Friday less
public holidays, plus the weekend days worked in their place (the PRC's make-up working days,
调休 — 14 February 2026, a Saturday, is one). The calendars come from the ``holidays`` package,
which keeps each country's announced schedule; a year it does not know yet counts weekdays.

Days are counted from the day after (PRC Civil Code Art. 201: a period in days does not count
its first day), so a large-value transaction on a Friday with a deadline of 5 working days is
due by the end of the following Friday. Pure: no I/O.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Literal

import holidays

from embedfin.core.errors import InvalidInput

DayUnit = Literal["working", "calendar"]


@cache
def _calendar(country: str) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(country)
    except NotImplementedError:
        raise InvalidInput(f"no official calendar for country {country!r}") from None


def is_working_day(day: date, country: str) -> bool:
    """Whether ``day`` is worked in ``country`` (ISO 3166 alpha-2)."""
    return bool(_calendar(country).is_working_day(day))


def due_date(start: date, days: int, unit: DayUnit, country: str) -> date:
    """The last day to act, ``days`` working or calendar days after ``start``."""
    if days < 0:
        raise InvalidInput("a deadline cannot be negative")
    if unit == "calendar":
        return start + timedelta(days=days)
    day, left = start, days
    while left:
        day += timedelta(days=1)
        if is_working_day(day, country):
            left -= 1
    return day


def working_days_left(today: date, due: date, country: str) -> int:
    """Working days from ``today`` (excluded) to ``due`` (included); negative once late."""
    if due >= today:
        return sum(
            is_working_day(today + timedelta(days=i), country)
            for i in range(1, (due - today).days + 1)
        )
    return -sum(
        is_working_day(due + timedelta(days=i), country) for i in range(1, (today - due).days + 1)
    )
