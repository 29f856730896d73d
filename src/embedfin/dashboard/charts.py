"""Plotly figures of the dashboard, as JSON for ``Plotly.react`` in the browser."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from embedfin.core.drift import SHIFTED, STABLE
from embedfin.core.money import Money
from embedfin.dashboard.queries.payments import ChannelFigures
from embedfin.dashboard.queries.risk import DailyActions
from embedfin.dashboard.queries.sales import DailyPoint
from embedfin.risk.monitoring import DailyModelFigures

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
    "height": 300,
    "legend": {"orientation": "h", "y": -0.2},
    "template": "plotly_white",
}


def _dates(points: Sequence[DailyPoint]) -> list[str]:
    return [(_EPOCH + timedelta(days=p.day)).date().isoformat() for p in points]


def _major(amount: int, currency: str) -> float:
    return float(Money(amount, currency).decimal)


def sales(
    points: Sequence[DailyPoint], currency: str, title: str = "GMV and orders per day"
) -> str:
    """GMV (bars) and orders (line) per day of payment."""
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    dates = _dates(points)
    figure.add_trace(
        go.Bar(x=dates, y=[_major(p.gmv_minor, currency) for p in points], name=f"GMV {currency}"),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(x=dates, y=[p.orders for p in points], name="orders", mode="lines+markers"),
        secondary_y=True,
    )
    figure.update_layout(title=title, **LAYOUT)
    figure.update_yaxes(title_text=currency, secondary_y=False)
    most = max((p.orders for p in points), default=1)
    figure.update_yaxes(  # whole orders: round integer ticks from zero
        title_text="orders", secondary_y=True, rangemode="tozero", dtick=_round_step(most / 5)
    )
    return str(figure.to_json())


def _round_step(raw: float) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ (at least 1) not below ``raw``: tick steps people read."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= raw:
                return step * magnitude
        magnitude *= 10


def settlement(points: Sequence[DailyPoint]) -> str:
    """Mean days from payment to release to the merchant, by day of payment."""
    released = [p for p in points if p.release_days is not None]
    figure = go.Figure(
        go.Scatter(
            x=_dates(released),
            y=[p.release_days for p in released],
            mode="lines+markers",
            name="payment → release (days)",
        )
    )
    figure.update_layout(title="Settlement delay of released orders (days)", **LAYOUT)
    return str(figure.to_json())


def channel_success(rows: Sequence[ChannelFigures], live: Mapping[str, tuple[int, int]]) -> str:
    """Approved share per channel: the router's live window (what routing acts on: order
    payments and wallet top-ups alike) beside the stored order-payment attempts."""
    names = sorted({r.channel for r in rows} | {n for n, (_, seen) in live.items() if seen})
    stored = {r.channel: r for r in rows}

    def pct(approved: int, tried: int) -> float | None:
        return round(100 * approved / tried, 2) if tried else None

    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=names,
            y=[pct(*live.get(n, (0, 0))) for n in names],
            customdata=[list(live.get(n, (0, 0))) for n in names],
            hovertemplate="%{x}: %{y}% of the last %{customdata[1]} attempts",
            name="live window",
        )
    )
    figure.add_trace(
        go.Bar(
            x=names,
            y=[
                pct(f.approved, f.approved + f.declined) if (f := stored.get(n)) else None
                for n in names
            ],
            name="stored order payments",
        )
    )
    figure.update_layout(title="Payment success by channel (%)", **LAYOUT)
    figure.update_yaxes(range=[0, 100])
    return str(figure.to_json())


def risk_actions(points: Sequence[DailyActions]) -> str:
    """Checks per day by action (stacked), and the share of labelled checks that were fraud."""
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    dates = [(_EPOCH + timedelta(days=p.day)).date().isoformat() for p in points]
    for action in ("allow", "challenge", "review", "block"):
        figure.add_trace(
            go.Bar(x=dates, y=[p.counts[action] for p in points], name=action),
            secondary_y=False,
        )
    share = [p.fraud / (p.fraud + p.good) if p.fraud + p.good else None for p in points]
    figure.add_trace(
        go.Scatter(x=dates, y=share, name="fraud share of labelled", mode="lines+markers"),
        secondary_y=True,
    )
    figure.update_layout(title="Risk checks per day", barmode="stack", **LAYOUT)
    figure.update_yaxes(title_text="checks", secondary_y=False)
    figure.update_yaxes(title_text="fraud share", secondary_y=True, range=[0, 1])
    return str(figure.to_json())


_TIER_COLOURS = {"low": "#2e7d32", "medium": "#f9a825", "high": "#c62828"}


def merchant_scores(rows: Sequence[tuple[str, int, str]]) -> str:
    """The merchant ranking: each merchant's score (0-100), coloured by tier, riskiest first,
    with the tier boundaries drawn."""
    figure = go.Figure(
        go.Bar(
            x=[merchant for merchant, _, _ in rows],
            y=[score for _, score, _ in rows],
            marker_color=[_TIER_COLOURS.get(tier, "#607d8b") for _, _, tier in rows],
            name="score",
        )
    )
    for boundary, label in ((25, "medium"), (50, "high")):
        figure.add_hline(y=boundary, line_dash="dot", annotation_text=label)
    figure.update_layout(title="Merchant risk scores", **LAYOUT)
    figure.update_yaxes(title_text="score", range=[0, 100])
    return str(figure.to_json())


def merchant_score_history(points: Sequence[tuple[int, int]]) -> str:
    """One merchant's score over its scoring runs (ns, score)."""
    dates = [datetime.fromtimestamp(at / 1e9, tz=UTC).isoformat() for at, _ in points]
    figure = go.Figure(
        go.Scatter(x=dates, y=[score for _, score in points], mode="lines+markers", name="score")
    )
    for boundary in (25, 50):
        figure.add_hline(y=boundary, line_dash="dot")
    figure.update_layout(title="Score over time", **LAYOUT)
    figure.update_yaxes(title_text="score", range=[0, 100])
    return str(figure.to_json())


def model_monitoring(days: Sequence[DailyModelFigures]) -> tuple[str, str]:
    """Two figures of the champion's days: scores (median, p90) with their PSI against the
    training holdout (the 0.1 and 0.25 lines drawn), and the precision of model and rule flags."""
    dates = [(_EPOCH + timedelta(days=d.day)).date().isoformat() for d in days]
    drift = make_subplots(specs=[[{"secondary_y": True}]])
    drift.add_trace(go.Scatter(x=dates, y=[d.score_p50 for d in days], name="score p50"))
    drift.add_trace(go.Scatter(x=dates, y=[d.score_p90 for d in days], name="score p90"))
    drift.add_trace(
        go.Bar(x=dates, y=[d.psi for d in days], name="PSI", opacity=0.4), secondary_y=True
    )
    for level in (STABLE, SHIFTED):
        drift.add_hline(y=level, line_dash="dot", secondary_y=True)
    drift.update_layout(title="Score drift (PSI against the training holdout)", **LAYOUT)
    drift.update_yaxes(title_text="fraud probability", secondary_y=False)
    drift.update_yaxes(title_text="PSI", secondary_y=True)
    precision = go.Figure()
    for name, values in (
        ("model flags", [d.model_precision for d in days]),
        ("rule flags", [d.rule_precision for d in days]),
    ):
        precision.add_trace(go.Scatter(x=dates, y=values, name=name, mode="lines+markers"))
    precision.update_layout(title="Precision of flags (fraud share of labelled)", **LAYOUT)
    precision.update_yaxes(range=[0, 1])
    return str(drift.to_json()), str(precision.to_json())
