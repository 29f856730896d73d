"""The ledger's health: the full invariant check, as ``embedfin check`` runs it."""

from __future__ import annotations

from sqlalchemy import Connection

from embedfin.ledger.check import CheckReport


def ledger_check(conn: Connection) -> CheckReport:
    """Every invariant the composition root lists, over every account and transfer."""
    from embedfin.bootstrap import check_all  # the composition root wires the dashboard too

    return check_all(conn)
