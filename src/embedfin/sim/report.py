"""Simulation reports: one JSON document and a self-contained HTML page (Plotly, its JavaScript
embedded: no CDN) comparing scenarios on the seed's measurable claims."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from embedfin.sim.metrics import Report

#: (field, title, better when) — what the comparison shows.
CLAIMS = (
    ("gmv_minor", "GMV (minor units)", "higher"),
    ("checkout_conversion", "Checkout conversion", "higher"),
    ("payment_success_rate", "Payment success rate", "higher"),
    ("payment_cost_per_order_minor", "Payment cost per order (minor units)", "lower"),
    ("settlement_delay_days", "Settlement delay (days)", "lower"),
    ("merchant_cash_cycle_days", "Merchant cash cycle (days)", "lower"),
    ("credit_access_thin_file", "Credit access, thin-file buyers", "higher"),
    ("loans_in_arrears_rate", "Loans in arrears at the end", "lower"),
)


def as_json(reports: Sequence[Report]) -> dict[str, Any]:
    return {
        "scenarios": [dataclasses.asdict(r) for r in reports],
        "claims": [
            {
                "metric": field,
                "title": title,
                "better": better,
                "values": {r.scenario: getattr(r, field) for r in reports},
            }
            for field, title, better in CLAIMS
        ],
    }


def html(reports: Sequence[Report]) -> str:
    claim_rows = -(-len(CLAIMS) // 3)  # the claims' bars, three a row; then the daily lines
    rows = claim_rows + 1
    titles = [title for _, title, _ in CLAIMS]
    titles += [""] * (claim_rows * 3 - len(CLAIMS)) + ["GMV per day", "Orders per day", ""]
    figure = make_subplots(rows=rows, cols=3, subplot_titles=titles, vertical_spacing=0.08)
    colours = ["#4c78a8", "#f58518", "#54a24b", "#e45756"]
    names = [r.scenario for r in reports]
    for i, (field, _, _) in enumerate(CLAIMS):
        figure.add_trace(
            go.Bar(
                x=names,
                y=[getattr(r, field) for r in reports],
                marker_color=colours[: len(reports)],
                showlegend=False,
            ),
            row=i // 3 + 1,
            col=i % 3 + 1,
        )
    for r, colour in zip(reports, colours, strict=False):
        days = list(range(1, r.days + 1))
        figure.add_trace(
            go.Scatter(x=days, y=r.daily_gmv_minor, name=r.scenario, line={"color": colour}),
            row=rows,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=days, y=r.daily_orders, name=r.scenario, line={"color": colour}, showlegend=False
            ),
            row=rows,
            col=2,
        )
    figure.update_layout(height=330 * rows, title="embedfin simulation: " + " vs ".join(names))
    table = "".join(
        f"<tr><td>{title}</td>"
        + "".join(f"<td>{getattr(r, field)}</td>" for r in reports)
        + f"<td>{better}</td></tr>"
        for field, title, better in CLAIMS
    )
    head = "".join(f"<th>{n}</th>" for n in names)
    charts = str(figure.to_html(full_html=False, include_plotlyjs=True))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>embedfin simulation</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}</style></head><body>"
        f"<h1>Simulation report</h1><table><tr><th>claim</th>{head}<th>better</th></tr>{table}"
        "</table>" + charts + "</body></html>"
    )


def write(reports: Sequence[Report], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "report.json", folder / "report.html"
    json_path.write_text(json.dumps(as_json(reports), indent=2))
    html_path.write_text(html(reports))
    return json_path, html_path
