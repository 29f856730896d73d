"""Risk's rows: rule-set versions and decisions, read and written inside a unit of work."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update

from embedfin.core.errors import InvalidStateTransition, NotFound
from embedfin.db.statements import insert_if_absent, insert_many_if_absent
from embedfin.db.tables import risk_decisions, risk_rule_sets
from embedfin.risk.decision import Action, Reason, RiskDecision, RiskSubject, RuleHit
from embedfin.risk.features import FeatureVector
from embedfin.risk.rules import Rule, RuleSet

_D = risk_decisions.c


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A decision as stored, with where it stands now.

    Attributes:
        decision_id: its id (one per operation: the subject's kind and reference).
        kind, reference, buyer_id, merchant_id, amount_minor, currency, payment_method: the
            subject it decided.
        action: what the check answered.
        score: the model's probability, when a model scored.
        reasons: reason codes and messages, most severe first.
        features: the feature values it saw.
        live_hits, shadow_hits: the rule ids that fired.
        rule_set_version: the rule set that decided.
        status: ``decided``; ``challenged`` → ``challenge_passed`` / ``challenge_failed``
            (``challenge_carried``: a challenge already passed on this operation stands;
            ``release_carried``: a person released the same operation within a day);
            ``held`` → ``released`` / ``refunded`` (a case decided it); ``degraded`` when the
            counters were down and only the request was scored.
        label: ``fraud``, ``good`` or ``unknown``.
        created_at: ns.
    """

    decision_id: str
    kind: str
    reference: str
    buyer_id: str | None
    merchant_id: str | None
    amount_minor: int
    currency: str
    payment_method: str
    action: Action
    score: float | None
    reasons: list[dict[str, Any]]
    features: dict[str, Any]
    live_hits: list[str]
    shadow_hits: list[str]
    rule_set_version: int
    status: str
    label: str
    created_at: int

    @property
    def effective_action(self) -> Action:
        """What the operation does now: a passed challenge or a case decided for the customer
        turns the answer into an allow; a failed challenge into a block."""
        if self.status in _ALLOWED_NOW:
            return Action.ALLOW
        if self.status in ("challenge_failed", "refunded", "rejected"):
            return Action.BLOCK
        return self.action

    def reason_codes(self) -> tuple[str, ...]:
        return tuple(str(r["code"]) for r in self.reasons)


_ALLOWED_NOW = ("challenge_passed", "challenge_carried", "released", "release_carried")


def _hits(hits: Sequence[RuleHit]) -> str:
    return json.dumps([f"{hit.rule_id}@{hit.rule_version}" for hit in hits])


def insert_decision(
    conn: Connection,
    decision_id: str,
    subject: RiskSubject,
    features: FeatureVector,
    decision: RiskDecision,
    status: str,
    at: int,
) -> StoredDecision | None:
    """Store a new decision; ``None`` when one with this id exists already."""
    values = _decision_values(decision_id, subject, features, decision, status, at)
    if not insert_if_absent(conn, risk_decisions, values):
        return None  # a concurrent check of the same operation stored its decision first
    return _fresh(values, features, decision)


def _decision_values(
    decision_id: str,
    subject: RiskSubject,
    features: FeatureVector,
    decision: RiskDecision,
    status: str,
    at: int,
) -> dict[str, Any]:
    reasons = [_reason(reason) for reason in decision.reasons]
    return {
        "tenant": subject.tenant,
        "decision_id": decision_id,
        "kind": subject.kind.value,
        "reference": subject.reference or decision_id,
        "buyer_id": subject.buyer_id,
        "merchant_id": subject.merchant_id,
        "amount_minor": subject.amount_minor,
        "currency": subject.currency,
        "payment_method": subject.payment_method,
        "action": decision.action.value,
        "score": decision.score,
        "reasons": json.dumps(reasons, sort_keys=True),
        "features": json.dumps(dict(features.by_name), sort_keys=True),
        "live_hits": _hits(decision.live_hits),
        "shadow_hits": _hits(decision.shadow_hits),
        "rule_set_version": decision.rule_set_version,
        "status": status,
        "label": "unknown",
        "created_at": at,
    }


def insert_decisions(
    conn: Connection,
    rows: Sequence[tuple[str, RiskSubject, FeatureVector, RiskDecision, str, int]],
) -> dict[str, StoredDecision]:
    """``insert_decision`` of many (id, subject, features, decision, status, at) in one
    statement; the ones stored, by id (one a concurrent check stored first is left out)."""
    values = [_decision_values(*row) for row in rows]
    if not values:
        return {}
    inserted = {
        decision_id for _, decision_id in insert_many_if_absent(conn, risk_decisions, values)
    }
    return {
        v["decision_id"]: _fresh(v, features, decision)
        for v, (_, _, features, decision, _, _) in zip(values, rows, strict=True)
        if v["decision_id"] in inserted
    }


