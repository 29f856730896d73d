"""The risk service: the check behind ``RiskGate``, the rule versions and the challenges.

``check`` runs inside the caller's unit of work: it reads the online signals of the entities the
request names, builds the feature vector, runs the tenant's live rule set (shadow rules beside
it), stores the decision, records the observation for the next check, and — by the action —
issues a challenge or opens a case. The same subject again (a retry, a payment after a passed
challenge) gets the stored decision as it stands now: once decided, always the same decision.

**When the counters are down** (Redis unreachable), the check does not fail the operation: it
decides on the request alone (rules naming online features find them missing and do not fire)
and marks the decision ``degraded``. Per operation:

==================  =========  ======================================================
operation           fails      so that
==================  =========  ======================================================
checkout            open       no good order changes its outcome while Redis is down
top-up              open       money coming in is in the safeguarded reserve anyway
card authorisation  open       like checkout
credit decision     open       the credit model decides it on its own features
withdrawal          closed     money leaving is held for a person (a case opens)
payout              closed     the payout line waits for the next batch (a case opens)
==================  =========  ======================================================

Rules change only by a new version of the whole set (``publish``, ``retire``, ``promote``); each
new version is backtested first over the stored, labelled decisions and the report is stored
with it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from embedfin.core.clock import Clock
from embedfin.core.errors import (
    ChallengeRequired,
    EmbedfinError,
    HeldForReview,
    IdempotencyMismatch,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
    RiskRefused,
)
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.risk import signals, store
from embedfin.risk.backtest import BacktestReport, HistoryRow, Label, backtest
from embedfin.risk.cases import Case, Cases
from embedfin.risk.challenges import Challenge, Challenges
from embedfin.risk.counters import CounterStore, linked_accounts
from embedfin.risk.decision import Action, Reason, RiskDecision, RiskSubject, SubjectKind
from embedfin.risk.features import FeatureVector
from embedfin.risk.gate import RiskAnswer
from embedfin.risk.model import FraudModel
from embedfin.risk.model_registry import REFRESH_S, ModelRegistry
from embedfin.risk.rules import Rule, RuleSet
from embedfin.risk.starter_rules import starter_rule_set
from embedfin.risk.store import StoredDecision

log = logging.getLogger("embedfin.risk")

#: Operations that fail closed when the counters are down (see the module docstring).
FAIL_CLOSED = frozenset({SubjectKind.WITHDRAWAL, SubjectKind.PAYOUT})
#: What counts as "the counters are down": the store's own errors, never a domain error.
try:  # Redis is optional; without the package the database store cannot raise its errors
    from redis.exceptions import RedisError as _RedisError

    UNAVAILABLE: tuple[type[Exception], ...] = (_RedisError, OSError)
except ImportError:  # pragma: no cover - redis is a dependency; kept for a slim install
    UNAVAILABLE = (OSError,)


#: A fresh decision's status by its action (see ``StoredDecision.status``).
_STATUS = {
    Action.ALLOW: "decided",
    Action.CHALLENGE: "challenged",
    Action.REVIEW: "held",
    Action.BLOCK: "decided",
}


def decision_id_of(subject: RiskSubject, attempt: str | None = None) -> str:
    """One decision per operation and attempt: its kind, reference (or, without a reference,
    what it is — a retry of the same request is the same operation) and attempt."""
    reference = subject.reference or f"{subject.buyer_id}:{subject.amount_minor}"
    return decision_id_for(subject.tenant, subject.kind, reference, attempt)


def decision_id_for(
    tenant: str, kind: SubjectKind, reference: str, attempt: str | None = None
) -> str:
    material = f"{tenant}\x00{kind.value}\x00{reference}\x00{attempt or ''}".encode()
    return "rd_" + hashlib.blake2b(material, digest_size=12).hexdigest()


class RiskService:
    """One tenant's risk checks (implements ``risk.gate.RiskGate``)."""

    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        counters: CounterStore,
        cases: Cases,
        challenges: Challenges,
        clock: Clock | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.counters = counters
        self.cases = cases
        self.challenges = challenges
        self.models = ModelRegistry(ledger, tenant)
        self.clock = clock or ledger.clock
        self._rule_set: RuleSet | None = None
        self._rules_seen = -1e9

    # --- the check ------------------------------------------------------------------------
    def check(
        self,
        tx: LedgerTransaction,
        subject: RiskSubject,
        *,
        attempt: str | None = None,
        token: str | None = None,
        payout_account: str | None = None,
        holdable: bool = False,
    ) -> RiskAnswer:
        if subject.tenant != self.tenant:
            raise InvalidInput("a risk subject is checked by its own tenant's service")
        decision_id = decision_id_of(subject, attempt)
        stored, prior = store.load_attempt(
            tx.conn, self.tenant, decision_id, subject.kind.value, subject.reference or decision_id
        )
        if stored is None:
            stored = self._decide(tx, subject, decision_id, token, payout_account, holdable, prior)
        answer = self._stored_answer(tx, stored, subject, holdable)
        if isinstance(answer, EmbedfinError):
            raise answer
        return answer

    def check_many(
        self, tx: LedgerTransaction, subjects: Sequence[RiskSubject], *, holdable: bool = False
    ) -> list[RiskAnswer | EmbedfinError]:
        """``check`` of each subject (first attempts, no token), decided exactly as one after
        another in this unit of work but with one read and one write per table for the batch:
        the stored decisions and step-ups of all in one query, the signals of all in two
        (``CounterStore.read_many``, each check then seeing its earlier batch-mates as if they
        had been recorded, ``signals.with_batch_mates``), the decisions, observations and links
        in one statement each. Each subject gets its answer, or the error that is its own
        (another amount for a decided operation: ``IdempotencyMismatch``)."""
        answers: list[RiskAnswer | EmbedfinError | None] = [None] * len(subjects)
        ids = [decision_id_of(subject) for subject in subjects]
        for subject in subjects:
            if subject.tenant != self.tenant:
                raise InvalidInput("a risk subject is checked by its own tenant's service")
        attempts = store.load_attempts(
            tx.conn, self.tenant,
            [(i, s.kind.value, s.reference or i) for i, s in zip(ids, subjects, strict=True)],
        )  # fmt: skip
        pending: list[int] = []  # the subjects to decide now, in order
        first_of: dict[str, int] = {}
        for n, (decision_id, subject) in enumerate(zip(ids, subjects, strict=True)):
            stored, _ = attempts[decision_id]
            if stored is not None:
                answers[n] = self._stored_answer(tx, stored, subject, holdable)
            elif decision_id in first_of:  # the same operation twice in one batch
                continue
            else:
                first_of[decision_id] = n
                pending.append(n)
        decided = self._decide_many(tx, [subjects[n] for n in pending],
                                    [ids[n] for n in pending], attempts, holdable)  # fmt: skip
        by_id = {stored.decision_id: stored for stored in decided}
        for n, (decision_id, subject) in enumerate(zip(ids, subjects, strict=True)):
            if answers[n] is None:
                answers[n] = self._stored_answer(tx, by_id[decision_id], subject, holdable)
        return [a for a in answers if a is not None]

    def _stored_answer(
        self, tx: LedgerTransaction, stored: StoredDecision, subject: RiskSubject, holdable: bool
    ) -> RiskAnswer | EmbedfinError:
        if (stored.amount_minor, stored.currency) != (subject.amount_minor, subject.currency):
            return IdempotencyMismatch(
                f"{subject.kind.value} {stored.reference} was checked for"
                f" {stored.amount_minor} {stored.currency}, not {subject.amount_minor}"
                f" {subject.currency}"
            )
        return self._answer(tx.conn, stored, holdable)

    def _decide_many(
        self,
        tx: LedgerTransaction,
        subjects: Sequence[RiskSubject],
        ids: Sequence[str],
        attempts: Mapping[str, tuple[StoredDecision | None, str | None]],
        holdable: bool,
    ) -> list[StoredDecision]:
        if not subjects:
            return []
        base = self.clock.now_ns()
        base -= base % 1_000
        batch = [  # a microsecond apart, in order: the batch reads as a sequence
            signals.Observation.of(subject, decision_id, base + n * 1_000)
            for n, (subject, decision_id) in enumerate(zip(subjects, ids, strict=True))
        ]
        degraded = False
        try:
            reads: list[signals.Reads] = self.counters.read_many(tx.conn, batch)
        except UNAVAILABLE as error:
            log.warning("risk counters unavailable (%s); deciding on the requests alone", error)
            degraded = True
        rows: list[tuple[str, RiskSubject, FeatureVector, RiskDecision, str, int]] = []
        step_ups: dict[tuple[str, str], str | None] = {}
        for n, (subject, obs) in enumerate(zip(subjects, batch, strict=True)):
            merged = None if degraded else signals.with_batch_mates(reads[n], obs, batch[:n])
            vector, decision, _ = self.score(tx, subject, obs, merged, degraded=degraded)
            if degraded and subject.kind in FAIL_CLOSED and decision.action < Action.REVIEW:
                decision = _fail_closed(decision)
            operation = (subject.kind.value, subject.reference or obs.observation_id)
            prior = step_ups.get(operation, attempts[obs.observation_id][1])
            decision, status = self._with_history(tx, subject, decision, prior, obs.at)
            if degraded and decision.action is Action.ALLOW:
                status = "degraded"
            if status == "challenged" and prior is None:
                step_ups[operation] = "pending"  # a later attempt in the batch waits on it
            rows.append((obs.observation_id, subject, vector, decision, status, obs.at))
        stored = store.insert_decisions(tx.conn, rows)
        if not degraded:
            try:
                self.counters.record_many(
                    tx.conn, [obs for obs in batch if obs.observation_id in stored]
                )
            except UNAVAILABLE as error:
                log.warning("risk counters unavailable (%s); observations not recorded", error)
        found: list[StoredDecision] = []
        for decision_id, subject, *_, at in rows:
            if decision_id in stored:
                self._follow_up(tx, subject, stored[decision_id], holdable, at)
                found.append(stored[decision_id])
            else:  # a concurrent check of the same operation decided first
                other = store.load_decision(tx.conn, self.tenant, decision_id)
                assert other is not None
                found.append(other)
        return found

    def settle_many(
        self, tx: LedgerTransaction, kind: SubjectKind, outcomes: Sequence[tuple[str, bool]]
    ) -> None:
        """``settle`` of many first attempts (reference, succeeded) in one statement."""
        if not outcomes:
            return
        ids = [
            (decision_id_for(self.tenant, SubjectKind(kind), reference), succeeded)
            for reference, succeeded in outcomes
        ]
        for decision_id, succeeded in ids:
            if not succeeded:
                self.cases.void(tx, case_id_of(decision_id), "the reviewed attempt was declined")
        statuses = [
            (decision_id, signals.Status.SUCCEEDED if ok else signals.Status.DECLINED)
            for decision_id, ok in ids
        ]
        try:
            self.counters.settle_many(tx.conn, self.tenant, statuses)
        except UNAVAILABLE as error:
            log.warning("risk counters unavailable (%s); outcomes not recorded", error)

    def _decide(
        self,
        tx: LedgerTransaction,
        subject: RiskSubject,
        decision_id: str,
        token: str | None,
        payout_account: str | None,
        holdable: bool,
        prior: str | None,
    ) -> StoredDecision:
        now = self.clock.now_ns()
        obs = signals.Observation.of(
            subject, decision_id, now, token=token, payout_account=payout_account
        )
        vector, decision, degraded = self.score(tx, subject, obs)
        if degraded and subject.kind in FAIL_CLOSED and decision.action < Action.REVIEW:
            decision = _fail_closed(decision)
        decision, status = self._with_history(tx, subject, decision, prior, now)
        if degraded and decision.action is Action.ALLOW:
            status = "degraded"
        stored = store.insert_decision(tx.conn, decision_id, subject, vector, decision, status, now)
        if stored is None:  # a concurrent check of the same operation decided first
            found = store.load_decision(tx.conn, self.tenant, decision_id)
            assert found is not None
            return found
        if not degraded:
            try:
                self.counters.record(tx.conn, obs)
            except UNAVAILABLE as error:
                log.warning("risk counters unavailable (%s); observation not recorded", error)
        self._follow_up(tx, subject, stored, holdable, now)
        return stored

    def score(
        self,
        tx: LedgerTransaction,
        subject: RiskSubject,
        obs: signals.Observation,
        reads: signals.Reads | None = None,
        *,
        degraded: bool = False,
    ) -> tuple[FeatureVector, RiskDecision, bool]:
        """The scoring itself — the signals' read (unless ``reads`` are given, or the batch that
        read them found the counters down: ``degraded``), the features, the rules, the model —
        with no write: the request's features, what rules and model make of them, and whether
        the counters were down (the request alone was scored)."""
        if reads is None and not degraded:
            try:
                reads = self.counters.read(tx.conn, obs)
            except UNAVAILABLE as error:
                log.warning("risk counters unavailable (%s); deciding on the request alone", error)
                degraded = True
        online = {} if reads is None or degraded else signals.features(obs, reads)
        vector = FeatureVector.computed({**subject.request_features(), **online})
        decision = self.rule_set(tx).decide(vector)
        model = self.models.champion(tx.conn)
        if model is not None:
            decision = _with_model(decision, vector.by_name, model)
        return vector, decision, degraded

    def _with_history(
        self,
        tx: LedgerTransaction,
        subject: RiskSubject,
        decision: RiskDecision,
        prior: str | None,
        now: int,
    ) -> tuple[RiskDecision, str]:
        """The decision as what happened to earlier attempts at this operation bends it: a
        challenge passed on it stands (no second code), one failed blocks every later attempt,
        one unanswered is asked again (the same code, not three fresh guesses); a refused
        withdrawal or payout a person released may be retried once the same within a day."""
        if prior == "failed":
            return _raised(decision, Action.BLOCK, "challenge_failed",
                           "a challenge on this operation was failed"), "decided"  # fmt: skip
        if prior == "pending" and decision.action < Action.CHALLENGE:
            decision = _raised(decision, Action.CHALLENGE, "challenge_pending",
                               "a challenge on this operation is unanswered")  # fmt: skip
        if decision.action is Action.CHALLENGE and prior == "passed":
            return decision, "challenge_carried"
        if decision.action >= Action.REVIEW and store.released_match(
            tx.conn, self.tenant, subject, since=now - signals.DAY_NS
        ):
            return decision, "release_carried"
        return decision, _STATUS[decision.action]

    def _follow_up(
        self,
        tx: LedgerTransaction,
        subject: RiskSubject,
        stored: StoredDecision,
        holdable: bool,
        now: int,
    ) -> None:
        if stored.action is Action.ALLOW or stored.effective_action is Action.ALLOW:
            return
        if stored.effective_action is Action.CHALLENGE:
            pending = self.challenges.pending_of(tx.conn, stored.reference)
            if pending is None:  # else the buyer answers the code already sent
                self.challenges.issue(tx.conn, stored.decision_id, stored.reference, now)
        elif stored.action is Action.REVIEW:
            self.cases.open(
                tx,
                kind="fraud_review",
                case_id=case_id_of(stored.decision_id),
                summary=_summary(subject, stored),
                amount_minor=subject.amount_minor,
                currency=subject.currency,
                order_id=subject.reference if holdable else None,
                decision_id=stored.decision_id,
                buyer_id=subject.buyer_id,
                merchant_id=subject.merchant_id,
            )
        tx.emit(
            self.tenant,
            "risk_flagged",
            "risk_decision",
            stored.decision_id,
            {
                "action": stored.action.value,
                "kind": subject.kind.value,
                "reference": stored.reference,
                "reasons": list(stored.reason_codes()),
                "amount_minor": subject.amount_minor,
                "currency": subject.currency,
            },
        )

    def _answer(self, conn: Any, stored: StoredDecision, holdable: bool) -> RiskAnswer:
        action = stored.effective_action
        reasons = stored.reason_codes()
        refusal: RiskRefused | None = None
        if action is Action.BLOCK:
            refusal = RiskRefused(
                f"refused by risk control ({', '.join(reasons) or stored.status})",
                stored.decision_id,
                reasons,
            )
        elif action is Action.CHALLENGE:
            challenge = self.challenges.of_decision(conn, stored.decision_id)
            if challenge is None:  # an earlier attempt's code, still unanswered
                challenge = self.challenges.pending_of(conn, stored.reference)
            if challenge is None:  # pragma: no cover - a challenged decision always has one
                raise InvalidStateTransition(f"decision {stored.decision_id} lost its challenge")
            refusal = ChallengeRequired(
                "answer the challenge, then retry",
                stored.decision_id,
                challenge.challenge_id,
                reasons,
            )
        elif action is Action.REVIEW and not holdable:
            refusal = HeldForReview(
                "held for a risk review; retry once the case is decided",
                stored.decision_id,
                case_id_of(stored.decision_id),
                reasons,
            )
        hold = action is Action.REVIEW and holdable
        return RiskAnswer(stored.decision_id, action, hold, refusal)

    def settle(
        self,
        tx: LedgerTransaction,
        kind: SubjectKind,
        reference: str,
        *,
        succeeded: bool,
        attempt: str | None = None,
    ) -> None:
        decision_id = decision_id_for(self.tenant, SubjectKind(kind), reference, attempt)
        status = signals.Status.SUCCEEDED if succeeded else signals.Status.DECLINED
        if not succeeded:  # a reviewed attempt that never went through holds nothing
            self.cases.void(tx, case_id_of(decision_id), "the reviewed attempt was declined")
        try:
            self.counters.settle(tx.conn, self.tenant, decision_id, status)
        except UNAVAILABLE as error:
            log.warning("risk counters unavailable (%s); outcome not recorded", error)

    # --- challenges -------------------------------------------------------------------------
    def answer_challenge(self, challenge_id: str, code: str) -> Challenge:
        """The buyer's answer; a pass lets the operation be retried, a failure blocks it."""
        with self.ledger.transaction() as tx:
            found = self.challenges.answer(tx.conn, challenge_id, code, self.clock.now_ns())
            if found.status in ("passed", "failed"):
                decision = store.load_decision(tx.conn, self.tenant, found.decision_id)
                if decision is not None and decision.status == "challenged":
                    status = f"challenge_{found.status}"
                    # every attempt that waited on this code: its own and later ones
                    store.settle_challenged(
                        tx.conn, self.tenant, decision.kind, found.reference, status
                    )
                    tx.emit(
                        self.tenant,
                        "risk_challenge_answered",
                        "risk_decision",
                        found.decision_id,
                        {"outcome": found.status, "reference": found.reference},
                    )
            return found

    def sandbox_code(self, challenge_id: str) -> str:
        """The code the sandbox 'sends' (operator-only; see ``risk/challenges.py``)."""
        with self.ledger.current() as conn:
            self.challenges.get(conn, challenge_id)
        return self.challenges.sandbox_code(challenge_id)

    # --- decisions --------------------------------------------------------------------------
    def decision(self, decision_id: str) -> StoredDecision:
        with self.ledger.current() as conn:
            found = store.load_decision(conn, self.tenant, decision_id)
            if found is None:
                raise NotFound(f"no risk decision {decision_id}")  # also another tenant's
            return self.explained(conn, found)

    def decisions(
        self, *, since: int = 0, limit: int = 100, starting_after: str | None = None
    ) -> list[StoredDecision]:
        with self.ledger.current() as conn:
            found = store.list_decisions(
                conn, self.tenant, since=since, limit=limit, starting_after=starting_after
            )
            return [self.explained(conn, decision) for decision in found]

    def explained(self, conn: Any, decision: StoredDecision) -> StoredDecision:
        """``decision`` with its model reason's features: the top contributions of the model
        that scored it, computed now from the stored features by that same model (what the
        check would have computed: the same booster on the same values)."""
        if not any("explained_by" in reason for reason in decision.reasons):
            return decision
        reasons = []
        for reason in decision.reasons:
            if "explained_by" in reason:
                reason = dict(reason)
                model = self.models.load(conn, str(reason.pop("explained_by")))
                reason["features"] = dict(model.explain(decision.features))
            reasons.append(reason)
        return dataclasses.replace(decision, reasons=reasons)

    def label(self, decision_id: str, label: Label) -> None:
        """An outcome learnt later (a fraud chargeback, a confirmed case): the training label."""
        with self.ledger.transaction() as tx:
            if store.load_decision(tx.conn, self.tenant, decision_id, for_update=True) is None:
                raise NotFound(f"no risk decision {decision_id}")
            store.set_decision(tx.conn, self.tenant, decision_id, label=Label(label).value)

    def evidence(self, case: Case) -> dict[str, Any]:
        """What a person deciding ``case`` looks at from risk's side: the decision (reasons,
        rules, features) and the accounts sharing a device, address, IP, token or payout
        account with the case's customer (from the database's links)."""
        out: dict[str, Any] = {}
        if case.decision_id is not None:
            with self.ledger.current() as conn:
                decision = store.load_decision(conn, self.tenant, case.decision_id)
                decision = decision and self.explained(conn, decision)
            if decision is not None:
                out["decision"] = {
                    "id": decision.decision_id,
                    "action": decision.action.value,
                    "reasons": decision.reasons,
                    "rules_fired": decision.live_hits,
                    "features": decision.features,
                }
        accounts = [f"b:{case.buyer_id}"] if case.buyer_id else []
        if case.merchant_id and case.order_id is None:
            accounts.append(f"m:{case.merchant_id}")
        if accounts:
            with self.ledger.current() as conn:
                links = linked_accounts(conn, self.tenant, accounts)
            out["linked_accounts"] = [
                {"account": link.account, "first_seen": link.first_at, "last_seen": link.last_at}
                for link in links
            ]
        return out

    # --- rules ------------------------------------------------------------------------------
    def rule_set(self, tx: LedgerTransaction | None = None) -> RuleSet:
        """The live rule set (the tenant's highest version; the starter set when none).

        Inside a check (``tx`` given) the version is looked up at most every ``REFRESH_S``
        seconds, as the champion model is: a change reaches every worker within that time and
        this process at once; a read outside a check always looks."""
        now = time.monotonic()
        if tx is not None and self._rule_set is not None and now - self._rules_seen < REFRESH_S:
            return self._rule_set
        self._rules_seen = now
        if tx is None:
            with self.ledger.current() as conn:
                version = store.latest_version(conn, self.tenant)
                return self._cached(conn, version)
        return self._cached(tx.conn, store.latest_version(tx.conn, self.tenant))

    def _cached(self, conn: Any, version: int) -> RuleSet:
        cached = self._rule_set
        if version == 0:
            if cached is None or cached.version != 1:
                cached = starter_rule_set()
        elif cached is None or cached.version != version:
            cached = store.load_rule_set(conn, self.tenant, version)
            assert cached is not None
        self._rule_set = cached
        return cached

    def history(self, currency: str, limit: int = 20_000) -> list[HistoryRow]:
        """Stored decisions of one currency as backtest rows (newest ``limit``)."""
        with self.ledger.current() as conn:
            rows = store.list_decisions(conn, self.tenant, limit=limit)
        return [
            HistoryRow(FeatureVector(d.features), d.amount_minor, d.currency, Label(d.label))
            for d in rows
            if d.currency == currency
        ]

    def backtest(self, rule_set: RuleSet, currency: str) -> BacktestReport:
        return backtest(rule_set, self.history(currency))

    def publish(self, record: Mapping[str, object], actor: str, currency: str) -> RuleSet:
        """Add or replace a rule (a new version of the set), after its backtest."""
        rule = Rule.from_record(record)  # refuses a rule that does not parse or names unknowns
        current = self.rule_set()
        return self._store(
            current.with_rule(rule), f"{rule.id} v{rule.version} ({rule.mode})", actor, currency
        )

    def retire(self, rule_id: str, actor: str, currency: str) -> RuleSet:
        return self._store(
            self.rule_set().without_rule(rule_id), f"retired {rule_id}", actor, currency
        )

    def promote(self, rule_id: str, actor: str, currency: str) -> RuleSet:
        return self._store(
            self.rule_set().promote(rule_id), f"promoted {rule_id} to live", actor, currency
        )

    def _store(self, rule_set: RuleSet, change: str, actor: str, currency: str) -> RuleSet:
        history = self.history(currency)
        summary: dict[str, Any] = {"currency": currency, "rows": 0, "live": None}
        if history:  # a tenant with no stored decisions yet has nothing to backtest on
            report = backtest(rule_set, history)
            summary = {
                "currency": report.currency,
                "rows": len(history),
                "live": _figures(report.live),
                "with_shadow": _figures(report.with_shadow),
                "rules": [_figures(figures) for figures in report.rules],
            }
        with self.ledger.transaction() as tx:
            live = store.latest_version(tx.conn, self.tenant)
            if live == 0:  # the starter set was never stored: store it first, as version 1
                store.save_rule_set(
                    tx.conn,
                    self.tenant,
                    starter_rule_set(),
                    change="starter rules",
                    actor="embedfin",
                    backtest={},
                    at=self.clock.now_ns(),
                )
                live = 1
            if rule_set.version != live + 1:
                raise InvalidStateTransition(
                    f"the rules changed meanwhile (now version {live}); reload and retry"
                )
            store.save_rule_set(
                tx.conn,
                self.tenant,
                rule_set,
                change=change,
                actor=actor,
                backtest=summary,
                at=self.clock.now_ns(),
            )
            tx.emit(
                self.tenant,
                "risk_rules_changed",
                "risk_rule_set",
                str(rule_set.version),
                {"version": rule_set.version, "change": change, "actor": actor},
            )
        self._rules_seen = -1e9  # this process's next check uses the new version
        return rule_set

    def versions(self) -> list[dict[str, Any]]:
        with self.ledger.current() as conn:
            return store.rule_set_history(conn, self.tenant)


