"""Cases: the one queue a person works, with its audit trail.

A ``review`` decision opens a ``fraud_review`` case (the order is paid into escrow and held, or
the operation is refused until decided). Every step is a row of ``risk_case_events`` — opened,
assigned, note, decided — with who did it and when, and the case carries its SLA clock
(``due_at``). Deciding runs in one unit of work with what it decides:

* ``release`` — the order's risk hold is lifted (or the refused operation may be retried); the
  decision becomes ``released`` and its label ``good``;
* ``refund`` — the held order is refunded in full to where it was paid from (through the
  payments services' one refund path); the decision becomes ``refunded``, label ``fraud``;
* ``reject`` — a refused operation that cannot be refunded (a withdrawal, a payout) stays
  refused; the decision becomes ``rejected``, label ``fraud``.

Disputes and returns share the queue (``risk/case_feed.py`` opens a case for every dispute
opened and return requested): a ``dispute`` case is decided ``release`` (the merchant wins: the
escrow is released) or ``refund`` (the buyer wins); a ``return`` case ``refund`` (the goods are
back: refunded) or ``reject``. Each acts through the after-sales services in their own units of
work, like a held order's refund; a dispute or return settled on its own route closes its case
as ``settled``. A ``merchant_review`` (a merchant entering the high risk tier) is
``release`` (cleared) or ``reject`` (confirmed; its reserve stays as its tier or policy says).
A ``sanctions_hit`` (a party screened against a sanctions or PEP list, ``compliance/aml``) is
``release`` (a false positive: its payouts and withdrawals may go) or ``reject`` (a true match:
the party stays blocked); an ``aml_alert`` (a typology found by transaction monitoring) is
``release`` (a false positive) or ``reject`` (confirmed suspicious: a suspicious-transaction
report falls due); a ``kyb_review`` (a merchant's business identity) is ``release`` (verified:
it is paid out) or ``reject``. The compliance port records each in the decision's unit of
work.

A case is decided once: a second decision is an ``InvalidStateTransition``; a case whose order is
not held (refunded meanwhile, or the reviewed attempt was declined and the order paid another
way) cannot act on it, and a review of an attempt that never went through is closed ``void``.
Labels are what the fraud model trains on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, tuple_, update

from embedfin.core.clock import Clock
from embedfin.core.errors import InvalidInput, InvalidStateTransition, NotFound
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import risk_case_events, risk_cases
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.risk import store
from embedfin.risk.text import checked_text

HOUR_NS = 3_600 * 1_000_000_000
_AFTER_SALES_OUTCOMES = {"dispute": ("release", "refund"), "return": ("refund", "reject")}
#: How long a review may wait before it is late.
REVIEW_SLA_NS = 24 * HOUR_NS
COMPLIANCE_KINDS = ("sanctions_hit", "aml_alert", "kyb_review")
KINDS = ("fraud_review", "dispute", "return", "merchant_review", *COMPLIANCE_KINDS)
OUTCOMES = ("release", "refund", "reject")
_C = risk_cases.c
_E = risk_case_events.c


class AfterSalesCases(Protocol):
    """What dispute and return cases need of the after-sales services (payments and commerce
    implement it; the composition root wires it)."""

    def resolve_dispute(self, order_id: str, outcome: str) -> None:
        """``release`` (the merchant wins) or ``refund`` (the buyer wins)."""
        ...

    def settle_return(self, order_id: str, accept: bool) -> None:
        """Accept (the goods are back: refund) or reject the order's open return."""
        ...


class HeldOrders(Protocol):
    """What cases need of payments: lift a hold, refund a held order (the port payments
    implements; the composition root wires it)."""

    def is_held(self, order_id: str) -> bool: ...

    def lift_risk_hold(self, order_id: str) -> None: ...

    def refund_held(self, order_id: str) -> None:
        """Refund the held order in full; nothing if it was refunded already."""
        ...


