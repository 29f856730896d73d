"""The compliance officer's read model: the active sanctions/PEP list, the hits by status and
category, the open hits (oldest first) and the latest decided ones.

A party appears by kind and id only: its name and birth date are stored encrypted
(``aml_parties``) and nothing here decrypts them. A hit's caption is the listed entry's name (the
list is public), and its case is the ``sanctions_hit`` case in the risk queue that decides it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, func, select

from embedfin.db.tables import aml_parties, aml_screening_hits, aml_watchlists, risk_cases

STATUSES = ("open", "cleared", "confirmed")
_H = aml_screening_hits.c
_C = risk_cases.c
#: what a ``HitRow`` shows: the hit's columns and its case's
_HIT_COLUMNS = (
    _H.hit_id,
    _H.party_kind,
    _H.party_id,
    _H.caption,
    _H.category,
    _H.score,
    _H.status,
    _H.case_id,
    _H.created_at,
    _H.decided_at,
    _C.due_at,
    _C.decided_by,
)


@dataclass(frozen=True, slots=True)
class ActiveList:
    """The list parties are screened against, and how many of them are (``screened``: against
    this list; the rest were recorded while it was loading and wait for their turn)."""

    list_id: str
    name: str
    entries: int
    skipped: int
    loaded_at: int
    loaded_by: str
    parties: int
    screened: int


@dataclass(frozen=True, slots=True)
class HitCounts:
    """The hits of one category (``sanction``, ``pep``, ``watchlist``) by status."""

    category: str
    open: int
    cleared: int
    confirmed: int

    @property
    def total(self) -> int:
        return self.open + self.cleared + self.confirmed


@dataclass(frozen=True, slots=True)
class HitRow:
    """A hit and its case: ``due_at``/``late`` of an undecided case, ``decided_by`` of a
    decided one."""

    hit_id: str
    party_kind: str
    party_id: str
    caption: str
    category: str
    score: float
    status: str
    case_id: str
    created_at: int
    decided_at: int | None
    due_at: int | None
    decided_by: str | None
    age_ns: int
    late: bool

    @property
    def age_days(self) -> float:
        return self.age_ns / 86_400e9


def active_list(conn: Connection, tenant: str) -> ActiveList | None:
    """The tenant's active list, or None when none has been loaded."""
    w = aml_watchlists.c
    row = conn.execute(
        select(w.list_id, w.name, w.entries, w.skipped, w.loaded_at, w.loaded_by).where(
            w.tenant == tenant, w.active == 1
        )
    ).first()
    if row is None:
        return None
    p = aml_parties.c
    parties, screened = conn.execute(
        select(
            func.count(),
            func.count().filter(p.screened_list_id == row.list_id),
        ).where(p.tenant == tenant)
    ).one()
    return ActiveList(*row, parties=int(parties), screened=int(screened))


def hit_counts(conn: Connection, tenant: str) -> list[HitCounts]:
    """Per category (alphabetical), how many hits are open, cleared and confirmed."""
    rows = conn.execute(
        select(_H.category, _H.status, func.count())
        .where(_H.tenant == tenant)
        .group_by(_H.category, _H.status)
    ).all()
    by_category: dict[str, dict[str, int]] = defaultdict(dict)
    for category, status, count in rows:
        by_category[category][status] = int(count)
    return [
        HitCounts(category, *(by_category[category].get(s, 0) for s in STATUSES))
        for category in sorted(by_category)
    ]


def totals(counts: list[HitCounts]) -> HitCounts:
    """All categories together."""
    return HitCounts(
        "all",
        sum(c.open for c in counts),
        sum(c.cleared for c in counts),
        sum(c.confirmed for c in counts),
    )


def _hits(
    conn: Connection,
    tenant: str,
    now: int,
    where: ColumnElement[bool],
    order: tuple[ColumnElement[object], ...],
    limit: int,
) -> list[HitRow]:
    case = and_(_C.tenant == _H.tenant, _C.case_id == _H.case_id)
    rows = conn.execute(
        select(*_HIT_COLUMNS)
        .select_from(aml_screening_hits.outerjoin(risk_cases, case))
        .where(_H.tenant == tenant, where)
        .order_by(*order)
        .limit(limit)
    ).all()
    return [
        HitRow(
            **row._mapping,
            age_ns=max(0, now - row.created_at),
            late=row.status == "open" and row.due_at is not None and now > row.due_at,
        )
        for row in rows
    ]


def open_hits(conn: Connection, tenant: str, now: int, limit: int = 100) -> list[HitRow]:
    """Hits waiting for their case's decision, the oldest first (the best match first among
    those of one screening)."""
    order = (_H.created_at, _H.score.desc(), _H.hit_id)
    return _hits(conn, tenant, now, _H.status == "open", order, limit)


def decided_hits(conn: Connection, tenant: str, now: int, limit: int = 20) -> list[HitRow]:
    """The latest cleared or confirmed hits, the newest decision first."""
    order = (_H.decided_at.desc(), _H.hit_id)
    return _hits(conn, tenant, now, _H.status != "open", order, limit)
