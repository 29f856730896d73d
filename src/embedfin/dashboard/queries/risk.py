"""The risk officer's read model: the case queue, rule hit rates, actions and scores per day."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from embedfin.db.tables import risk_cases, risk_decisions

DAY_NS = 86_400 * 1_000_000_000
#: Decisions a page looks back over (the newest ones).
WINDOW = 20_000


@dataclass(frozen=True, slots=True)
class QueueRow:
    case_id: str
    kind: str
    status: str
    summary: str
    amount_minor: int
    currency: str
    assignee: str | None
    opened_at: int
    due_at: int
    late: bool


@dataclass(frozen=True, slots=True)
class RuleHits:
    rule: str
    live: int
    shadow: int
    fraud: int
    good: int

    def rate(self, decisions: int) -> float:
        return (self.live + self.shadow) / decisions if decisions else 0.0

    @property
    def precision(self) -> float | None:
        labelled = self.fraud + self.good
        return self.fraud / labelled if labelled else None


@dataclass(frozen=True, slots=True)
class DailyActions:
    day: int
    counts: dict[str, int]
    fraud: int
    good: int


def case_queue(conn: Connection, tenant: str, now: int, limit: int = 50) -> list[QueueRow]:
    """Undecided cases, the most urgent first."""
    c = risk_cases.c
    rows = conn.execute(
        select(
            c.case_id,
            c.kind,
            c.status,
            c.summary,
            c.amount_minor,
            c.currency,
            c.assignee,
            c.opened_at,
            c.due_at,
        )  # fmt: skip
        .where(c.tenant == tenant, c.status != "decided")
        .order_by(c.due_at, c.case_id)
        .limit(limit)
    ).all()
    return [QueueRow(*row, late=now > row.due_at) for row in rows]


def decided_count(conn: Connection, tenant: str) -> int:
    c = risk_cases.c
    query = select(func.count()).where(c.tenant == tenant, c.status == "decided")
    return int(conn.execute(query).scalar_one())


def _recent(conn: Connection, tenant: str) -> list[tuple[str, str, str, str, int]]:
    d = risk_decisions.c
    rows = conn.execute(
        select(d.action, d.label, d.live_hits, d.shadow_hits, d.created_at)
        .where(d.tenant == tenant)
        .order_by(d.created_at.desc())
        .limit(WINDOW)
    ).all()
    return [tuple(row) for row in rows]


def rule_hits(conn: Connection, tenant: str) -> tuple[int, list[RuleHits]]:
    """How many recent decisions there were, and each rule's hits among them (live and
    shadow) with the labels of the decisions it hit."""
    live: Counter[str] = Counter()
    shadow: Counter[str] = Counter()
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    recent = _recent(conn, tenant)
    for _, label, live_hits, shadow_hits, _ in recent:
        for hit in json.loads(live_hits):
            rule = hit.rpartition("@")[0]
            live[rule] += 1
            labels[rule][label] += 1
        for hit in json.loads(shadow_hits):
            rule = hit.rpartition("@")[0]
            shadow[rule] += 1
            labels[rule][label] += 1
    rules = sorted(set(live) | set(shadow), key=lambda r: -(live[r] + shadow[r]))
    return len(recent), [
        RuleHits(r, live[r], shadow[r], labels[r]["fraud"], labels[r]["good"]) for r in rules
    ]


def daily_actions(conn: Connection, tenant: str) -> list[DailyActions]:
    """Per day: how many checks ended in each action, and how many are labelled fraud/good."""
    days: dict[int, Counter[str]] = defaultdict(Counter)
    for action, label, _, _, at in _recent(conn, tenant):
        day = at // DAY_NS
        days[day][action] += 1
        days[day][f"label:{label}"] += 1
    return [
        DailyActions(
            day,
            {a: days[day][a] for a in ("allow", "challenge", "review", "block")},
            days[day]["label:fraud"],
            days[day]["label:good"],
        )
        for day in sorted(days)
    ]
