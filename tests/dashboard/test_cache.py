"""The dashboard's shared cache: one computation per period of the injected clock, whoever asks."""

from __future__ import annotations

from embedfin.core.clock import ManualClock
from embedfin.dashboard.cache import DashboardCache, TtlCache


def test_a_value_is_computed_once_per_period_and_its_age_is_told() -> None:
    clock = ManualClock()
    cache: TtlCache[int] = TtlCache(0.2, clock)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", compute) == (1, 0.0)
    clock.advance(seconds=0.15)
    assert cache.get("k", compute) == (1, 0.15)
    assert cache.get("other", compute)[0] == 2  # keys are separate
    clock.advance(seconds=0.05)
    assert cache.get("k", compute)[0] == 3  # stale: computed again
    cache.clear()
    assert cache.get("k", compute)[0] == 4


def test_the_period_is_measured_on_the_clock_it_was_given() -> None:
    clock = ManualClock()
    cache = DashboardCache.on(clock)
    assert cache.operator_figures("t", lambda: {"n": 1}) == {"n": 1}
    clock.advance(seconds=cache.figures.ttl_s - 0.001)
    assert cache.operator_figures("t", lambda: {"n": 2}) == {"n": 1}  # still fresh
    clock.advance(seconds=0.001)
    assert cache.operator_figures("t", lambda: {"n": 3}) == {"n": 3}
    cache.clear()
    assert cache.operator_figures("t", lambda: {"n": 4}) == {"n": 4}
