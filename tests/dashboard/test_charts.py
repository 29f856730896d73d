"""The dashboard's figures: valid Plotly JSON with the data they were given."""

from __future__ import annotations

import json

from embedfin.dashboard import charts
from embedfin.dashboard.queries.payments import ChannelFigures
from embedfin.dashboard.queries.sales import DailyPoint


def test_tick_steps_are_round_numbers() -> None:
    assert [charts._round_step(x) for x in (0.2, 1, 1.5, 3, 7, 23, 51, 230)] == [
        1,
        1,
        2,
        5,
        10,
        50,
        100,
        500,
    ]


def test_figures_carry_the_figures_they_were_given() -> None:
    points = [DailyPoint(20_000, 3, 12_345, 2.5), DailyPoint(20_001, 0, 0, None)]
    sales = json.loads(charts.sales(points, "EUR"))
    bars, line = sales["data"]
    assert bars["y"] == [123.45, 0.0]  # major units, exact from minor units
    assert line["y"] == [3, 0]
    assert bars["x"][0] == "2024-10-04"  # day 20,000 of the epoch
    delays = json.loads(charts.settlement(points))
    assert delays["data"][0]["y"] == [2.5]  # days without releases are left out
    rows = [ChannelFigures("card", approved=9, declined=1, top_ups=4, volume_minor=100)]
    success = json.loads(charts.channel_success(rows, {"card": (3, 4), "idle": (0, 0)}))
    live, stored = success["data"]
    assert (live["x"], live["y"], stored["y"]) == (["card"], [75.0], [90.0])
