"""The ledger's health: the full invariant check, as ``embedfin check`` runs it."""

from __future__ import annotations

from sqlalchemy import Connection

from embedfin.ledger.check import CheckReport, check
from embedfin.lending import invariants as _lending_invariants  # noqa: F401 - registers checks
from embedfin.payments import safeguarding as _safeguarding  # noqa: F401 - registers checks


def ledger_check(conn: Connection) -> CheckReport:
    """Every registered invariant, over every account and transfer."""
    return check(conn)
