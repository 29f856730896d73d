"""A scan scored against ground truth: per typology recall and precision, and F1 overall.

* **Transaction recall** of a typology: the share of its laundering transactions that an alert
  *of the same typology* names. **Instance recall**: the share of its injected instances with
  at least half their transactions in such an alert.
* **Precision** of a typology's alerts: the share of the transactions they name that are
  laundering of any typology (a fan-in alert on a gather-scatter's hub is a right alert of
  the wrong name; a person reviewing it looks at suspicious money either way). Account-level
  figures are the same over accounts.
* **Minority-class F1** over all transactions: laundering (any typology) against the set of
  transactions named by any alert — the figure the AMLworld benchmarks publish.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from embedfin.compliance.aml.alerts import TYPOLOGIES, Alert


@dataclass(frozen=True, slots=True)
class TypologyFigures:
    typology: str
    instances: int
    instances_found: int
    tx_recall: float
    tx_precision: float | None
    account_recall: float
    account_precision: float | None
    alerts: int

    @property
    def instance_recall(self) -> float:
        return self.instances_found / self.instances if self.instances else 1.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    by_typology: dict[str, TypologyFigures]
    f1: float
    precision: float
    recall: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "f1": round(self.f1, 4),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "typologies": {
                name: {
                    "instances": f.instances,
                    "instance_recall": round(f.instance_recall, 4),
                    "tx_recall": round(f.tx_recall, 4),
                    "tx_precision": None if f.tx_precision is None else round(f.tx_precision, 4),
                    "account_recall": round(f.account_recall, 4),
                    "account_precision": (
                        None if f.account_precision is None else round(f.account_precision, 4)
                    ),
                    "alerts": f.alerts,
                }
                for name, f in self.by_typology.items()
            },
        }


def evaluate(
    alerts: list[Alert],
    truth: dict[int, tuple[str, int]],
    accounts_of: dict[int, tuple[str, str]],
) -> Evaluation:
    """``truth``: laundering row number → (typology, instance); ``accounts_of``: row number →
    (src, dst) for every laundering row and every alerted row."""
    laundering_rows = set(truth)
    laundering_accounts = {a for row in truth for a in accounts_of[row]}
    rows_of: dict[tuple[str, int], set[int]] = defaultdict(set)
    for row, key in truth.items():
        rows_of[key].add(row)
    figures: dict[str, TypologyFigures] = {}
    for typology in TYPOLOGIES:
        own = [a for a in alerts if a.typology == typology]
        alerted = {r for a in own for r in a.rows}
        alerted_accounts = {acct for a in own for acct in a.accounts}
        truth_rows = {r for r, (t, _) in truth.items() if t == typology}
        truth_accounts = {a for r in truth_rows for a in accounts_of[r]}
        instances = [rows for (t, _), rows in rows_of.items() if t == typology]
        found = sum(1 for rows in instances if 2 * len(rows & alerted) >= len(rows))
        figures[typology] = TypologyFigures(
            typology,
            len(instances),
            found,
            len(truth_rows & alerted) / len(truth_rows) if truth_rows else 1.0,
            len(alerted & laundering_rows) / len(alerted) if alerted else None,
            len(truth_accounts & alerted_accounts) / len(truth_accounts) if truth_accounts else 1.0,
            (
                len(alerted_accounts & laundering_accounts) / len(alerted_accounts)
                if alerted_accounts
                else None
            ),
            len(own),
        )
    flagged = {r for a in alerts for r in a.rows}
    hit = len(flagged & laundering_rows)
    precision = hit / len(flagged) if flagged else 0.0
    recall = hit / len(laundering_rows) if laundering_rows else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Evaluation(figures, f1, precision, recall)