def _fresh(
    values: Mapping[str, Any], features: FeatureVector, decision: RiskDecision
) -> StoredDecision:
    """The decision just stored, from what was written rather than parsed back from its JSON
    (the same values: ``_stored`` of the row reads them equal)."""
    return StoredDecision(
        values["decision_id"], values["kind"], values["reference"], values["buyer_id"],
        values["merchant_id"], values["amount_minor"], values["currency"],
        values["payment_method"], decision.action, decision.score,
        [_reason(reason) for reason in decision.reasons], dict(features.by_name),
        [f"{hit.rule_id}@{hit.rule_version}" for hit in decision.live_hits],
        [f"{hit.rule_id}@{hit.rule_version}" for hit in decision.shadow_hits],
        decision.rule_set_version, values["status"], values["label"], values["created_at"],
    )  # fmt: skip


def _reason(reason: Reason) -> dict[str, Any]:
    stored = {"code": reason.code, "message": reason.message, "features": dict(reason.features)}
    if reason.explained_by is not None:  # its features are computed when it is read
        stored["explained_by"] = reason.explained_by
    return stored


def _stored(row: Any) -> StoredDecision:
    return StoredDecision(
        row["decision_id"],
        row["kind"],
        row["reference"],
        row["buyer_id"],
        row["merchant_id"],
        int(row["amount_minor"]),
        row["currency"],
        row["payment_method"],
        Action(row["action"]),
        None if row["score"] is None else float(row["score"]),
        json.loads(row["reasons"]),
        json.loads(row["features"]),
        json.loads(row["live_hits"]),
        json.loads(row["shadow_hits"]),
        int(row["rule_set_version"]),
        row["status"],
        row["label"],
        int(row["created_at"]),
    )


