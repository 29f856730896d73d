"""Figures shared by every viewer: computed at most once per period of the platform's clock.

A room full of dashboards polling every few seconds costs one computation per period: the
operator's figures once per poll period and tenant, the full invariant check (it reads every
account and transfer) at most once per 30 seconds. Freshness is measured on the injected
``Clock`` (the platform's), so tests move time instead of sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, FastAPI, Request

from embedfin.api.platform import Platform
from embedfin.core.clock import NS_PER_SECOND, Clock
from embedfin.dashboard.pages import POLL_S
from embedfin.dashboard.queries.health import ledger_check
from embedfin.ledger.check import CheckReport

V = TypeVar("V")
FIGURES_TTL_S = POLL_S - 0.5
INVARIANTS_TTL_S = 30.0


class TtlCache(Generic[V]):
    """Computed values kept for ``ttl_s`` seconds of the clock."""

    def __init__(self, ttl_s: float, clock: Clock) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._ttl_ns = round(ttl_s * NS_PER_SECOND)
        self._values: dict[str, tuple[int, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, compute: Callable[[], V]) -> tuple[V, float]:
        """The value and its age in seconds (computed now if missing or stale)."""
        now = self.clock.now_ns()
        with self._lock:
            found = self._values.get(key)
        if found is not None and 0 <= now - found[0] < self._ttl_ns:
            return found[1], (now - found[0]) / NS_PER_SECOND
        value = compute()
        with self._lock:
            self._values[key] = (self.clock.now_ns(), value)
        return value, 0.0

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


@dataclass(frozen=True, slots=True)
class DashboardCache:
    """The caches of one app: the operator's figures per tenant, the ledger's check report."""

    figures: TtlCache[dict[str, Any]]
    invariants: TtlCache[CheckReport]

    @classmethod
    def on(cls, clock: Clock) -> DashboardCache:
        return cls(TtlCache(FIGURES_TTL_S, clock), TtlCache(INVARIANTS_TTL_S, clock))

    def operator_figures(
        self, tenant: str, compute: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        figures, _ = self.figures.get(tenant, compute)
        return figures

    def ledger_report(self, platform: Platform) -> tuple[CheckReport, float]:
        """The invariant check of the platform's database and its age in seconds."""

        def run() -> CheckReport:
            with platform.read() as conn:
                return ledger_check(conn)

        return self.invariants.get("ledger", run)

    def clear(self) -> None:
        self.figures.clear()
        self.invariants.clear()


def install(app: FastAPI) -> DashboardCache:
    """Give the app its caches, on its platform's clock."""
    platform: Platform = app.state.platform
    cache = DashboardCache.on(platform.clock)
    app.state.dashboard_cache = cache
    return cache


def cache_of(app: FastAPI) -> DashboardCache:
    found: DashboardCache = app.state.dashboard_cache
    return found


def _request_cache(request: Request) -> DashboardCache:
    return cache_of(request.app)


CacheDep = Annotated[DashboardCache, Depends(_request_cache)]
