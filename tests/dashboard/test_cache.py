"""The dashboard's shared cache: one computation per period, whoever asks."""

from __future__ import annotations

import time

from embedfin.dashboard.app import TtlCache


def test_a_value_is_computed_once_per_period_and_its_age_is_told() -> None:
    cache = TtlCache(0.2)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", compute) == (1, 0.0)
    value, age = cache.get("k", compute)
    assert value == 1
    assert 0 <= age < 0.2
    assert cache.get("other", compute)[0] == 2  # keys are separate
    time.sleep(0.25)
    assert cache.get("k", compute)[0] == 3  # stale: computed again
    cache.clear()
    assert cache.get("k", compute)[0] == 4
