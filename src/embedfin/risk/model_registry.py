"""The tenant's fraud models: train from labelled decisions, register, promote, load the champion.

The model stack (LightGBM, scikit-learn) is imported when a model is first trained or loaded: a
tenant without a model pays nothing for it. The champion is looked up at most every
``REFRESH_S`` seconds per process, so a promotion reaches every worker within that time.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, text, update

from embedfin.core.errors import NotFound
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import risk_decisions, risk_models
from embedfin.ledger.service import Ledger

if TYPE_CHECKING:
    from embedfin.risk.model import FraudModel
    from embedfin.risk.monitoring import DailyModelFigures

REFRESH_S = 5.0
_M = risk_models.c
_CHAMPION_LOCK_CLASS = 0x524D  # "RM": a tenant's risk models


class ModelRegistry:
    def __init__(self, ledger: Ledger, tenant: str) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self._champion: FraudModel | None = None
        self._champion_id: str | None = None
        self._loaded: dict[str, FraudModel] = {}
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

    def load(self, conn: Connection, model_id: str) -> FraudModel:
        """One of the tenant's models by id (a stored model never changes: kept once read)."""
        if model_id == self._champion_id and self._champion is not None:
            return self._champion
        found = self._loaded.get(model_id)
        if found is None:
            found = self._loaded[model_id] = self._load(conn, model_id)
        return found

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
        """Store a trained model (the same model again — training on the same labels — is
        stored once, and promoted if asked)."""
        with self.ledger.transaction() as tx:
            self._lock(tx.conn)
            has_champion = tx.conn.execute(
                select(_M.model_id).where(_M.tenant == self.tenant, _M.status == "champion")
            ).first()
            inserted = insert_if_absent(
                tx.conn,
                risk_models,
                {
                    "tenant": self.tenant,
                    "model_id": model.model_id,
                    "status": "challenger",
                    "artifact": model.to_json(),
                    "metrics": json.dumps(model.metrics, sort_keys=True),
                    "created_at": self.ledger.clock.now_ns(),
                },
            )
            promote = champion or (inserted and has_champion is None)
            if promote:
                self._make_champion(tx.conn, model.model_id)
            if inserted:
                tx.emit(self.tenant, "risk_model_registered", "risk_model", model.model_id,
                        {"champion": promote, **model.metrics})  # fmt: skip
        self._checked = -1e9

    def promote(self, model_id: str) -> None:
        with self.ledger.transaction() as tx:
            self._lock(tx.conn)
            found = tx.conn.execute(
                select(_M.model_id).where(_M.tenant == self.tenant, _M.model_id == model_id)
            ).first()
            if found is None:
                raise NotFound(f"no fraud model {model_id}")
            self._make_champion(tx.conn, model_id)
            tx.emit(self.tenant, "risk_model_promoted", "risk_model", model_id, {})
        self._checked = -1e9

    def _lock(self, conn: Connection) -> None:
        """One change of the tenant's champion at a time: on PostgreSQL a transaction-scoped
        advisory lock per tenant (in its own class), held to commit — two promotions at once
        would each retire the other's champion before either committed; SQLite has one
        writer anyway."""
        if conn.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(self.tenant.encode()).digest()[:4], "big")
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:c, :k)"),
                {"c": _CHAMPION_LOCK_CLASS, "k": key - (1 << 31)},
            )

    def _make_champion(self, conn: Connection, model_id: str) -> None:
        self._retire_champion(conn)
        conn.execute(
            update(risk_models)
            .where(_M.tenant == self.tenant, _M.model_id == model_id)
            .values(status="champion")
        )

    def _retire_champion(self, conn: Connection) -> None:
        conn.execute(
            update(risk_models)
            .where(_M.tenant == self.tenant, _M.status == "champion")
            .values(status="challenger")
        )

    def monitoring(self, days: int = 30) -> list[DailyModelFigures]:
        """The last ``days`` days' figures against the champion (``risk/monitoring.py``)."""
        from embedfin.risk.monitoring import DAY_NS, MonitoredDecision, daily_figures

        d = risk_decisions.c
        since = self.ledger.clock.now_ns() - days * DAY_NS
        with self.ledger.current() as conn:
            champion = self.champion(conn)
            rows = conn.execute(
                select(d.created_at, d.score, d.reasons, d.live_hits, d.label)
                .where(d.tenant == self.tenant, d.created_at >= since)
                .execution_options(yield_per=5_000)
            )
            decisions = [
                MonitoredDecision(
                    int(at),
                    None if score is None else float(score),
                    '"model_score"' in reasons,
                    live_hits != "[]",
                    label,
                )
                for at, score, reasons, live_hits, label in rows
            ]
        reference = champion.reference_scores if champion is not None else ()
        return daily_figures(decisions, reference)

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