def case_id_of(decision_id: str) -> str:
    return f"case_{decision_id.removeprefix('rd_')}"


def _fail_closed(decision: RiskDecision) -> RiskDecision:
    reason = Reason(
        "risk_unavailable",
        "the risk counters were unreachable; money leaving waits for a person",
    )
    return RiskDecision(
        Action.REVIEW,
        decision.score,
        (reason, *decision.reasons),
        decision.live_hits,
        decision.shadow_hits,
        decision.rule_set_version,
    )


def _with_model(
    decision: RiskDecision, features: Mapping[str, Any], model: FraudModel
) -> RiskDecision:
    """The rules' decision with the model's score; the model's action when it is more severe,
    its reason naming the features that raised the score most (computed when the reason is
    read: ``RiskService.explained``)."""
    score = model.score(features)
    if not score.action > decision.action:
        return RiskDecision(
            decision.action, score.probability, decision.reasons, decision.live_hits,
            decision.shadow_hits, decision.rule_set_version,
        )  # fmt: skip
    reason = Reason(
        "model_score",
        f"fraud model {model.model_id} scored {score.probability:.3f}",
        explained_by=model.model_id,  # the top contributions: computed when read
    )
    return RiskDecision(
        score.action, score.probability, (reason, *decision.reasons), decision.live_hits,
        decision.shadow_hits, decision.rule_set_version,
    )  # fmt: skip


def _raised(decision: RiskDecision, action: Action, code: str, message: str) -> RiskDecision:
    """``decision`` made ``action`` for ``code`` (a reason put first)."""
    return RiskDecision(
        action, decision.score, (Reason(code, message), *decision.reasons), decision.live_hits,
        decision.shadow_hits, decision.rule_set_version,
    )  # fmt: skip


def _summary(subject: RiskSubject, stored: StoredDecision) -> str:
    reasons = ", ".join(stored.reason_codes()) or "review"
    return f"{subject.kind.value} {stored.reference}: {reasons}"


def _figures(figures: Any) -> dict[str, Any]:
    """A backtest's figures (a dataclass) as JSON values, enums and enum keys as their text."""
    out: dict[str, Any] = {}
    for item in fields(figures):
        value = getattr(figures, item.name)
        if isinstance(value, Mapping):
            out[item.name] = {str(getattr(k, "value", k)): v for k, v in value.items()}
        else:
            out[item.name] = getattr(value, "value", value)
    return out
