"""The composition root: the one place where embedfin's contexts are put together.

Contexts declare their parts in their own modules and never find each other by import side
effects; this module combines them explicitly. It builds the chart of accounts from every
context's block today, and is where a tenant's services, the event consumers and the invariants
``embedfin check`` runs are wired, so the API, CLI, dashboard, simulator and benchmarks all get
the same wiring.
"""

from __future__ import annotations

from embedfin.ledger.chart import Chart
from embedfin.lending import chart as lending_chart
from embedfin.payments import chart as payments_chart


def build_chart() -> Chart:
    """Every context's block in one chart; raises ``ChartConflict`` if two blocks collide."""
    return Chart([payments_chart.BLOCK, lending_chart.BLOCK])
