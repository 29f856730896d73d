"""Screening's invariants, run by ``embedfin check``:

* ``screening_hits_match_cases`` — every open hit has an undecided ``sanctions_hit`` case (a
  party must not stay held by a hit nobody can decide), and every decided case's hits follow
  its outcome (``release`` → ``cleared``, ``reject`` → ``confirmed``);
* ``one_active_watchlist`` — a tenant screens against one list at a time.

They read compliance's tables and, as the named read model of risk, each case's status and
outcome.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from embedfin.ledger.check import CheckReport

_SAMPLE = 10


def screening_hits_match_cases(conn: Connection, report: CheckReport) -> None:
    orphans = conn.execute(
        text(
            "SELECT h.tenant, h.hit_id, h.case_id FROM aml_screening_hits h"
            " WHERE h.status = 'open' AND NOT EXISTS (SELECT 1 FROM risk_cases c"
            " WHERE c.tenant = h.tenant AND c.case_id = h.case_id"
            " AND c.kind = 'sanctions_hit' AND c.status <> 'decided')"
            " ORDER BY h.tenant, h.hit_id LIMIT :n"
        ),
        {"n": _SAMPLE},
    ).all()
    for tenant, hit_id, case_id in orphans:
        report.fail(
            "screening_hits_match_cases",
            f"tenant {tenant}: hit {hit_id} is open but case {case_id} is missing or decided",
        )
    wrong = conn.execute(
        text(
            "SELECT h.tenant, h.hit_id, h.status, c.outcome FROM aml_screening_hits h"
            " JOIN risk_cases c ON c.tenant = h.tenant AND c.case_id = h.case_id"
            " WHERE c.status = 'decided' AND NOT ("
            " (c.outcome = 'release' AND h.status = 'cleared')"
            " OR (c.outcome = 'reject' AND h.status = 'confirmed'))"
            " ORDER BY h.tenant, h.hit_id LIMIT :n"
        ),
        {"n": _SAMPLE},
    ).all()
    for tenant, hit_id, status, outcome in wrong:
        report.fail(
            "screening_hits_match_cases",
            f"tenant {tenant}: hit {hit_id} is {status} but its case was decided {outcome}",
        )


def one_active_watchlist(conn: Connection, report: CheckReport) -> None:
    found = conn.execute(
        text(
            "SELECT tenant, count(*) FROM aml_watchlists WHERE active = 1"
            " GROUP BY tenant HAVING count(*) > 1 ORDER BY tenant LIMIT :n"
        ),
        {"n": _SAMPLE},
    ).all()
    for tenant, count in found:
        report.fail("one_active_watchlist", f"tenant {tenant}: {count} lists are active")
