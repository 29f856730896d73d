"""Automated reconciliation (自动化对账): a channel's settlement file against our books.

Three-way: every line of the file must match a succeeded payment attempt (by the channel's
charge reference) and that attempt must have its ledger transfer; every payment we booked on
that channel within the file's dates must appear in the file. Matching allows a configurable
amount tolerance and value-date window. What does not match becomes a stored *break* that a
person resolves with a note.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.core.money import Money
from embedfin.db.tables import payment_attempts, recon_breaks, refunds
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.reconciliation.statements import StatementLine, parse_statement
from embedfin.payments.requests import check_name, transfer_id


class BreakKind(StrEnum):
    MISSING_IN_BOOKS = "missing_in_books"
    MISSING_IN_FILE = "missing_in_file"
    MISSING_IN_LEDGER = "missing_in_ledger"
    AMOUNT_MISMATCH = "amount_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    TIMING_DIFFERENCE = "timing_difference"


@dataclass(frozen=True, slots=True)
class BookEntry:
    """A payment we booked on the channel: its reference, amount and day, and whether the
    ledger holds its transfer."""

    reference: str
    amount: Money
    booked_on: date
    in_ledger: bool


@dataclass(frozen=True, slots=True)
class Break:
    kind: BreakKind
    reference: str
    expected: str
    actual: str


@dataclass(frozen=True, slots=True)
class StoredBreak:
    """A break as it is kept until someone resolves it.

    Attributes:
        break_id: its id (``brk_…``).
        kind: a ``BreakKind`` value.
        channel: the channel whose statement it came from.
        reference: the channel's reference of the line (or of our booking).
        expected: what our books say.
        actual: what the statement says.
        status: ``open`` or ``resolved``.
    """

    break_id: str
    kind: str
    channel: str
    reference: str
    expected: str
    actual: str
    status: str


@dataclass(frozen=True, slots=True)
class ReconReport:
    run_id: str
    lines: int
    matched: int
    breaks: list[Break]


def match(
    lines: Sequence[StatementLine],
    books: Sequence[BookEntry],
    amount_tolerance_minor: int = 0,
    date_tolerance_days: int = 1,
) -> tuple[int, list[Break]]:
    """Pure matching: how many lines matched, and the breaks.

    Steps: each line, in file order, is a repeat of a reference already seen, or is checked
    against its book entry (:func:`_line_break`); then the book entries in the file's date range
    that no line mentions are missing in the file.
    """
    breaks: list[Break] = []
    by_reference = {b.reference: b for b in books}
    seen = Counter(line.reference for line in lines)
    matched = 0
    used: set[str] = set()
    for line in lines:
        if seen[line.reference] > 1 and line.reference in used:
            breaks.append(
                Break(
                    BreakKind.DUPLICATE_IN_FILE,
                    line.reference,
                    "one line",
                    f"line {line.line_no} repeats it",
                )
            )
            continue
        used.add(line.reference)
        found = _line_break(
            line, by_reference.get(line.reference), amount_tolerance_minor, date_tolerance_days
        )
        if found is None:
            matched += 1
        else:
            breaks.append(found)
    breaks += _missing_in_file(lines, books, seen, date_tolerance_days)
    return matched, breaks


def _line_break(
    line: StatementLine,
    book: BookEntry | None,
    amount_tolerance_minor: int,
    date_tolerance_days: int,
) -> Break | None:
    """The first difference between a statement line and its book entry; None when they match."""
    if book is None:
        return Break(
            BreakKind.MISSING_IN_BOOKS,
            line.reference,
            "a booked payment",
            f"{line.amount} on {line.value_date} (line {line.line_no})",
        )
    if not book.in_ledger:
        return Break(
            BreakKind.MISSING_IN_LEDGER,
            line.reference,
            "the ledger transfer",
            "attempt succeeded, transfer absent",
        )
    if book.amount.currency != line.amount.currency:
        return Break(
            BreakKind.CURRENCY_MISMATCH, line.reference, str(book.amount), str(line.amount)
        )
    if abs(book.amount.amount_minor - line.amount.amount_minor) > amount_tolerance_minor:
        return Break(BreakKind.AMOUNT_MISMATCH, line.reference, str(book.amount), str(line.amount))
    if abs((line.value_date - book.booked_on).days) > date_tolerance_days:
        return Break(
            BreakKind.TIMING_DIFFERENCE,
            line.reference,
            book.booked_on.isoformat(),
            line.value_date.isoformat(),
        )
    return None


def _missing_in_file(
    lines: Sequence[StatementLine],
    books: Sequence[BookEntry],
    seen: Counter[str],
    date_tolerance_days: int,
) -> list[Break]:
    """Book entries dated within the file's range (with tolerance) that no line mentions."""
    if not lines:
        return []
    first = min(line.value_date for line in lines) - timedelta(days=date_tolerance_days)
    last = max(line.value_date for line in lines) + timedelta(days=date_tolerance_days)
    return [
        Break(
            BreakKind.MISSING_IN_FILE,
            book.reference,
            f"{book.amount} on {book.booked_on}",
            "no line",
        )
        for book in books
        if book.reference not in seen and first <= book.booked_on <= last
    ]


