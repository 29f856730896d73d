"""Revolving credit lines with a virtual card, usable at checkout.

A line has a limit, a funder and one virtual card: a token (``vc_…``, what the checkout sends;
shown once, at issue — only its SHA-256 is stored), the last four digits shown to the buyer, an
expiry month, and a freeze switch. A card payment
draws on the line: the order is financed by a "revolving" loan (due at the next statement, the
line's rate; serviced like every loan: accrual, waterfall, late fees, charge-off). What the line
has available is its limit less what its open draws still owe, checked with the line locked, so
two simultaneous card payments cannot overdraw it. Limit changes carry a reason and an event.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from embedfin.core.errors import (
    InvalidInput,
    InvalidStateTransition,
    LimitExceeded,
    NotFound,
    RiskRefused,
)
from embedfin.core.money import Money
from embedfin.db.tables import credit_lines, loans
from embedfin.ledger.service import LedgerTransaction
from embedfin.lending.servicing import Lending, Loan
from embedfin.payments.requests import check_name
from embedfin.risk.decision import RiskContext

REVOLVING_PLAN = "revolving"


@dataclass(frozen=True, slots=True)
class CreditLine:
    line_id: str
    buyer_id: str
    funder_id: str
    currency: str
    limit_minor: int
    card_token: str  # the token at issue; afterwards its SHA-256
    card_last4: str
    card_expiry: str  # YYYY-MM: valid through the month's end
    status: str  # active, frozen, closed


class CreditLines:
    def __init__(self, lending: Lending) -> None:
        self.lending = lending
        self.ledger = lending.ledger
        self.tenant = lending.tenant

    def open_line(
        self, line_id: str, buyer_id: str, limit: Money, funder_id: str, years_valid: int = 3
    ) -> CreditLine:
        check_name("line_id", line_id)
        if limit.amount_minor <= 0:
            raise InvalidInput("a credit line needs a positive limit")
        today = self.lending.today()
        line = CreditLine(
            line_id,
            check_name("buyer_id", buyer_id),
            check_name("funder_id", funder_id),
            limit.currency,
            limit.amount_minor,
            "vc_" + secrets.token_urlsafe(18),
            f"{secrets.randbelow(10_000):04d}",
            f"{today.year + years_valid:04d}-{today.month:02d}",
            "active",
        )
        with self.ledger.transaction() as tx:
            if self._load(tx.conn, line_id) is not None:
                raise InvalidStateTransition(f"line {line_id} exists")
            tx.conn.execute(
                insert(credit_lines).values(
                    tenant=self.tenant,
                    line_id=line.line_id,
                    buyer_id=line.buyer_id,
                    funder_id=line.funder_id,
                    currency=line.currency,
                    limit_minor=line.limit_minor,
                    card_token=_digest(line.card_token),
                    card_last4=line.card_last4,
                    card_expiry=line.card_expiry,
                    status=line.status,
                    created_at=self.lending.clock.now_ns(),
                )
            )
            self._event(tx, "credit_line_opened", line, {"limit_minor": line.limit_minor})
        return line

    def set_limit(self, line_id: str, limit: Money, reason: str) -> CreditLine:
        """Raise or lower the limit; the reason is kept in the event (and shown to the buyer)."""
        check_name("reason", reason, 200)
        with self.ledger.transaction() as tx:
            line = self._locked(tx.conn, line_id)
            if limit.currency != line.currency or limit.amount_minor < 0:
                raise InvalidInput(f"the line's limit is a non-negative {line.currency} amount")
            self._set(tx.conn, line_id, limit_minor=limit.amount_minor)
            self._event(
                tx,
                "credit_limit_changed",
                line,
                {"from_minor": line.limit_minor, "to_minor": limit.amount_minor, "reason": reason},
            )
            return self._locked(tx.conn, line_id)

    def freeze(self, line_id: str, frozen: bool = True) -> CreditLine:
        with self.ledger.transaction() as tx:
            line = self._locked(tx.conn, line_id)
            if line.status == "closed":
                raise InvalidStateTransition(f"line {line_id} is closed")
            self._set(tx.conn, line_id, status="frozen" if frozen else "active")
            self._event(tx, "card_frozen" if frozen else "card_unfrozen", line, {})
            return self._locked(tx.conn, line_id)

    def get(self, line_id: str) -> CreditLine:
        with self.ledger.current() as conn:
            line = self._load(conn, line_id)
        if line is None:
            raise NotFound(f"no credit line {line_id}")
        return line

    def available(self, line_id: str) -> int:
        with self.ledger.current() as conn:
            line = self._load(conn, line_id)
            if line is None:
                raise NotFound(f"no credit line {line_id}")
            return max(line.limit_minor - self._drawn(conn, line_id), 0)

    def pay_with_card(
        self,
        order_id: str,
        card_token: str,
        loan_id: str,
        context: RiskContext | None = None,
    ) -> Loan:
        """Pay an order awaiting payment with the virtual card (a draw on its line), after the
        risk check of the draw (the card authorisation); a refusal commits its decision."""
        refused: RiskRefused | None = None
        with self.ledger.transaction() as tx:
            row = tx.conn.execute(
                select(credit_lines.c.line_id).where(
                    credit_lines.c.tenant == self.tenant,
                    credit_lines.c.card_token == _digest(card_token),
                )
            ).first()
            if row is None:
                raise NotFound("no such card")
            line = self._locked(tx.conn, row.line_id)
            if line.status != "active":
                raise InvalidStateTransition(f"the card is {line.status}")
            if _expired(line.card_expiry, self.lending.today()):
                raise InvalidStateTransition("the card has expired")
            order = self.lending.checkout.locked_order(tx, order_id)
            if order.buyer_id != line.buyer_id:
                raise NotFound("no such card")  # another buyer's card: as if it did not exist
            if order.currency != line.currency:
                raise InvalidInput(f"the card draws in {line.currency}")
            left = line.limit_minor - self._drawn(tx.conn, line.line_id)
            if order.total_minor > left:
                raise LimitExceeded(f"the card has {max(left, 0)} minor units available")
            try:
                return self.lending.finance_order(
                    order_id,
                    REVOLVING_PLAN,
                    line.funder_id,
                    loan_id,
                    line_id=line.line_id,
                    context=context,
                )
            except RiskRefused as error:
                refused = error
        raise refused

    # --- internals -----------------------------------------------------------------------------
    def _drawn(self, conn: Connection, line_id: str) -> int:
        owed = conn.execute(
            select(
                func.coalesce(
                    func.sum(
                        loans.c.principal_outstanding + loans.c.interest_due + loans.c.fees_due
                    ),
                    0,
                )
            ).where(
                loans.c.tenant == self.tenant,
                loans.c.line_id == line_id,
                loans.c.status == "active",
            )
        ).scalar_one()
        return int(owed)

    def _load(self, conn: Connection, line_id: str, lock: bool = False) -> CreditLine | None:
        query = select(credit_lines).where(
            credit_lines.c.tenant == self.tenant, credit_lines.c.line_id == line_id
        )
        row = conn.execute(query.with_for_update() if lock else query).mappings().first()
        return _line(row) if row else None

    def _locked(self, conn: Connection, line_id: str) -> CreditLine:
        found = self._load(conn, line_id, lock=True)
        if found is None:
            raise NotFound(f"no credit line {line_id}")
        return found

    def _set(self, conn: Connection, line_id: str, **values: object) -> None:
        conn.execute(
            update(credit_lines)
            .where(credit_lines.c.tenant == self.tenant, credit_lines.c.line_id == line_id)
            .values(**values)
        )

    def _event(
        self, tx: LedgerTransaction, kind: str, line: CreditLine, extra: dict[str, object]
    ) -> None:
        tx.emit(
            self.tenant,
            kind,
            "credit_line",
            line.line_id,
            {"buyer_id": line.buyer_id, "currency": line.currency, **extra},
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expired(expiry: str, today: date) -> bool:
    year, month = (int(part) for part in expiry.split("-"))
    return (today.year, today.month) > (year, month)


def _line(row: Any) -> CreditLine:
    return CreditLine(
        row["line_id"],
        row["buyer_id"],
        row["funder_id"],
        row["currency"],
        row["limit_minor"],
        row["card_token"],
        row["card_last4"],
        row["card_expiry"],
        row["status"],
    )
