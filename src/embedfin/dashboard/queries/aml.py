"""The compliance officer's read model: the active sanctions/PEP list, the hits by status and
category, the open hits (oldest first) and the latest decided ones; the reports to the financial
intelligence unit (due ones late first with their working days left, the latest filed ones) and
transaction monitoring's alerts (by typology, the latest ones).

A party appears by kind and id only: its name and birth date are stored encrypted
(``aml_parties``) and nothing here decrypts them. A hit's caption is the listed entry's name (the
list is public), and its case is the ``sanctions_hit`` case in the risk queue that decides it.
A report's subject and an alert's accounts are party keys (``buyer:b-1``), never names.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, Connection, and_, case, func, select

from embedfin.compliance.aml.workdays import working_days_left
from embedfin.core.errors import UnknownCurrency
from embedfin.core.money import currency as currency_of
from embedfin.db.tables import (
    aml_alerts,
    aml_kyb,
    aml_parties,
    aml_reports,
    aml_screening_hits,
    aml_watchlists,
    risk_cases,
)

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


# --- reports to the FIU and monitoring alerts -----------------------------------------------
_R = aml_reports.c
_A = aml_alerts.c
_K = aml_kyb.c


def amount_text(amount: Decimal, code: str) -> str:
    """``600,000.00 CNY``: grouped, at least the currency's decimals, never rounded."""
    try:
        places = currency_of(code).exponent
    except UnknownCurrency:  # "XXX": an alert over no single currency
        places = 2
    shown = amount.quantize(Decimal(1).scaleb(-places))
    if shown != amount:  # finer than the currency's minor unit: show every digit
        shown = amount.normalize()
    return f"{format(shown, ',f')} {code}"


@dataclass(frozen=True, slots=True)
class ReportCounts:
    """Reports due (late ones included), late (due before today) and filed."""

    due: int
    late: int
    filed: int


@dataclass(frozen=True, slots=True)
class DueReport:
    """A report waiting to be filed: ``days_left`` working days to ``due_on`` (negative: late)."""

    report_id: str
    kind: str
    subject: str
    business_day: str | None
    amount: Decimal
    currency: str
    due_on: str
    days_left: int
    late: bool
    case_id: str | None

    @property
    def amount_text(self) -> str:
        return amount_text(self.amount, self.currency)


@dataclass(frozen=True, slots=True)
class FiledReport:
    report_id: str
    kind: str
    subject: str
    filed_at: int
    digest: str
    corrects: str | None

    @property
    def digest_prefix(self) -> str:
        return self.digest[:12]


@dataclass(frozen=True, slots=True)
class AlertRow:
    """A monitoring alert: how many accounts and transactions, its first reason and its case."""

    alert_id: str
    typology: str
    accounts: int
    transactions: int
    amount: Decimal
    currency: str
    score: float
    reason: str
    case_id: str
    created_at: int

    @property
    def amount_text(self) -> str:
        return amount_text(self.amount, self.currency)


def report_counts(conn: Connection, tenant: str, today: date) -> ReportCounts:
    """The tenant's reports due, late and filed."""
    past = _R.due_on < today.isoformat()
    due, late, filed = conn.execute(
        select(
            func.count().filter(_R.status == "due"),
            func.count().filter(and_(_R.status == "due", past)),
            func.count().filter(_R.status == "filed"),
        ).where(_R.tenant == tenant)
    ).one()
    return ReportCounts(int(due), int(late), int(filed))


