"""Scenarios as TOML files (``sim/scenarios/*.toml`` ship with embedfin; any path works)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from embedfin.core.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Scenario:
    """Attributes:
    mode: ``gateway`` (card payment per order behind a redirect) or ``fused`` (wallet +
        escrow checkout, routed top-ups).
    payout_cycle_days: 0 for real-time (T+0) settlement; N for a T+1 batch every N days.
    redirect_abandon: share of shoppers lost at a payment redirect (price-sensitive ones
        more so).
    installment_demand: share of purchases whose buyer would like to pay in installments (the
        same buyers in every scenario of one seed).
    embedded_credit: credit is decided and offered inside checkout (decisions, plans, loans on
        the ledger); without it those buyers pay in full.
    honest_share: buyers who repay their installments on time (the rest stop paying).
    funder_deposit: lending cash the platform's funder deposits at the start (minor units).
    """

    name: str
    seed: int = 7
    days: int = 21
    consumers: int = 300
    merchants: int = 20
    currency: str = "EUR"
    mode: str = "fused"
    payout_cycle_days: int = 0
    redirect_abandon: float = 0.0
    installment_demand: float = 0.0
    embedded_credit: bool = False
    honest_share: float = 0.95
    funder_deposit: int = 100_000_000

    def __post_init__(self) -> None:
        if self.mode not in ("fused", "gateway"):
            raise InvalidInput("mode must be fused or gateway")
        if not (1 <= self.days <= 3_650 and 1 <= self.consumers <= 10_000_000):
            raise InvalidInput("days must be 1-3,650 and consumers 1-10,000,000")
        if not 1 <= self.merchants <= 100_000 or self.payout_cycle_days < 0:
            raise InvalidInput("merchants must be 1-100,000 and the payout cycle non-negative")
        if not 0 <= self.redirect_abandon < 1:
            raise InvalidInput("redirect_abandon is a share in [0, 1)")
        if not (0 <= self.installment_demand <= 1 and 0 <= self.honest_share <= 1):
            raise InvalidInput("installment_demand and honest_share are shares in [0, 1]")
        if self.embedded_credit and self.mode != "fused":
            raise InvalidInput("embedded credit needs the fused checkout")
        if self.funder_deposit <= 0:
            raise InvalidInput("funder_deposit must be positive")

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Scenario:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(f"unknown scenario keys: {sorted(unknown)}")
        return cls(**data)

    def scaled(self, **changes: Any) -> Scenario:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load(name_or_path: str) -> Scenario:
    """A shipped scenario by name (``gateway``, ``fused``) or a TOML file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        text = path.read_text()
    else:
        shipped = resources.files("embedfin.sim").joinpath(f"scenarios/{name_or_path}.toml")
        if not shipped.is_file():
            raise InvalidInput(f"no scenario {name_or_path!r} (shipped: gateway, fused)")
        text = shipped.read_text()
    try:
        return Scenario.from_mapping(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"scenario is not valid TOML: {error}") from error