# Statements on the check's path, built once with their values bound at execution: building
# one per call costs more than running it.
_BY_ID = select(risk_decisions).where(_D.tenant == bindparam("t"), _D.decision_id == bindparam("d"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()


def load_decision(
    conn: Connection, tenant: str, decision_id: str, *, for_update: bool = False
) -> StoredDecision | None:
    query = _BY_ID_FOR_UPDATE if for_update else _BY_ID
    row = conn.execute(query, {"t": tenant, "d": decision_id}).mappings().first()
    return None if row is None else _stored(row)


def set_decision(conn: Connection, tenant: str, decision_id: str, **values: str) -> None:
    conn.execute(
        update(risk_decisions)
        .where(_D.tenant == tenant, _D.decision_id == decision_id)
        .values(**values)
    )


_OPERATION = (
    select(risk_decisions)
    .where(
        _D.tenant == bindparam("t"),
        _D.reference == bindparam("r"),
        _D.kind == bindparam("k"),
        or_(
            _D.decision_id == bindparam("d"),
            _D.status.in_(("challenge_passed", "challenge_failed", "challenged")),
        ),
    )
    .with_for_update()
)


def load_attempt(
    conn: Connection, tenant: str, decision_id: str, kind: str, reference: str
) -> tuple[StoredDecision | None, str | None]:
    """One read for a check: this attempt's stored decision (locked for the unit of work), and
    what earlier attempts at the same operation made of their challenges: ``passed`` (any
    passed), else ``failed`` (any failed), else ``pending`` (one still asked), else ``None``."""
    found: StoredDecision | None = None
    statuses: set[str] = set()
    params = {"t": tenant, "r": reference, "k": kind, "d": decision_id}
    for row in conn.execute(_OPERATION, params).mappings():
        if row["decision_id"] == decision_id:
            found = _stored(row)
        else:
            statuses.add(row["status"])
    return found, _step_up(statuses)


_OPERATIONS = (
    select(risk_decisions)
    .where(
        _D.tenant == bindparam("t"),
        _D.reference.in_(bindparam("r", expanding=True)),
        or_(
            _D.decision_id.in_(bindparam("d", expanding=True)),
            _D.status.in_(("challenge_passed", "challenge_failed", "challenged")),
        ),
    )
    .with_for_update()
)


def load_attempts(
    conn: Connection, tenant: str, attempts: Sequence[tuple[str, str, str]]
) -> dict[str, tuple[StoredDecision | None, str | None]]:
    """``load_attempt`` of many (decision id, kind, reference) in one read (locked likewise)."""
    if not attempts:
        return {}
    wanted = {decision_id for decision_id, _, _ in attempts}
    references = sorted({reference for _, _, reference in attempts})
    params = {"t": tenant, "r": references, "d": sorted(wanted)}
    stored: dict[str, StoredDecision] = {}
    statuses: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in conn.execute(_OPERATIONS, params).mappings():
        statuses.setdefault((row["kind"], row["reference"]), []).append(
            (row["decision_id"], row["status"])
        )
        if row["decision_id"] in wanted:
            stored[row["decision_id"]] = _stored(row)
    found: dict[str, tuple[StoredDecision | None, str | None]] = {}
    for decision_id, kind, reference in attempts:
        others = {st for d, st in statuses.get((kind, reference), []) if d != decision_id}
        found[decision_id] = (stored.get(decision_id), _step_up(others))
    return found


def _step_up(found: set[str]) -> str | None:
    for status, state in (
        ("challenge_passed", "passed"),
        ("challenge_failed", "failed"),
        ("challenged", "pending"),
    ):
        if status in found:
            return state
    return None


def settle_challenged(
    conn: Connection, tenant: str, kind: str, reference: str, status: str
) -> None:
    """Every decision of this operation still waiting on its challenge gets the answer."""
    conn.execute(
        update(risk_decisions)
        .where(
            _D.tenant == tenant,
            _D.reference == reference,
            _D.kind == kind,
            _D.status == "challenged",
        )
        .values(status=status)
    )


_RELEASED = (
    select(_D.decision_id)
    .where(
        _D.tenant == bindparam("t"),
        _D.kind == bindparam("k"),
        _D.status == "released",
        _D.amount_minor == bindparam("a"),
        _D.currency == bindparam("c"),
        _D.created_at >= bindparam("since"),
        _D.buyer_id.is_not_distinct_from(bindparam("b")),
        _D.merchant_id.is_not_distinct_from(bindparam("m")),
    )
    .limit(1)
)


def released_match(conn: Connection, tenant: str, subject: RiskSubject, *, since: int) -> bool:
    """Whether a person released the same operation (kind, customer, merchant, amount) for
    this customer since ``since``: its retry under a new request id is not held again."""
    params = {
        "t": tenant,
        "k": subject.kind.value,
        "a": subject.amount_minor,
        "c": subject.currency,
        "since": since,
        "b": subject.buyer_id,
        "m": subject.merchant_id,
    }
    return conn.execute(_RELEASED, params).first() is not None


def list_decisions(
    conn: Connection,
    tenant: str,
    *,
    since: int = 0,
    limit: int = 100,
    starting_after: str | None = None,
) -> list[StoredDecision]:
    """Newest first; ``starting_after`` a decision id: the page after it (an unknown id,
    or another tenant's, is :class:`NotFound`)."""
    query = select(risk_decisions).where(_D.tenant == tenant, _D.created_at >= since)
    if starting_after is not None:
        at = conn.execute(
            select(_D.created_at).where(_D.tenant == tenant, _D.decision_id == starting_after)
        ).scalar()
        if at is None:
            raise NotFound(f"no risk decision {starting_after}")
        query = query.where(
            or_(_D.created_at < at, and_(_D.created_at == at, _D.decision_id < starting_after))
        )
    query = query.order_by(_D.created_at.desc(), _D.decision_id.desc()).limit(limit)
    return [_stored(row) for row in conn.execute(query).mappings()]


# --- rule sets ------------------------------------------------------------------------------
_R = risk_rule_sets.c


def latest_version(conn: Connection, tenant: str) -> int:
    found = conn.execute(select(func.max(_R.version)).where(_R.tenant == tenant)).scalar()
    return int(found or 0)


def load_rule_set(conn: Connection, tenant: str, version: int | None = None) -> RuleSet | None:
    """The tenant's rule set at ``version`` (the live one, the highest, by default)."""
    wanted = latest_version(conn, tenant) if version is None else version
    row = conn.execute(select(_R.rules).where(_R.tenant == tenant, _R.version == wanted)).first()
    if row is None:
        return None
    rules = tuple(Rule.from_record(record) for record in json.loads(row[0]))
    return RuleSet(wanted, rules)


def save_rule_set(
    conn: Connection,
    tenant: str,
    rule_set: RuleSet,
    *,
    change: str,
    actor: str,
    backtest: Mapping[str, Any],
    at: int,
) -> None:
    """Store a new version; a version another change stored first is refused (two officers
    publishing at once: one wins, the other reloads)."""
    stored = insert_if_absent(
        conn,
        risk_rule_sets,
        {
            "tenant": tenant,
            "version": rule_set.version,
            "rules": json.dumps([rule.to_record() for rule in rule_set.rules], sort_keys=True),
            "change": change[:300],
            "actor": actor,
            "backtest": json.dumps(backtest, sort_keys=True),
            "created_at": at,
        },
    )
    if not stored:
        raise InvalidStateTransition(
            f"rule set version {rule_set.version} was stored meanwhile; reload and retry"
        )


def rule_set_history(conn: Connection, tenant: str, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(_R.version, _R.change, _R.actor, _R.backtest, _R.created_at)
        .where(_R.tenant == tenant)
        .order_by(_R.version.desc())
        .limit(limit)
    ).mappings()
    return [
        {
            "version": int(r["version"]),
            "change": r["change"],
            "actor": r["actor"],
            "backtest": json.loads(r["backtest"]),
            "created_at": int(r["created_at"]),
        }
        for r in rows
    ]
