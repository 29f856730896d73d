"""Stress tests on the tenant's exposure network: its summary and a scenario's figures."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class EdgeKindOut(BaseModel):
    edges: int
    amount: int


class ExposuresOut(BaseModel):
    object: Literal["exposure_network"] = "exposure_network"
    currencies: list[str]
    nodes_by_kind: dict[str, int]
    edges_by_kind: dict[str, EdgeKindOut]


class StressOut(BaseModel):
    """A scenario at a severity, cleared (``systemic/scenarios.py`` states the baseline)."""

    object: Literal["stress_result"] = "stress_result"
    scenario: str
    severity: float
    currency: str
    shocked: list[str]
    first_round: int
    second_round: int
    losses_by_sector: dict[str, int]
    defaults_by_sector: dict[str, int]
    platform_shortfall: int
    platform_defaults: bool
    rounds: int
    breaking_severity: float | None
    baseline: str


class RunDayOut(BaseModel):
    day: int
    requested: int
    paid: int
    cash: int
    facility_left: int
    sold: int


class RunArmOut(BaseModel):
    shortfall_day: int | None
    redeemed_share: float
    fire_sale_loss: int
    days: list[RunDayOut]


class FundRunOut(BaseModel):
    """A run on a live fund (``systemic/runs.py``): as given, under a T+0 cap, with a buffer."""

    object: Literal["fund_run"] = "fund_run"
    fund: str
    holdings: int
    cash: int
    facility: int
    assets: int
    arms: dict[str, RunArmOut]
