"""A tenant's stress tests on its live books, read-only: the exposure network as the books stand
(``books.py``), each scenario of ``scenarios.py`` on it, and its reverse stress."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from embedfin.core.clock import ns_to_datetime
from embedfin.core.errors import InvalidInput
from embedfin.fundpool.service import FundPool
from embedfin.ledger.service import Ledger
from embedfin.lending.servicing import Lending
from embedfin.scf.orders import OrderFinancing
from embedfin.scf.service import Certificates
from embedfin.scf.stock import InventoryFinancing
from embedfin.systemic.books import read_exposures
from embedfin.systemic.exposures import Exposures
from embedfin.systemic.runs import Asset, RunParams, params_of
from embedfin.systemic.scenarios import Scenario, StressResult, reverse, stress


@dataclass(frozen=True, slots=True)
class NetworkSummary:
    currencies: tuple[str, ...]
    nodes_by_kind: dict[str, int]
    edges_by_kind: dict[str, tuple[int, int]]  # kind → (edges, amount in minor units)


class StressTests:
    """Stress tests on one tenant's books (nothing is written)."""

    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        lending: Lending,
        certificates: Certificates,
        orders: OrderFinancing,
        inventory: InventoryFinancing,
        fundpool: FundPool | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self._sources = (lending, certificates, orders, inventory)
        self.fundpool = fundpool

    def exposures(self) -> Exposures:
        return read_exposures(self.ledger, self.tenant, *self._sources)

    def summary(self, exposures: Exposures | None = None) -> NetworkSummary:
        found = exposures or self.exposures()
        edges: dict[str, tuple[int, int]] = {}
        for edge in found.edges:
            count, total = edges.get(edge.kind, (0, 0))
            edges[edge.kind] = (count + 1, total + edge.amount_minor)
        kinds = Counter(node.kind for node in found.nodes)
        currencies = tuple(sorted({node.currency for node in found.nodes}))
        return NetworkSummary(currencies, dict(sorted(kinds.items())), dict(sorted(edges.items())))

    def run(
        self,
        scenario: Scenario | str,
        currency: str,
        severity: float,
        target: str | None = None,
        exposures: Exposures | None = None,
    ) -> tuple[StressResult, float | None]:
        """The scenario at ``severity`` and its reverse stress (the severity that breaks the
        platform), on the books as they stand."""
        found = exposures or self.exposures()
        result = stress(found, currency, scenario, severity, target)
        return result, reverse(found, currency, scenario, target)

    def fund_run(self, fund_id: str, behaviour: Mapping[str, Any]) -> RunParams:
        """A run's parameters from a live fund's books: its units as the holdings, its cash,
        what its facility holds, and each live asset (cost and accrued interest) with its days
        to maturity; ``behaviour`` is the depositors' (``runs.RunParams``' other fields)."""
        if self.fundpool is None:
            raise InvalidInput("this tenant's services have no fund pool")
        pool = self.fundpool
        pool.fund(fund_id)  # a typed NotFound for another tenant's or an unknown fund
        books = pool.portfolio.books(fund_id)
        today = ns_to_datetime(self.ledger.clock.now_ns()).date()
        assets = tuple(
            Asset(a.cost_minor + a.accrued_minor, max(0, (a.matures_on - today).days))
            for a in pool.portfolio.assets(fund_id) if a.status == "live"
        )  # fmt: skip
        data = {"holdings": books.units_minor, "cash": books.cash_minor,
                "facility": books.facility_cash_minor, **behaviour}  # fmt: skip
        params = params_of({k: v for k, v in data.items() if k != "assets"})
        return replace(params, assets=assets)
