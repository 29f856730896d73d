"""Collections actions bounded by consumer-protection rules (pure).

Before any contact with a borrower in arrears, ``may_contact`` applies the jurisdiction's rules
(``Caps``): no contact in the borrower's local quiet hours, at most ``contacts_per_week`` in any
rolling seven days, and none at all while a complaint is open — until it is resolved. Each
refusal names the rule, so the collections log shows why a contact did not happen.
``next_action`` picks the step the delinquency bucket calls for (reminder → call → final notice
→ charge-off review), never anything harsher than the bucket allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from embedfin.core.errors import InvalidInput
from embedfin.core.ids import new_id
from embedfin.db.tables import collection_contacts, complaints
from embedfin.lending.products import Caps
from embedfin.lending.servicing import Lending


class Action(StrEnum):
    NONE = "none"
    REMINDER = "reminder"  # message
    CALL = "call"
    FINAL_NOTICE = "final_notice"
    CHARGE_OFF_REVIEW = "charge_off_review"


@dataclass(frozen=True, slots=True)
class ContactDecision:
    allowed: bool
    rule: str  # why not, or "ok"


def may_contact(
    caps: Caps,
    now_local: datetime,
    earlier_contacts: Sequence[datetime],
    complaint_open: bool,
) -> ContactDecision:
    """Whether a collections contact may be made now (``now_local`` in the borrower's zone)."""
    if now_local.tzinfo is None:
        raise InvalidInput("contact times must carry the borrower's time zone")
    if complaint_open:
        return ContactDecision(False, "complaint_open")
    hour = now_local.hour
    start, end = caps.quiet_start_hour, caps.quiet_end_hour
    quiet = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if quiet:
        return ContactDecision(False, "quiet_hours")
    week_ago = now_local - timedelta(days=7)
    recent = sum(1 for t in earlier_contacts if week_ago < t <= now_local)
    if recent >= caps.contacts_per_week:
        return ContactDecision(False, "frequency_limit")
    return ContactDecision(True, "ok")


def next_action(bucket: str) -> Action:
    return {
        "current": Action.NONE,
        "1-30": Action.REMINDER,
        "31-60": Action.CALL,
        "61-90": Action.FINAL_NOTICE,
        "91-120": Action.FINAL_NOTICE,
        "120+": Action.CHARGE_OFF_REVIEW,
    }[bucket]


@dataclass(frozen=True, slots=True)
class ContactAttempt:
    loan_id: str
    buyer_id: str
    action: Action
    made: bool
    rule: str


class Collections:
    """Runs collections for a tenant: for every delinquent loan, the action its bucket calls
    for, made only when ``may_contact`` allows it; every attempt — made or blocked, with the
    rule — is logged, and complaints stop all contact with the buyer until resolved."""

    def __init__(self, lending: Lending, zone: str = "UTC") -> None:
        self.lending = lending
        self.ledger = lending.ledger
        self.tenant = lending.tenant
        self.zone = ZoneInfo(zone)

    def open_complaint(self, complaint_id: str, buyer_id: str, text: str) -> None:
        with self.ledger.transaction() as tx:
            found = tx.conn.execute(
                select(complaints.c.complaint_id).where(
                    complaints.c.tenant == self.tenant, complaints.c.complaint_id == complaint_id
                )
            ).first()
            if found is None:
                tx.conn.execute(
                    insert(complaints).values(
                        tenant=self.tenant,
                        complaint_id=complaint_id,
                        buyer_id=buyer_id,
                        text=text[:2_000],
                        opened_at=self.lending.clock.now_ns(),
                    )
                )

    def resolve_complaint(self, complaint_id: str) -> None:
        with self.ledger.transaction() as tx:
            done = tx.conn.execute(
                update(complaints)
                .where(
                    complaints.c.tenant == self.tenant,
                    complaints.c.complaint_id == complaint_id,
                    complaints.c.resolved_at.is_(None),
                )
                .values(resolved_at=self.lending.clock.now_ns())
            )
            if done.rowcount != 1:
                raise InvalidInput(f"no open complaint {complaint_id}")

    def run(self, as_of: date | None = None) -> list[ContactAttempt]:
        day = as_of or self.lending.today()
        now_ns = self.lending.clock.now_ns()
        now_local = datetime.fromtimestamp(now_ns / 1e9, tz=self.zone)
        attempts = []
        with self.ledger.transaction() as tx:
            for loan in self.lending.store.active(tx.conn):
                _, name = self.lending.delinquency_of(tx.conn, loan, day)
                action = next_action(name)
                if action is Action.NONE:
                    continue
                earlier = [
                    datetime.fromtimestamp(at / 1e9, tz=self.zone)
                    for at in tx.conn.execute(
                        select(collection_contacts.c.at_ns).where(
                            collection_contacts.c.tenant == self.tenant,
                            collection_contacts.c.buyer_id == loan.buyer_id,
                            collection_contacts.c.made == 1,
                            collection_contacts.c.at_ns > now_ns - 8 * 86_400 * 10**9,
                        )
                    ).scalars()
                ]
                complaint = tx.conn.execute(
                    select(complaints.c.complaint_id).where(
                        complaints.c.tenant == self.tenant,
                        complaints.c.buyer_id == loan.buyer_id,
                        complaints.c.resolved_at.is_(None),
                    )
                ).first()
                verdict = may_contact(self.lending.caps, now_local, earlier, complaint is not None)
                attempt = ContactAttempt(
                    loan.loan_id, loan.buyer_id, action, verdict.allowed, verdict.rule
                )
                tx.conn.execute(
                    insert(collection_contacts).values(
                        tenant=self.tenant,
                        contact_id=f"cc_{new_id():032x}",
                        loan_id=loan.loan_id,
                        buyer_id=loan.buyer_id,
                        action=str(action),
                        made=int(verdict.allowed),
                        rule=verdict.rule,
                        at_ns=now_ns,
                    )
                )
                if verdict.allowed:
                    tx.emit(
                        self.tenant,
                        "collections_contact",
                        "loan",
                        loan.loan_id,
                        {"buyer_id": loan.buyer_id, "action": str(action), "bucket": name},
                    )
                attempts.append(attempt)
        return attempts
