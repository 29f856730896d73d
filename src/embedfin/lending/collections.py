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
from datetime import datetime, timedelta
from enum import StrEnum

from embedfin.core.errors import InvalidInput
from embedfin.lending.products import Caps


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
