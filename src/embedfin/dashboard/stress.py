"""The stress test page: the tenant's exposure network as its books stand, every scenario of
``systemic/scenarios.py`` at a chosen severity — first-round loss, second-round losses by
sector, defaults, the platform's shortfall on customers' money — and each one's reverse stress
(the severity that breaks the platform), with the losses drawn by sector.

Read-only, for keys with ``stress:read`` (operators, risk officers, regulators): a merchant's
key gets a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import plotly.graph_objects as go
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from embedfin.api.auth import SCOPES, Scope
from embedfin.core.errors import InvalidInput
from embedfin.dashboard.charts import LAYOUT
from embedfin.dashboard.pages import PageError, page
from embedfin.dashboard.signin import SessionDep
from embedfin.systemic.scenarios import Scenario, StressResult

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Row:
    scenario: str
    result: StressResult | None
    breaking: float | None
    refused: str | None


@router.get("/stress", response_class=HTMLResponse)
def stress_page(
    request: Request,
    current: SessionDep,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    severity: Annotated[float, Query(ge=0, le=1, allow_inf_nan=False)] = 0.5,
) -> HTMLResponse:
    if Scope.STRESS not in SCOPES[current.principal.role]:
        raise PageError(403, "the stress tests need an operator, risk or regulator key")
    tests = current.platform.tenant(current.tenant).stress
    exposures = tests.exposures()
    summary = tests.summary(exposures)
    chosen = currency or (summary.currencies[0] if summary.currencies else None)
    rows: list[Row] = []
    if chosen is not None:
        for scenario in Scenario:
            try:
                result, breaking = tests.run(scenario, chosen, severity, exposures=exposures)
                rows.append(Row(scenario.value, result, breaking, None))
            except InvalidInput as refused:
                rows.append(Row(scenario.value, None, None, refused.message))
    return page(request, "stress.html", session=current, summary=summary, currency=chosen,
                severity=severity, rows=rows, chart=_losses_chart(rows, chosen))  # fmt: skip


def _losses_chart(rows: list[Row], currency: str | None) -> str:
    """Losses by the creditors' sector, one group of bars per scenario (major units)."""
    sectors = sorted({s for r in rows if r.result for s in r.result.losses_by_sector})
    figure = go.Figure()
    for sector in sectors:
        figure.add_bar(
            name=sector,
            x=[r.scenario.replace("_", " ") for r in rows],
            y=[(r.result.losses_by_sector.get(sector, 0) if r.result else 0) / 100 for r in rows],
        )
    figure.update_layout(title=f"Losses by sector ({currency or '—'})", barmode="stack", **LAYOUT)
    figure.update_yaxes(title_text=f"{currency or ''} (major units)", tickformat=",.0f")
    return str(figure.to_json())
