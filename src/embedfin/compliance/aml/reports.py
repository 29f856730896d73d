"""Reports to the financial intelligence unit: due with a deadline, then filed, never changed.

* **Large-value** (PRC) or **CTR** (FinCEN) reports fall due on their own: the monitor's
  same-day totals (``sameday.py``) reach a rule's line and :meth:`Reports.threshold_total`
  records the report due ``deadline`` working (or calendar) days after the business day, with
  every transaction of the total. More transactions the same day join it while it is due; once
  it is filed they make a supplementary report (``…#2``).
* **Suspicious** (PRC STR) or **SAR** (FinCEN) reports fall due when an analyst confirms a
  monitoring alert (its case is decided ``reject``): due from the day of confirmation.
* :meth:`Reports.file` writes the document (``report_document.py``), validates it against the
  schema, stores it encrypted with its SHA-256, and marks the report ``filed``. A filed report
  cannot be changed or deleted — the database's triggers refuse it, whoever writes — and
  :meth:`Reports.correct` files a new report naming the one it corrects and why.

Deadlines are tracked: every report carries ``due_on`` and the dashboard and ``embedfin aml
reports`` show the working days left, late ones first.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, func, insert, select, update

from embedfin.compliance.aml import report_document as doc
from embedfin.compliance.aml.rulepacks import Deadline, Rule, RulePack
from embedfin.compliance.aml.workdays import due_date, working_days_left
from embedfin.core.clock import Clock
from embedfin.core.errors import InvalidInput, InvalidStateTransition, NotFound
from embedfin.db.tables import aml_reports, aml_transactions
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.risk.text import checked_text
from embedfin.security.crypto import FieldCipher

#: a party's name, birth date and country as screening knows them
Identity = tuple[str, str | None, str | None]
_R = aml_reports.c
_T = aml_transactions.c
STATUSES = ("due", "filed")


@dataclass(frozen=True, slots=True)
class Report:
    report_id: str
    kind: str
    status: str
    subject: str
    pack_id: str
    rule_id: str | None
    case_id: str | None
    business_day: str | None
    amount: Decimal
    currency: str
    transactions: tuple[str, ...]
    reasons: tuple[str, ...]
    due_on: str
    calendar: str
    created_at: int
    filed_at: int | None
    filed_by: str | None
    digest: str | None
    corrects: str | None

    def days_left(self, today: date) -> int:
        """Working days to the deadline (negative: late); a filed report has none left."""
        return working_days_left(today, date.fromisoformat(self.due_on), self.calendar)

    def late(self, today: date) -> bool:
        return self.status == "due" and today > date.fromisoformat(self.due_on)


def _report(row: Any) -> Report:
    return Report(
        report_id=row.report_id,
        kind=row.kind,
        status=row.status,
        subject=row.subject,
        pack_id=row.pack_id,
        rule_id=row.rule_id,
        case_id=row.case_id,
        business_day=row.business_day,
        amount=Decimal(row.amount_micros).scaleb(-6),
        currency=row.currency,
        transactions=tuple(json.loads(row.transactions)),
        reasons=tuple(json.loads(row.reasons)),
        due_on=row.due_on,
        calendar=row.calendar,
        created_at=row.created_at,
        filed_at=row.filed_at,
        filed_by=row.filed_by,
        digest=row.digest,
        corrects=row.corrects,
    )


def _micros_text(micros: int) -> str:
    return format(Decimal(micros).scaleb(-6).normalize(), "f")


class Reports:
    """One tenant's reports."""

    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        cipher: FieldCipher | None = None,
        identity: Callable[[str, str], Identity | None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.cipher = cipher
        #: ``identity(party_kind, party_id)`` → (name, birth_date, country) or None (screening)
        self.identity = identity
        self.clock = clock or ledger.clock

    # --- falling due -----------------------------------------------------------------------
    def threshold_total(
        self,
        tx: LedgerTransaction,
        pack: RulePack,
        rule: Rule,
        key: str,
        account: str,
        day: date,
        legs: Sequence[tuple[str, int]],
    ) -> Report | None:
        """Record (or extend) the report a same-day total at the line makes due; ``legs`` are
        the total's (transaction id, millionths). None when every leg is reported already."""
        existing = [
            _report(row)
            for row in tx.conn.execute(
                select(aml_reports)
                .where(
                    _R.tenant == self.tenant,
                    (_R.dedupe_key == key) | _R.dedupe_key.like(f"{_like(key)}#%", escape="\\"),
                )
                .order_by(_R.created_at, _R.report_id)
                .with_for_update()
            )
        ]
        filed = {t for r in existing if r.status == "filed" for t in r.transactions}
        left = sorted((t, m) for t, m in legs if t not in filed)
        if not left:
            return None
        ids = [t for t, _ in left]
        total = sum(m for _, m in left)
        line = f"{'at least' if rule.at_least is not None else 'more than'} {rule.line:,}"
        side = "paid out" if key.split("/")[2] == "out" else "received"
        reasons = [
            f"{account} {side} {_micros_text(total)} {rule.currency} in {len(ids)} transaction(s)"
            f" on {day.isoformat()} ({pack.timezone})",
            f"rule {pack.id}/{rule.id}: {line} {rule.currency} the same day"
            f" ({pack.source or pack.title})",
        ]
        due = [r for r in existing if r.status == "due"]
        if due:
            report = due[-1]
            tx.conn.execute(
                update(aml_reports)
                .where(_R.tenant == self.tenant, _R.report_id == report.report_id)
                .values(
                    transactions=json.dumps(ids),
                    amount_micros=total,
                    reasons=json.dumps(reasons, ensure_ascii=False),
                )
            )
            return self._get(tx.conn, report.report_id)
        dedupe = key if not existing else f"{key}#{len(existing) + 1}"
        if existing:
            reasons.append(f"supplements {existing[-1].report_id}, filed before these arrived")
        return self._insert(
            tx,
            deadline=pack,
            calendar=pack.calendar,
            start=day,
            kind=pack.report,
            dedupe_key=dedupe,
            subject=account,
            pack_id=pack.id,
            rule_id=rule.id,
            case_id=None,
            business_day=day.isoformat(),
            amount_micros=total,
            currency=rule.currency,
            transactions=ids,
            reasons=reasons,
        )

    def suspicious(
        self,
        tx: LedgerTransaction,
        pack: RulePack,
        case_id: str,
        subject: str,
        transactions: Sequence[str],
        amount_micros: int,
        currency: str,
        reasons: Sequence[str],
        confirmed_on: date,
    ) -> Report:
        """The suspicious-transaction report an alert confirmed by its case makes due."""
        if pack.suspicious is None:
            raise InvalidStateTransition(f"rule pack {pack.id} says nothing of suspicious reports")
        return self._insert(
            tx,
            deadline=pack.suspicious,
            calendar=pack.calendar,
            start=confirmed_on,
            kind=pack.suspicious.report,
            dedupe_key=f"case/{case_id}",
            subject=subject,
            pack_id=pack.id,
            rule_id=None,
            case_id=case_id,
            business_day=None,
            amount_micros=amount_micros,
            currency=currency,
            transactions=list(transactions),
            reasons=[*reasons, f"confirmed suspicious by case {case_id}"
                     f" ({pack.suspicious.source or pack.title})"],
        )  # fmt: skip

    def _insert(
        self,
        tx: LedgerTransaction,
        *,
        deadline: Deadline,
        calendar: str,
        start: date,
        **values: Any,
    ) -> Report:
        days, unit = deadline.deadline
        report_id = f"rep_{secrets.token_hex(12)}"
        row = {
            **values,
            "tenant": self.tenant,
            "report_id": report_id,
            "status": "due",
            "transactions": json.dumps(list(values["transactions"])),
            "reasons": json.dumps(list(values["reasons"]), ensure_ascii=False),
            "due_on": due_date(start, days, unit, calendar).isoformat(),
            "calendar": calendar,
            "created_at": self.clock.now_ns(),
        }
        tx.conn.execute(insert(aml_reports).values(row))
        report = self._get(tx.conn, report_id)
        tx.emit(
            self.tenant,
            "aml_report_due",
            "aml_report",
            report_id,
            {"kind": report.kind, "due_on": report.due_on, "subject": report.subject},
        )
        return report

    # --- filing ------------------------------------------------------------------------------
    def file(self, report_id: str, narrative: str, actor: str) -> Report:
        """File a due report: its document written, validated, hashed and stored; once."""
        narrative = checked_text("narrative", narrative, 10_000, multiline=True)
        with self.ledger.transaction() as tx:
            report = self._get(tx.conn, report_id, for_update=True)
            if report.status == "filed":
                raise InvalidStateTransition(f"report {report_id} was filed already")
            return self._file(tx, report, narrative, actor, None, None)

    def correct(self, report_id: str, narrative: str, reason: str, actor: str) -> Report:
        """File a correction of a filed report: a new report, the old one unchanged."""
        narrative = checked_text("narrative", narrative, 10_000, multiline=True)
        reason = checked_text("reason", reason, 2_000, multiline=True)
        with self.ledger.transaction() as tx:
            # locked (a read lock on its row; triggers refuse only writes): corrections of one
            # report are numbered one after another, never both as the same next number
            original = self._get(tx.conn, report_id, for_update=True)
            if original.status != "filed":
                raise InvalidStateTransition(f"report {report_id} is not filed: file it instead")
            n = tx.conn.execute(
                select(func.count())
                .select_from(aml_reports)
                .where(_R.tenant == self.tenant, _R.corrects == report_id)
            ).scalar_one()
            correction_id = f"rep_{secrets.token_hex(12)}"
            values = {
                "tenant": self.tenant,
                "report_id": correction_id,
                "dedupe_key": f"correction/{report_id}/{n + 1}",
                "kind": original.kind,
                "status": "due",
                "subject": original.subject,
                "pack_id": original.pack_id,
                "rule_id": original.rule_id,
                "case_id": original.case_id,
                "business_day": original.business_day,
                "amount_micros": int(original.amount.scaleb(6)),
                "currency": original.currency,
                "transactions": json.dumps(list(original.transactions)),
                "reasons": json.dumps(list(original.reasons), ensure_ascii=False),
                "due_on": original.due_on,
                "calendar": original.calendar,
                "created_at": self.clock.now_ns(),
                "corrects": report_id,
            }
            tx.conn.execute(insert(aml_reports).values(values))
            correction = self._get(tx.conn, correction_id)
            return self._file(tx, correction, narrative, actor, report_id, reason)

    def _file(
        self,
        tx: LedgerTransaction,
        report: Report,
        narrative: str,
        actor: str,
        corrects: str | None,
        reason: str | None,
    ) -> Report:
        now = self.clock.now_ns()
        document = self._document(tx.conn, report, narrative, actor, now, corrects, reason)
        canonical = document.canonical()
        digest = doc.digest(canonical)
        stored = canonical
        if self.cipher is not None:
            stored = self.cipher.encrypt(canonical, _context(self.tenant, report.report_id))
        tx.conn.execute(
            update(aml_reports)
            .where(_R.tenant == self.tenant, _R.report_id == report.report_id, _R.status == "due")
            .values(status="filed", filed_at=now, filed_by=actor, document=stored, digest=digest)
        )
        tx.emit(
            self.tenant,
            "aml_report_filed",
            "aml_report",
            report.report_id,
            {"kind": report.kind, "digest": digest, "corrects": corrects},
        )
        return self._get(tx.conn, report.report_id)

    def _document(
        self,
        conn: Connection,
        report: Report,
        narrative: str,
        actor: str,
        now: int,
        corrects: str | None,
        reason: str | None,
    ) -> doc.ReportDocument:
        rows = {
            row.tx_id: row
            for row in conn.execute(
                select(aml_transactions).where(
                    _T.tenant == self.tenant, _T.tx_id.in_(list(report.transactions))
                )
            )
        }
        missing = [t for t in report.transactions if t not in rows]
        if missing:
            raise InvalidStateTransition(f"report {report.report_id}: transactions {missing} gone")
        party_kind, _, party_id = report.subject.partition(":")
        known = self.identity(party_kind, party_id) if self.identity else None
        name, birth_date, country = known or (None, None, None)
        kind = report.kind
        try:
            return doc.ReportDocument.model_validate(
                {
                    "schema": doc.SCHEMA_ID,
                    "report_id": report.report_id,
                    "kind": kind,
                    "title": doc.KIND_TITLES[kind],
                    "reporting_institution": self.tenant,
                    "legal_basis": report.reasons[1] if report.rule_id else report.reasons[-1],
                    "subject": {
                        "party": report.subject,
                        "holder": "person" if party_kind == "buyer" else "entity",
                        "name": name,
                        "birth_date": birth_date,
                        "country": country,
                    },
                    "business_day": report.business_day,
                    "rule_id": report.rule_id,
                    "total": format(report.amount.normalize(), "f"),
                    "currency": report.currency,
                    "transactions": [_transaction(rows[t]) for t in report.transactions],
                    "grounds": list(report.reasons),
                    "narrative": narrative,
                    "case_id": report.case_id,
                    "due_on": report.due_on,
                    "filed_at": _rfc3339(now),
                    "filed_by": actor,
                    "corrects": corrects,
                    "correction_reason": reason,
                }
            )
        except ValidationError as error:
            first = error.errors()[0]
            place = ".".join(str(part) for part in first["loc"])
            raise InvalidInput(f"the report does not validate: {place}: {first['msg']}") from None

    # --- reading -----------------------------------------------------------------------------
    def get(self, report_id: str) -> Report:
        with self.ledger.reader() as conn:
            return self._get(conn, report_id)

    def document(self, report_id: str) -> dict[str, Any]:
        """A filed report's document, its digest checked."""
        with self.ledger.reader() as conn:
            row = conn.execute(
                select(_R.document, _R.digest, _R.status).where(
                    _R.tenant == self.tenant, _R.report_id == report_id
                )
            ).first()
        if row is None:
            raise NotFound(f"no report {report_id}")
        if row.status != "filed" or row.document is None:
            raise InvalidStateTransition(f"report {report_id} is not filed yet")
        text = row.document
        if self.cipher is not None and not text.startswith("{"):
            text = self.cipher.decrypt(text, _context(self.tenant, report_id))
        if doc.digest(text) != row.digest:
            raise InvalidStateTransition(f"report {report_id}: the document is not what was filed")
        parsed: dict[str, Any] = json.loads(text)
        return parsed

    def list(
        self, status: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[Report]:
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
        query = select(aml_reports).where(_R.tenant == self.tenant)
        if status is not None:
            query = query.where(_R.status == status)
        if kind is not None:
            query = query.where(_R.kind == kind)
        query = query.order_by(_R.status, _R.due_on, _R.created_at).limit(max(1, min(limit, 1000)))
        with self.ledger.reader() as conn:
            return [_report(row) for row in conn.execute(query)]

    def counts(self, today: date) -> dict[str, int]:
        """How many are due, late (due and past the deadline) and filed."""
        with self.ledger.reader() as conn:
            rows = conn.execute(
                select(_R.status, _R.due_on < today.isoformat(), func.count())
                .where(_R.tenant == self.tenant)
                .group_by(_R.status, _R.due_on < today.isoformat())
            ).all()
        counts = {"due": 0, "late": 0, "filed": 0}
        for status, past, n in rows:
            counts[status] += n
            if status == "due" and past:
                counts["late"] += n
        return counts

    def _get(self, conn: Connection, report_id: str, *, for_update: bool = False) -> Report:
        query = select(aml_reports).where(_R.tenant == self.tenant, _R.report_id == report_id)
        row = conn.execute(query.with_for_update() if for_update else query).first()
        if row is None:
            raise NotFound(f"no report {report_id}")
        return _report(row)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _context(tenant: str, report_id: str) -> str:
    return f"aml_reports.document:{tenant}:{report_id}"


def _rfc3339(ns: int) -> str:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _transaction(row: Any) -> dict[str, str]:
    from embedfin.core.money import currency as currency_of

    amount = Decimal(row.amount_minor).scaleb(-currency_of(row.currency).exponent)
    return {
        "tx_id": row.tx_id,
        "occurred_at": _rfc3339(row.occurred_at),
        "kind": row.kind,
        "src": row.src,
        "dst": row.dst,
        "amount": format(amount, "f"),
        "currency": row.currency,
        "reference": row.reference,
    }