def due_reports(conn: Connection, tenant: str, today: date, limit: int = 100) -> list[DueReport]:
    """Reports waiting to be filed, the late ones first, then by deadline."""
    past = _R.due_on < today.isoformat()
    rows = conn.execute(
        select(
            _R.report_id,
            _R.kind,
            _R.subject,
            _R.business_day,
            _R.amount_micros,
            _R.currency,
            _R.due_on,
            _R.calendar,
            _R.case_id,
        )
        .where(_R.tenant == tenant, _R.status == "due")
        .order_by(case((past, 0), else_=1), _R.due_on, _R.created_at, _R.report_id)
        .limit(limit)
    ).all()
    return [
        DueReport(
            report_id=row.report_id,
            kind=row.kind,
            subject=row.subject,
            business_day=row.business_day,
            amount=Decimal(row.amount_micros).scaleb(-6),
            currency=row.currency,
            due_on=row.due_on,
            days_left=working_days_left(today, date.fromisoformat(row.due_on), row.calendar),
            late=today > date.fromisoformat(row.due_on),
            case_id=row.case_id,
        )
        for row in rows
    ]


def filed_reports(conn: Connection, tenant: str, limit: int = 20) -> list[FiledReport]:
    """The latest filed reports, the newest first."""
    rows = conn.execute(
        select(_R.report_id, _R.kind, _R.subject, _R.filed_at, _R.digest, _R.corrects)
        .where(_R.tenant == tenant, _R.status == "filed")
        .order_by(_R.filed_at.desc(), _R.report_id)
        .limit(limit)
    ).all()
    return [
        FiledReport(
            report_id=row.report_id,
            kind=row.kind,
            subject=row.subject,
            filed_at=int(row.filed_at or 0),
            digest=row.digest or "",
            corrects=row.corrects,
        )
        for row in rows
    ]


def alert_counts(conn: Connection, tenant: str) -> dict[str, int]:
    """How many alerts of each typology (alphabetical)."""
    rows = conn.execute(
        select(_A.typology, func.count())
        .where(_A.tenant == tenant)
        .group_by(_A.typology)
        .order_by(_A.typology)
    ).all()
    return {typology: int(n) for typology, n in rows}


def latest_alerts(conn: Connection, tenant: str, limit: int = 20) -> list[AlertRow]:
    """The latest monitoring alerts, the newest first."""
    rows = conn.execute(
        select(
            _A.alert_id,
            _A.typology,
            _A.accounts,
            _A.transactions,
            _A.amount,
            _A.currency,
            _A.score,
            _A.reasons,
            _A.case_id,
            _A.created_at,
        )
        .where(_A.tenant == tenant)
        .order_by(_A.created_at.desc(), _A.alert_id)
        .limit(limit)
    ).all()
    alerts = []
    for row in rows:
        reasons = json.loads(row.reasons)
        alerts.append(
            AlertRow(
                alert_id=row.alert_id,
                typology=row.typology,
                accounts=len(json.loads(row.accounts)),
                transactions=len(json.loads(row.transactions)),
                amount=Decimal(row.amount),
                currency=row.currency,
                score=float(row.score),
                reason=str(reasons[0]) if reasons else "",
                case_id=row.case_id,
                created_at=row.created_at,
            )
        )
    return alerts


@dataclass(frozen=True, slots=True)
class KybRow:
    merchant_id: str
    country: str
    status: str
    case_id: str
    submitted_at: int


def kyb_counts(conn: Connection, tenant: str) -> dict[str, int]:
    """KYB submissions by status (``submitted``, ``verified``, ``rejected``)."""
    rows = conn.execute(
        select(_K.status, func.count()).where(_K.tenant == tenant).group_by(_K.status)
    ).all()
    return {status: int(n) for status, n in sorted(rows)}


def kyb_under_review(conn: Connection, tenant: str, limit: int = 50) -> list[KybRow]:
    """Merchants whose KYB review is open, the longest waiting first (no legal names: those
    are encrypted and stay in the review)."""
    rows = conn.execute(
        select(_K.merchant_id, _K.country, _K.status, _K.case_id, _K.submitted_at)
        .where(_K.tenant == tenant, _K.status == "submitted")
        .order_by(_K.submitted_at, _K.merchant_id)
        .limit(limit)
    ).all()
    return [KybRow(*row) for row in rows]
