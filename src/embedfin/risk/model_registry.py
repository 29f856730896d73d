"""The tenant's fraud models: train from labelled decisions, register, promote, load the champion.

The model stack (LightGBM, scikit-learn) is imported when a model is first trained or loaded: a
tenant without a model pays nothing for it. The champion is looked up at most every
``REFRESH_S`` seconds per process, so a promotion reaches every worker within that time.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from embedfin.core.errors import NotFound
from embedfin.db.tables import risk_decisions, risk_models
from embedfin.ledger.service import Ledger

if TYPE_CHECKING:
    from embedfin.risk.model import FraudModel

REFRESH_S = 5.0
_M = risk_models.c


class ModelRegistry:
    def __init__(self, ledger: Ledger, tenant: str) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self._champion: FraudModel | None = None
        self._champion_id: str | None = None
        self._checked = -1e9

    def champion(self, conn: Connection) -> FraudModel | None:
        now = time.monotonic()
        if now - self._checked < REFRESH_S:
            return self._champion
        self._checked = now
        row = conn.execute(
            select(_M.model_id).where(_M.tenant == self.tenant, _M.status == "champion")
        ).first()
        if row is None:
            self._champion, self._champion_id = None, None
        elif row.model_id != self._champion_id:
            self._champion = self._load(conn, row.model_id)
            self._champion_id = row.model_id
        return self._champion

    def _load(self, conn: Connection, model_id: str) -> FraudModel:
        from embedfin.risk.model import FraudModel

        artifact = conn.execute(
            select(_M.artifact).where(_M.tenant == self.tenant, _M.model_id == model_id)
        ).scalar()
        if artifact is None:
            raise NotFound(f"no fraud model {model_id}")
        return FraudModel.from_json(artifact)

    def labelled(self, limit: int = 200_000) -> tuple[list[dict[str, Any]], list[bool]]:
        """The stored decisions with a known label: their features and whether it was fraud."""
        d = risk_decisions.c
        with self.ledger.current() as conn:
            rows = conn.execute(
                select(d.features, d.label)
                .where(d.tenant == self.tenant, d.label.in_(("fraud", "good")))
                .order_by(d.created_at.desc())
                .limit(limit)
            ).all()
        return [json.loads(f) for f, _ in rows], [label == "fraud" for _, label in rows]

    def train(self, *, champion: bool = False, seed: int = 7) -> FraudModel:
        """Train on the labelled decisions and register the model (as champion if asked, or if
        there is none yet; a challenger otherwise)."""
        from embedfin.risk.model import train

        features, labels = self.labelled()
        model = train(features, labels, seed=seed)
        self.register(model, champion=champion)
        return model

    def register(self, model: FraudModel, *, champion: bool) -> None:
        with self.ledger.transaction() as tx:
            has_champion = tx.conn.execute(
                select(_M.model_id).where(_M.tenant == self.tenant, _M.status == "champion")
            ).first()
            promote = champion or has_champion is None
            if promote:
                self._retire_champion(tx.conn)
            tx.conn.execute(
                insert(risk_models).values(
                    tenant=self.tenant,
                    model_id=model.model_id,
                    status="champion" if promote else "challenger",
                    artifact=model.to_json(),
                    metrics=json.dumps(model.metrics, sort_keys=True),
                    created_at=self.ledger.clock.now_ns(),
                )
            )
            tx.emit(self.tenant, "risk_model_registered", "risk_model", model.model_id,
                    {"champion": promote, **model.metrics})  # fmt: skip
        self._checked = -1e9

    def promote(self, model_id: str) -> None:
        with self.ledger.transaction() as tx:
            found = tx.conn.execute(
                select(_M.model_id).where(_M.tenant == self.tenant, _M.model_id == model_id)
            ).first()
            if found is None:
                raise NotFound(f"no fraud model {model_id}")
            self._retire_champion(tx.conn)
            tx.conn.execute(
                update(risk_models)
                .where(_M.tenant == self.tenant, _M.model_id == model_id)
                .values(status="champion")
            )
        self._checked = -1e9

    def _retire_champion(self, conn: Connection) -> None:
        conn.execute(
            update(risk_models)
            .where(_M.tenant == self.tenant, _M.status == "champion")
            .values(status="challenger")
        )

    def list(self) -> list[dict[str, Any]]:
        with self.ledger.current() as conn:
            rows = conn.execute(
                select(_M.model_id, _M.status, _M.metrics, _M.created_at)
                .where(_M.tenant == self.tenant)
                .order_by(_M.created_at.desc())
            ).all()
        return [
            {
                "id": r.model_id,
                "status": r.status,
                "metrics": json.loads(r.metrics),
                "created_at": r.created_at,
            }  # fmt: skip
            for r in rows
        ]
