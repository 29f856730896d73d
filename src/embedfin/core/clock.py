"""Injected time. Domain code never reads the wall clock; services get a ``Clock``.

The ledger works in integer nanoseconds since the Unix epoch (UTC), as TigerBeetle does, so
timestamps are exact, ordered and free of time zones.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

NS_PER_SECOND = 1_000_000_000


class Clock(Protocol):
    def now_ns(self) -> int:
        """Nanoseconds since the Unix epoch, UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now_ns(self) -> int:
        return time.time_ns()


class ManualClock:
    """A clock that moves only when told to: for tests and the simulator."""

    def __init__(self, start_ns: int = 1_767_225_600 * NS_PER_SECOND) -> None:
        self._now_ns = start_ns
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        return self._now_ns

    def advance(self, *, seconds: float = 0, ns: int = 0) -> None:
        with self._lock:
            self._now_ns += ns + round(seconds * NS_PER_SECOND)


def ns_to_datetime(ns: int) -> datetime:
    """A timezone-aware UTC datetime for a nanosecond timestamp (microsecond precision)."""
    return datetime.fromtimestamp(ns // 1000 / 1_000_000, tz=UTC)


class HandoverClock(ManualClock):
    """Virtual time that hands over to the wall clock and never goes back.

    The demo simulates the past days of a marketplace on it (``advance``), then calls
    ``go_live`` so that what people do in the dashboard happens at the real time, after the
    simulated history."""

    def __init__(self, start_ns: int) -> None:
        super().__init__(start_ns)
        self._live = False

    def now_ns(self) -> int:
        if self._live:
            return max(time.time_ns(), self._now_ns)
        return self._now_ns

    def go_live(self) -> None:
        self._live = True