class Reconciliation:
    def __init__(self, ledger: Ledger, tenant: str) -> None:
        self.ledger = ledger
        self.tenant = check_name("tenant", tenant)

    def run(
        self,
        path: Path | bytes,
        channel: str,
        *,
        amount_tolerance_minor: int = 0,
        date_tolerance_days: int = 1,
    ) -> ReconReport:
        if amount_tolerance_minor < 0 or date_tolerance_days < 0:
            raise InvalidInput("tolerances must not be negative")
        lines = parse_statement(path)
        books = self._books(check_name("channel", channel))
        matched, breaks = match(lines, books, amount_tolerance_minor, date_tolerance_days)
        run_id = "recon_" + secrets.token_hex(8)
        now = self.ledger.clock.now_ns()
        if breaks:
            with self.ledger.transaction() as tx:
                tx.conn.execute(
                    insert(recon_breaks),
                    [
                        {
                            "break_id": "brk_" + secrets.token_hex(10),
                            "tenant": self.tenant,
                            "run_id": run_id,
                            "channel": channel,
                            "kind": str(b.kind),
                            "reference": b.reference[:128],
                            "expected": b.expected,
                            "actual": b.actual,
                            "status": "open",
                            "created_at": now,
                        }
                        for b in breaks
                    ],
                )
        return ReconReport(run_id, len(lines), matched, breaks)

    def open_breaks(self) -> list[dict[str, object]]:
        with self.ledger.transaction() as tx:
            rows = (
                tx.conn.execute(
                    select(recon_breaks)
                    .where(recon_breaks.c.tenant == self.tenant, recon_breaks.c.status == "open")
                    .order_by(recon_breaks.c.created_at, recon_breaks.c.break_id)
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]

    def list_breaks(
        self, limit: int, starting_after: str | None = None, status: str | None = None
    ) -> tuple[list[StoredBreak], bool]:
        """Breaks by id (all, or ``open`` / ``resolved`` ones); and whether there are more."""
        b = recon_breaks.c
        query = select(recon_breaks).where(b.tenant == self.tenant)
        if status is not None:
            query = query.where(b.status == status)
        if starting_after is not None:
            query = query.where(b.break_id > starting_after)
        with self.ledger.reader() as conn:
            rows = conn.execute(query.order_by(b.break_id).limit(limit + 1)).all()
        return [_stored_break(r) for r in rows[:limit]], len(rows) > limit

    def get_break(self, break_id: str) -> StoredBreak:
        """One break, read in the caller's unit of work (it sees a resolution just made)."""
        b = recon_breaks.c
        with self.ledger.transaction() as tx:
            row = tx.conn.execute(
                select(recon_breaks).where(b.tenant == self.tenant, b.break_id == break_id)
            ).first()
        if row is None:
            raise NotFound(f"no break {break_id}")
        return _stored_break(row)

    def resolve(self, break_id: str, note: str) -> None:
        check_name("note", note, 500)
        with self.ledger.transaction() as tx:
            changed = tx.conn.execute(
                update(recon_breaks)
                .where(
                    recon_breaks.c.tenant == self.tenant,
                    recon_breaks.c.break_id == break_id,
                    recon_breaks.c.status == "open",
                )
                .values(status="resolved", note=note, resolved_at=self.ledger.clock.now_ns())
            ).rowcount
        if changed != 1:
            raise NotFound(f"no open break {break_id}")

    def _books(self, channel: str) -> list[BookEntry]:
        """What the books say went through the channel: its charges and, negative, its refunds."""
        with self.ledger.transaction() as tx:
            return self._charges(tx, channel) + self._refunds(tx, channel)

    def _charges(self, tx: LedgerTransaction, channel: str) -> list[BookEntry]:
        a = payment_attempts.c
        rows = tx.conn.execute(
            select(
                a.request_id, a.order_id, a.amount_minor, a.currency, a.channel_ref, a.updated_at
            ).where(a.tenant == self.tenant, a.channel == channel, a.status == "succeeded")
        ).all()
        legs = {
            transfer_id(self.tenant, f"order:{order_id}", step): request_id
            for request_id, order_id, *_ in rows
            for step in ("channel_pay", f"overpay:{request_id}")
        }
        present = {t.id for t in tx.lookup_transfers(list(legs))}
        found_requests = {legs[t] for t in present}
        return [
            BookEntry(
                channel_ref,
                Money(amount, currency_code),
                _day(updated_at),
                request_id in found_requests,
            )
            for request_id, _order, amount, currency_code, channel_ref, updated_at in rows
        ]

    def _refunds(self, tx: LedgerTransaction, channel: str) -> list[BookEntry]:
        r = refunds.c
        rows = tx.conn.execute(
            select(
                r.request_id, r.order_id, r.channel_minor, r.currency, r.channel_ref, r.updated_at
            ).where(
                r.tenant == self.tenant,
                r.channel == channel,
                r.status == "succeeded",
                r.channel_minor > 0,
                r.reason != "chargeback",  # taken back by the issuer, not refunded by us
            )
        ).all()
        legs = {
            transfer_id(self.tenant, f"order:{order_id}", f"refund:{request_id}"): request_id
            for request_id, order_id, *_ in rows
        }
        present = {legs[t.id] for t in tx.lookup_transfers(list(legs))}
        return [
            BookEntry(channel_ref, Money(-minor, code), _day(at), request_id in present)
            for request_id, _order, minor, code, channel_ref, at in rows
            if channel_ref
        ]


def _day(at_ns: int) -> date:
    return datetime.fromtimestamp(at_ns / NS_PER_SECOND, tz=UTC).date()


def _stored_break(row: Any) -> StoredBreak:
    return StoredBreak(
        row.break_id, row.kind, row.channel, row.reference, row.expected, row.actual, row.status
    )


def report_json(report: ReconReport) -> str:
    return json.dumps(
        {
            "run_id": report.run_id,
            "lines": report.lines,
            "matched": report.matched,
            "breaks": [
                {
                    "kind": str(b.kind),
                    "reference": b.reference,
                    "expected": b.expected,
                    "actual": b.actual,
                }
                for b in report.breaks
            ],
        }
    )
