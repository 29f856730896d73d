"""Credit inside checkout: recorded decisions, pre-approved limits, and financing with them.

Features come from ``credit.pipeline`` (the outbox consumer and the online/batch replay).
``CreditService.decide`` records every decision — outcome, limit, plans, the reasons shown to
the buyer, the model version and the features it saw — under the caller's id (a retry answers
the recorded decision); ``finance`` pays an order with a plan the decision offered, within the
decided amount.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, delete, insert, select

from embedfin.core.errors import InvalidInput, InvalidStateTransition, NotFound
from embedfin.core.events import Event
from embedfin.core.money import Money
from embedfin.credit import registry
from embedfin.credit.decisions import (
    FEATURE_TEXT,
    CreditPolicy,
    Decision,
    DecisionRequest,
    FunderPolicy,
    Outcome,
    ReasonCode,
    decide,
    estimated_monthly_income,
    preapprove,
)
from embedfin.credit.features import FEATURES, BuyerFeatures
from embedfin.credit.pipeline import FeaturePipeline
from embedfin.db.tables import credit_decisions, credit_preapprovals
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.lending.servicing import Lending, Loan
from embedfin.payments.requests import check_name
from embedfin.risk.decision import RiskContext


class CreditService:
    def __init__(
        self,
        lending: Lending,
        model: registry.DecisionModel | None = None,
        policy: CreditPolicy | None = None,
        funders: Sequence[FunderPolicy] = (),
        default_funder: str = "platform",
    ) -> None:
        self.lending = lending
        self.ledger = lending.ledger
        self.tenant = lending.tenant
        self.pipeline = FeaturePipeline(self.ledger)
        self.policy = policy or CreditPolicy()
        self.funders = tuple(funders)
        self.default_funder = default_funder
        self._model = model

    @property
    def model(self) -> registry.DecisionModel:
        if self._model is None:
            with self.ledger.current() as conn:
                self._model = registry.load(conn)
        return self._model

    def decide(self, decision_id: str, buyer_id: str, amount: Money, category: str) -> Decision:
        """Decide credit for one purchase now (recorded; a repeated id answers the first)."""
        return self.decide_many([(decision_id, buyer_id, amount, category)])[0]

    def decide_many(self, requests: Sequence[tuple[str, str, Money, str]]) -> list[Decision]:
        """Decisions for several purchases at one moment — (decision id, buyer, amount,
        category) each — as a batch of checkouts needs them: the outbox is consumed once, the
        buyers' features and obligations are read together, and the decisions are recorded in
        one unit of work. A decision id seen before answers its first decision. One result
        per request, in order."""
        for decision_id, *_ in requests:
            check_name("decision_id", decision_id)
        if not requests:
            return []
        self.pipeline.consume()
        now = self.lending.clock.now_ns()
        today = self.lending.today()
        ids = list(dict.fromkeys(r[0] for r in requests))
        buyers = list(dict.fromkeys(r[1] for r in requests))
        with self.ledger.current() as conn:
            recorded = self._recorded_many(conn, ids)
            features = self.pipeline.online_many(conn, self.tenant, buyers, now)
            owed = self._obligations_many(conn, buyers)
        results: list[Decision] = []
        rows: list[dict[str, object]] = []
        events: list[Event] = []
        for decision_id, buyer_id, amount, category in requests:
            found = recorded.get(decision_id)
            if found is not None:
                if found[0] != buyer_id:
                    raise InvalidInput(f"decision {decision_id} was for another buyer")
                results.append(found[1])
                continue
            request = _decision_request(
                buyer_id, amount, category, today, features[buyer_id], owed.get(buyer_id, 0)
            )
            decision = decide(request, self.model, self.lending.catalog, self.policy, self.funders)
            recorded[decision_id] = (buyer_id, decision)
            results.append(decision)
            rows.append(self._decision_row(decision_id, request, decision, now))
            events.append(self._decided_event(decision_id, buyer_id, decision, now))
        if rows:
            with self.ledger.transaction() as tx:
                tx.conn.execute(insert(credit_decisions), rows)
                tx.emit_all(events)
        return results

    def _decision_row(
        self, decision_id: str, request: DecisionRequest, decision: Decision, now_ns: int
    ) -> dict[str, object]:
        """The ``credit_decisions`` row: what was answered and the features it was answered on."""
        return {
            "tenant": self.tenant,
            "decision_id": decision_id,
            "buyer_id": request.buyer_id,
            "outcome": str(decision.outcome),
            "amount_minor": decision.amount_minor,
            "limit_minor": decision.limit_minor,
            "currency": request.currency,
            "score": str(decision.score),
            "probability_of_default": str(decision.probability_of_default),
            "plans": json.dumps(list(decision.plans)),
            "reasons": json.dumps([asdict(r) for r in decision.reasons]),
            "model_id": decision.model_version,
            "funder_id": decision.funder_id,
            "features": json.dumps(asdict(request.features)),
            "decided_at": now_ns,
        }

    def _decided_event(
        self, decision_id: str, buyer_id: str, decision: Decision, now_ns: int
    ) -> Event:
        """``credit_decided`` for the outbox: reason codes only, never the features."""
        payload: dict[str, object] = {
            "buyer_id": buyer_id,
            "outcome": str(decision.outcome),
            "amount_minor": decision.amount_minor,
            "limit_minor": decision.limit_minor,
            "reasons": [r.code for r in decision.reasons],
            "model_id": decision.model_version,
        }
        return Event("credit_decided", "credit_decision", decision_id, payload, now_ns, self.tenant)

    def _recorded_many(self, conn: Connection, ids: list[str]) -> dict[str, tuple[str, Decision]]:
        """Recorded decisions by id: (buyer, decision)."""
        t = credit_decisions.c
        found = conn.execute(
            select(credit_decisions).where(
                t.tenant == self.tenant, t.decision_id.in_(bindparam("ids", expanding=True))
            ),
            {"ids": ids},
        ).mappings()
        return {r["decision_id"]: (r["buyer_id"], _decision(r)) for r in found}

    def preapprove(self, currency_code: str = "EUR") -> dict[str, int]:
        """Pre-approved limits for every buyer of the tenant, in one batch; a changed limit
        records why (the principal reason for a decrease; "better repayment and spending
        history" for an increase). Returns the limits by buyer."""
        self.pipeline.consume()
        now = self.lending.clock.now_ns()
        features = self.pipeline.batch(self.tenant, now)
        if not features:
            return {}
        ids = sorted(features)
        columns = {
            name: np.array([getattr(features[b], name) for b in ids], dtype=float)
            for name in FEATURES
        }
        limits = preapprove(self.model, columns, self.policy)
        scores = self.model.score_many(columns)
        t = credit_preapprovals.c
        with self.ledger.transaction() as tx:
            previous = {
                row.buyer_id: int(row.limit_minor)
                for row in tx.conn.execute(
                    select(t.buyer_id, t.limit_minor).where(t.tenant == self.tenant)
                ).all()
            }
            rows = []
            for buyer, limit, score in zip(ids, limits.tolist(), scores.tolist(), strict=True):
                before = previous.get(buyer, 0)
                rows.append(
                    {
                        "tenant": self.tenant,
                        "buyer_id": buyer,
                        "currency": currency_code,
                        "limit_minor": int(limit),
                        "previous_limit_minor": before,
                        "score": f"{score:.2f}",
                        "reason": self._limit_change_reason(features[buyer], limit, before),
                        "model_id": self.model.version,
                        "computed_at": now,
                    }
                )
            tx.conn.execute(
                delete(credit_preapprovals).where(t.tenant == self.tenant, t.buyer_id.in_(ids))
            )
            tx.conn.execute(insert(credit_preapprovals), rows)
            self._emit_limit_changes(tx, rows)
        return {b: int(v) for b, v in zip(ids, limits.tolist(), strict=True)}

    def _limit_change_reason(self, features: BuyerFeatures, limit: int, before: int) -> str:
        """Why a pre-approved limit moved: the principal model reason for a decrease."""
        if limit > before:
            return "better repayment and spending history"
        if limit < before:
            top = self.model.reasons(features.as_dict(), top=1)
            return (FEATURE_TEXT.get(top[0].feature, "") if top else "") or "lower score"
        return "unchanged"

    def _emit_limit_changes(self, tx: LedgerTransaction, rows: list[dict[str, Any]]) -> None:
        """``preapproved_limit_changed`` for each buyer whose limit moved, with its reason."""
        changed = [r for r in rows if r["limit_minor"] != r["previous_limit_minor"]]
        for r in changed:
            tx.emit(
                self.tenant,
                "preapproved_limit_changed",
                "buyer",
                str(r["buyer_id"]),
                {
                    "buyer_id": r["buyer_id"],
                    "from_minor": r["previous_limit_minor"],
                    "to_minor": r["limit_minor"],
                    "reason": r["reason"],
                },
            )

    def finance(
        self,
        order_id: str,
        decision_id: str,
        plan_code: str,
        loan_id: str,
        context: RiskContext | None = None,
    ) -> Loan:
        """Pay an order with a plan that decision ``decision_id`` offered (after the risk
        check of paying on credit)."""
        with self.ledger.current() as conn:
            recorded = self._recorded(conn, decision_id)
        if recorded is None:
            raise NotFound(f"no decision {decision_id}")
        decision = _decision(recorded)
        if decision.outcome is Outcome.DECLINE:
            raise InvalidStateTransition(f"decision {decision_id} declined credit")
        if plan_code not in decision.plans:
            raise InvalidInput(f"decision {decision_id} did not offer {plan_code}")
        order = self.lending.checkout.get_order(order_id)
        if order.buyer_id != recorded["buyer_id"]:
            raise InvalidInput(f"decision {decision_id} was for another buyer")
        if order.total_minor > decision.amount_minor:
            raise InvalidInput(f"the order exceeds the {decision.amount_minor} decided")
        funder = decision.funder_id or self.default_funder
        return self.lending.finance_order(order_id, plan_code, funder, loan_id, context=context)

    def _recorded(self, conn: Connection, decision_id: str) -> Any:
        return (
            conn.execute(
                select(credit_decisions).where(
                    credit_decisions.c.tenant == self.tenant,
                    credit_decisions.c.decision_id == decision_id,
                )
            )
            .mappings()
            .first()
        )

    def _obligations_many(self, conn: Connection, buyers: list[str]) -> dict[str, int]:
        """What each buyer owes now on active loans (the monthly figure is a third of it)."""
        return self.lending.owed_by_buyers(conn, buyers)


def _decision_request(
    buyer_id: str,
    amount: Money,
    category: str,
    today: date,
    features: BuyerFeatures,
    outstanding_minor: int,
) -> DecisionRequest:
    """A purchase as ``decide`` sees it; the monthly obligations are a third of what is owed."""
    return DecisionRequest(
        buyer_id,
        amount.amount_minor,
        amount.currency,
        category,
        today,
        features,
        outstanding_minor,
        outstanding_minor // 3,
    )


def _decision(row: Any) -> Decision:
    """A recorded decision as first answered (its income estimate from the features it saw;
    the model's per-feature details are not kept)."""
    seen = BuyerFeatures(**json.loads(row["features"]))
    return Decision(
        Outcome(row["outcome"]),
        float(row["score"]),
        float(row["probability_of_default"]),
        int(row["limit_minor"]),
        int(row["amount_minor"]),
        tuple(json.loads(row["plans"])),
        row["funder_id"],
        tuple(ReasonCode(**r) for r in json.loads(row["reasons"])),
        estimated_monthly_income(seen),
        str(row["model_id"]),
    )


def ensure_champion(ledger: Ledger, synthetic: int = 20_000) -> None:
    """A new installation has no loan outcomes to learn from: register a scorecard trained on
    seeded synthetic buyers as the first champion (replace it with ``embedfin credit train`` on
    real data). Does nothing when the registry holds a model."""
    from embedfin.credit.compiled import CompiledScorecard
    from embedfin.credit.models import ScorecardModel
    from embedfin.credit.synthetic import buyers as synthetic_buyers

    with ledger.current() as conn:
        if registry.list_models(conn):
            return
    data, target = synthetic_buyers(synthetic)
    fitted = ScorecardModel().fit(data, target)
    with ledger.transaction() as tx:
        registry.register(
            tx.conn,
            CompiledScorecard.compile(fitted),
            data_window="bootstrap-synthetic",
            metrics={},
            reference_scores=fitted.score(data),
            now_ns=ledger.clock.now_ns(),
        )
