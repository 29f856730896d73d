"""The model registry: versioned compiled scorecards, champion/challenger, drift (PSI).

A registered model is stored as JSON (bins and points only — no pickled code is ever loaded),
with its SHA-256, the data window it was trained on, its validation metrics, its features and
the scores of its reference population (for drift). Exactly one model is the champion (it makes
the decisions); any number are challengers; ``promote`` switches them in one transaction.
Loading verifies the hash, so an edited artifact is refused.

PSI (population stability index, ``core/drift.py``) compares today's score distribution with
the reference: below 0.1 stable, 0.1-0.25 watch, above 0.25 retrain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Connection, insert, select, update

from embedfin.core.drift import psi as psi
from embedfin.core.errors import ConfigurationError, NotFound
from embedfin.credit.compiled import CompiledFeature, CompiledScorecard
from embedfin.credit.gbm import GbmDecisionModel
from embedfin.credit.models import Reason, Scaling
from embedfin.db.tables import credit_models


@dataclass(frozen=True, slots=True)
class ModelRecord:
    model_id: str
    kind: str
    status: str
    data_window: str
    metrics: Mapping[str, float]
    features: list[str]
    sha256: str
    created_at_ns: int


def to_json(model: CompiledScorecard) -> str:
    return json.dumps(
        {
            "scaling": [model.scaling.pdo, model.scaling.base_points, model.scaling.base_odds],
            "features": [
                {
                    "name": f.name,
                    "splits": list(f.splits) if f.splits is not None else None,
                    "points": list(f.points),
                    "labels": list(f.labels),
                    "categories": dict(f.categories) if f.categories is not None else None,
                    "missing_points": f.missing_points,
                    "best_points": f.best_points,
                    "woe": list(f.woe),
                    "category_woe": dict(f.category_woe) if f.category_woe is not None else None,
                    "missing_woe": f.missing_woe,
                }
                for f in model.features
            ],
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def from_json(text: str, version: str) -> CompiledScorecard:
    data = json.loads(text)
    features = tuple(
        CompiledFeature(
            f["name"],
            tuple(f["splits"]) if f["splits"] is not None else None,
            tuple(f["points"]),
            tuple(f["labels"]),
            {k: (v[0], v[1]) for k, v in f["categories"].items()}
            if f["categories"] is not None
            else None,
            f["missing_points"],
            f["best_points"],
            tuple(f.get("woe", ())),
            f.get("category_woe"),
            f.get("missing_woe", 0.0),
        )
        for f in data["features"]
    )
    return CompiledScorecard(features, Scaling(*data["scaling"]), version)


class DecisionModel(Protocol):
    """What a decision needs of a model: the scorecard or the promoted challenger."""

    @property
    def version(self) -> str: ...

    def score_one(self, applicant: Mapping[str, object]) -> float: ...

    def probability_of_default(self, score: float) -> float: ...

    def reasons(self, applicant: Mapping[str, object], top: int = 4) -> list[Reason]: ...

    def score_many(self, columns: Mapping[str, Sequence[float] | np.ndarray]) -> np.ndarray: ...


def gbm_to_json(model: GbmDecisionModel) -> str:
    return model.to_json(to_json(model.scorecard))


def gbm_from_json(text: str, version: str) -> GbmDecisionModel:
    data = json.loads(text)
    scorecard = from_json(data["scorecard"], version)
    a, b = data["platt"]
    return GbmDecisionModel(scorecard, data["booster"], (float(a), float(b)), version)


def register(
    conn: Connection,
    model: CompiledScorecard | GbmDecisionModel,
    *,
    data_window: str,
    metrics: Mapping[str, float],
    reference_scores: Sequence[float] | np.ndarray,
    now_ns: int,
    kind: str = "scorecard",
) -> ModelRecord:
    """Store a model; the first one becomes the champion, later ones challengers."""
    if isinstance(model, GbmDecisionModel):
        artifact, kind, prefix = gbm_to_json(model), "gbm", "gbm"
        features = [f.name for f in model.scorecard.features]
    else:
        artifact, prefix = to_json(model), "csm"
        features = [f.name for f in model.features]
    digest = hashlib.sha256(artifact.encode()).hexdigest()
    model_id = f"{prefix}_{digest[:20]}"
    found = conn.execute(
        select(credit_models.c.model_id).where(credit_models.c.model_id == model_id)
    ).first()
    if found is None:
        has_champion = conn.execute(
            select(credit_models.c.model_id).where(credit_models.c.status == "champion")
        ).first()
        sample = np.asarray(reference_scores, dtype=float)
        if sample.size > 5_000:
            sample = np.quantile(sample, np.linspace(0, 1, 5_000))
        conn.execute(
            insert(credit_models).values(
                model_id=model_id,
                kind=kind,
                status="challenger" if has_champion else "champion",
                data_window=data_window,
                metrics=json.dumps(dict(metrics), sort_keys=True),
                features=json.dumps(features),
                sha256=digest,
                artifact=artifact,
                reference_scores=json.dumps([round(float(s), 3) for s in sample]),
                created_at=now_ns,
            )
        )
    return record(conn, model_id)


def record(conn: Connection, model_id: str) -> ModelRecord:
    row = conn.execute(select(credit_models).where(credit_models.c.model_id == model_id)).first()
    if row is None:
        raise NotFound(f"no model {model_id}")
    return _record(row)


def _record(row: Any) -> ModelRecord:
    return ModelRecord(
        row.model_id,
        row.kind,
        row.status,
        row.data_window,
        json.loads(row.metrics),
        json.loads(row.features),
        row.sha256,
        row.created_at,
    )


def list_models(conn: Connection) -> list[ModelRecord]:
    rows = conn.execute(select(credit_models).order_by(credit_models.c.created_at.desc())).all()
    return [_record(r) for r in rows]


def promote(conn: Connection, model_id: str) -> ModelRecord:
    """Make ``model_id`` the champion; the previous champion becomes a challenger."""
    record(conn, model_id)
    conn.execute(
        update(credit_models)
        .where(credit_models.c.status == "champion")
        .values(status="challenger")
    )
    conn.execute(
        update(credit_models).where(credit_models.c.model_id == model_id).values(status="champion")
    )
    return record(conn, model_id)


def load(conn: Connection, model_id: str | None = None) -> DecisionModel:
    """The champion (or a given model), its hash verified."""
    query = select(credit_models)
    query = (
        query.where(credit_models.c.model_id == model_id)
        if model_id
        else query.where(credit_models.c.status == "champion")
    )
    row = conn.execute(query).first()
    if row is None:
        raise NotFound("no champion model registered" if model_id is None else f"no {model_id}")
    if hashlib.sha256(row.artifact.encode()).hexdigest() != row.sha256:
        raise ConfigurationError(f"model {row.model_id} does not match its hash: refused")
    if row.kind == "gbm":
        return gbm_from_json(row.artifact, row.model_id)
    return from_json(row.artifact, row.model_id)


def drift(conn: Connection, model_id: str, current_scores: Sequence[float] | np.ndarray) -> float:
    row = conn.execute(
        select(credit_models.c.reference_scores).where(credit_models.c.model_id == model_id)
    ).first()
    if row is None:
        raise NotFound(f"no model {model_id}")
    return psi(json.loads(row.reference_scores), current_scores)
