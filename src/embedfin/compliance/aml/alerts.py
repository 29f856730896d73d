"""An alert: which typology, which accounts and transactions, which window, how much and why."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from embedfin.compliance.aml.transactions import SECONDS_PER_STEP

TYPOLOGIES = (
    "fan_out",
    "fan_in",
    "cycle",
    "scatter_gather",
    "gather_scatter",
    "bipartite",
    "stack",
    "pass_through",
    "structuring",
    "smurfing",
)


@dataclass(frozen=True, slots=True)
class Alert:
    """Attributes:
    typology: one of :data:`TYPOLOGIES`.
    accounts: the accounts involved, sorted.
    rows: the file's 1-based data rows of the transactions, sorted.
    start_t, end_t: the window, seconds (Unix time, or step × 86,400).
    amount: the transactions' total, in ``currency`` (``''`` when the file has none).
    score: 0..1; 0.5 at the detector's threshold, nearer 1 the further past it.
    reasons: why, in words, with the figures.
    """

    typology: str
    accounts: tuple[str, ...]
    rows: tuple[int, ...]
    start_t: int
    end_t: int
    amount: Decimal
    currency: str
    score: float
    reasons: tuple[str, ...]


def strength_score(strength: float) -> float:
    """``strength`` = how far past its threshold (1 = at it) as a 0..1 score: 0.5 at 1."""
    strength = max(strength, 0.0)
    return round(strength / (1.0 + strength), 4)


def _when(t: int, unit: str) -> str | int:
    if unit == "step":
        return t // SECONDS_PER_STEP
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _money(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def to_json(alert: Alert, unit: str, tx_ids: dict[int, str] | None) -> dict[str, Any]:
    """One output line: ``transactions`` are the file's ``tx_id``s, or its row numbers when
    it has none (``tx_ids`` is ``None``)."""
    transactions: list[Any] = (
        [tx_ids[r] for r in alert.rows] if tx_ids is not None else list(alert.rows)
    )
    return {
        "typology": alert.typology,
        "accounts": list(alert.accounts),
        "transactions": transactions,
        "window": {"start": _when(alert.start_t, unit), "end": _when(alert.end_t, unit)},
        "amount": _money(alert.amount),
        "currency": alert.currency,
        "score": alert.score,
        "reasons": list(alert.reasons),
    }


def dumps(line: dict[str, Any]) -> str:
    return json.dumps(line, sort_keys=False, ensure_ascii=False)