class ComplianceCases(Protocol):
    """What a compliance case (``sanctions_hit``, ``aml_alert``) needs of compliance: record the
    decision on its hits or its alert, in the decision's unit of work (compliance implements
    it; the composition root wires it)."""

    def decided(self, tx: LedgerTransaction, kind: str, case_id: str, outcome: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    kind: str
    status: str  # open, assigned, deciding (a dispute or return being settled), decided
    order_id: str | None
    decision_id: str | None
    buyer_id: str | None
    merchant_id: str | None
    amount_minor: int
    currency: str
    summary: str
    assignee: str | None
    outcome: str | None
    outcome_reason: str | None
    opened_at: int
    due_at: int
    decided_at: int | None
    decided_by: str | None

    def late(self, now: int) -> bool:
        return self.status != "decided" and now > self.due_at


@dataclass(frozen=True, slots=True)
class CaseEvent:
    seq: int
    kind: str
    actor: str
    body: dict[str, Any]
    at: int


def _case(row: Any) -> Case:
    values = dict(row)
    values.pop("tenant")
    return Case(**values)


class Cases:
    """One tenant's case queue."""

    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        orders: HeldOrders | None,
        clock: Clock | None = None,
        after_sales: AfterSalesCases | None = None,
        compliance: ComplianceCases | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.orders = orders
        self.clock = clock or ledger.clock
        self.after_sales = after_sales
        self.compliance = compliance

    def open(
        self,
        tx: LedgerTransaction,
        *,
        kind: str,
        case_id: str,
        summary: str,
        amount_minor: int,
        currency: str,
        order_id: str | None = None,
        decision_id: str | None = None,
        buyer_id: str | None = None,
        merchant_id: str | None = None,
        sla_ns: int = REVIEW_SLA_NS,
    ) -> str:
        """Open a case in ``tx`` (once: the same id again changes nothing)."""
        if kind not in KINDS:
            raise InvalidInput(f"case kind {kind!r} is not one of {', '.join(KINDS)}")
        now = self.clock.now_ns()
        opened = insert_if_absent(
            tx.conn,
            risk_cases,
            {
                "tenant": self.tenant,
                "case_id": case_id,
                "kind": kind,
                "status": "open",
                "order_id": order_id,
                "decision_id": decision_id,
                "buyer_id": buyer_id,
                "merchant_id": merchant_id,
                "amount_minor": amount_minor,
                "currency": currency,
                "summary": summary[:500],
                "opened_at": now,
                "due_at": now + sla_ns,
            },
        )
        if opened:
            self._event(tx.conn, case_id, "opened", "risk-engine", {"summary": summary[:500]}, now)
            tx.emit(
                self.tenant,
                "risk_case_opened",
                "risk_case",
                case_id,
                {
                    "kind": kind,
                    "order_id": order_id,
                    "amount_minor": amount_minor,
                    "currency": currency,
                },
            )
        return case_id

    def queue(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> list[Case]:
        """Undecided cases first, by due time (most urgent first); decided ones after;
        ``starting_after`` a case id: the page after it (another tenant's is not found)."""
        query = select(risk_cases).where(_C.tenant == self.tenant)
        if status is not None:
            query = query.where(_C.status == status)
        if kind is not None:
            query = query.where(_C.kind == kind)
        decided_last = func.coalesce(_C.decided_at, 0)
        with self.ledger.current() as conn:
            if starting_after is not None:
                after = self._get(conn, starting_after)
                key = (after.decided_at or 0, after.due_at, after.case_id)
                query = query.where(tuple_(decided_last, _C.due_at, _C.case_id) > key)
            query = query.order_by(decided_last, _C.due_at, _C.case_id).limit(limit)
            return [_case(row) for row in conn.execute(query).mappings()]

    def get(self, case_id: str) -> Case:
        with self.ledger.current() as conn:
            return self._get(conn, case_id)

    def _get(self, conn: Connection, case_id: str, *, for_update: bool = False) -> Case:
        query = select(risk_cases).where(_C.tenant == self.tenant, _C.case_id == case_id)
        row = conn.execute(query.with_for_update() if for_update else query).mappings().first()
        if row is None:
            raise NotFound(f"no case {case_id}")  # also another tenant's
        return _case(row)

    def events(self, case_id: str) -> list[CaseEvent]:
        with self.ledger.current() as conn:
            self._get(conn, case_id)
            rows = conn.execute(
                select(risk_case_events)
                .where(_E.tenant == self.tenant, _E.case_id == case_id)
                .order_by(_E.seq)
            ).mappings()
            return [
                CaseEvent(r["seq"], r["kind"], r["actor"], json.loads(r["body"]), r["at"])
                for r in rows
            ]

    def assign(self, case_id: str, assignee: str, actor: str) -> Case:
        checked_text("assignee", assignee, 128)
        with self.ledger.transaction() as tx:
            case = self._undecided(tx.conn, case_id)
            if case.assignee == assignee:
                return case
            self._set(tx.conn, case_id, status="assigned", assignee=assignee)
            self._event(tx.conn, case_id, "assigned", actor, {"assignee": assignee})
            return self._get(tx.conn, case_id)

    def note(self, case_id: str, text: str, actor: str) -> CaseEvent:
        checked_text("note", text, 2_000, multiline=True)
        with self.ledger.transaction() as tx:
            self._get(tx.conn, case_id, for_update=True)
            return self._event(tx.conn, case_id, "note", actor, {"text": text})

    def decide(self, case_id: str, outcome: str, reason: str, actor: str) -> Case:
        """Decide a case (once), and do what the outcome says.

        A release lifts the hold in the case's unit of work. A refund goes through the refund
        path first, in its own units of work (it may call a payment channel, which must see
        its request committed before it is asked, so a crash or a timeout is recoverable);
        the case records its decision after it. A refund asked twice is done once."""
        if outcome not in OUTCOMES:
            raise InvalidInput(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        checked_text("reason", reason, 500)
        with self.ledger.transaction() as tx:
            case = self._undecided(tx.conn, case_id)
            holds_order = self._check_outcome(case, outcome)
            if case.kind in _AFTER_SALES_OUTCOMES:  # the feed leaves a case being decided alone
                self._set(tx.conn, case_id, status="deciding")
        if case.kind in _AFTER_SALES_OUTCOMES:
            try:
                self._settle_after_sale(case, outcome)
            except BaseException:
                with self.ledger.transaction() as tx:
                    self._set(tx.conn, case_id, status=case.status)
                raise
        if holds_order and outcome == "refund":
            orders, order_id = self._held(case)
            orders.refund_held(order_id)
        with self.ledger.transaction() as tx:
            case = self._undecided(tx.conn, case_id)
            if holds_order and outcome == "release":
                orders, order_id = self._held(case)
                orders.lift_risk_hold(order_id)
            if case.kind in COMPLIANCE_KINDS:
                if self.compliance is None:
                    raise InvalidStateTransition("no compliance port is wired to decide this case")
                self.compliance.decided(tx, case.kind, case_id, outcome)
            self._label(tx, case, outcome)
            self._close(tx, case, outcome, reason, actor)
            return self._get(tx.conn, case_id)

    def void(self, tx: LedgerTransaction, case_id: str, reason: str) -> None:
        """Close an undecided case whose operation never went through (a review of a card
        attempt the network then declined): nothing is held, nothing to decide."""
        try:
            case = self._get(tx.conn, case_id, for_update=True)
        except NotFound:
            return  # the attempt was not reviewed
        if case.status != "decided":
            self._close(tx, case, "void", reason, "risk-engine")

    def _held(self, case: Case) -> tuple[HeldOrders, str]:
        if self.orders is None or case.order_id is None:  # pragma: no cover - checked before
            raise InvalidStateTransition(f"case {case.case_id} holds no order")
        return self.orders, case.order_id

    def _close(
        self, tx: LedgerTransaction, case: Case, outcome: str, reason: str, actor: str
    ) -> None:
        now = self.clock.now_ns()
        self._set(
            tx.conn,
            case.case_id,
            status="decided",
            outcome=outcome,
            outcome_reason=reason,
            decided_at=now,
            decided_by=actor,
        )
        self._event(tx.conn, case.case_id, "decided", actor, {"outcome": outcome, "reason": reason})
        tx.emit(
            self.tenant,
            "risk_case_decided",
            "risk_case",
            case.case_id,
            {"outcome": outcome, "order_id": case.order_id, "kind": case.kind},
        )

    def _settle_after_sale(self, case: Case, outcome: str) -> None:
        if self.after_sales is None or case.order_id is None:
            raise InvalidStateTransition("no after-sales port is wired to settle this case")
        if case.kind == "dispute":
            self.after_sales.resolve_dispute(case.order_id, outcome)
        else:
            self.after_sales.settle_return(case.order_id, accept=outcome == "refund")

    def close_settled(self, tx: LedgerTransaction, kind: str, order_id: str, outcome: str) -> int:
        """Close the order's undecided ``kind`` cases: the dispute or return was settled on its
        own route (the case feed calls this); how many closed."""
        query = select(risk_cases).where(
            _C.tenant == self.tenant,
            _C.kind == kind,
            _C.order_id == order_id,
            _C.status.in_(("open", "assigned")),  # not one being decided here
        )
        found = [_case(row) for row in tx.conn.execute(query.with_for_update()).mappings()]
        for case in found:
            self._close(tx, case, "settled", outcome, "after-sales")
        return len(found)

    def _check_outcome(self, case: Case, outcome: str) -> bool:
        """Whether the outcome acts on a held order; refuses an outcome that does not fit."""
        allowed = _AFTER_SALES_OUTCOMES.get(case.kind)
        if allowed is not None:
            if outcome not in allowed:
                raise InvalidInput(f"a {case.kind} case is decided {' or '.join(allowed)}")
            return False
        if case.kind in ("merchant_review", *COMPLIANCE_KINDS) and outcome == "refund":
            what = case.kind.replace("_", " ").replace("aml", "monitoring")
            raise InvalidInput(f"a {what} is released (cleared) or rejected (confirmed)")
        if case.order_id is not None and case.kind == "fraud_review":
            if outcome == "reject":
                raise InvalidInput("a held order is released or refunded, not rejected")
            if self.orders is None:
                raise InvalidStateTransition("no payments port is wired to act on held orders")
            if not self.orders.is_held(case.order_id):
                raise InvalidStateTransition(
                    f"order {case.order_id} is not held: it was refunded, or paid another way"
                )
            return True
        if outcome == "refund":
            raise InvalidInput("only a held order can be refunded; release or reject this case")
        return False

    def _label(self, tx: LedgerTransaction, case: Case, outcome: str) -> None:
        if case.decision_id is not None:
            status = {"release": "released", "refund": "refunded", "reject": "rejected"}[outcome]
            label = "good" if outcome == "release" else "fraud"
            store.set_decision(tx.conn, self.tenant, case.decision_id, status=status, label=label)

    def _undecided(self, conn: Connection, case_id: str) -> Case:
        case = self._get(conn, case_id, for_update=True)
        if case.status == "decided":
            raise InvalidStateTransition(f"case {case_id} was decided already ({case.outcome})")
        return case

    def _set(self, conn: Connection, case_id: str, **values: object) -> None:
        conn.execute(
            update(risk_cases)
            .where(_C.tenant == self.tenant, _C.case_id == case_id)
            .values(**values)
        )

    def _event(
        self,
        conn: Connection,
        case_id: str,
        kind: str,
        actor: str,
        body: dict[str, Any],
        at: int | None = None,
    ) -> CaseEvent:
        seq = 1 + int(
            conn.execute(
                select(func.coalesce(func.max(_E.seq), 0)).where(
                    _E.tenant == self.tenant, _E.case_id == case_id
                )
            ).scalar_one()
        )
        when = self.clock.now_ns() if at is None else at
        conn.execute(
            insert(risk_case_events).values(
                tenant=self.tenant,
                case_id=case_id,
                seq=seq,
                kind=kind,
                actor=actor,
                body=json.dumps(body, sort_keys=True),
                at=when,
            )
        )
        return CaseEvent(seq, kind, actor, body, when)
