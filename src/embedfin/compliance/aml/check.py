"""Screening's invariants, run by ``embedfin check``:

* ``screening_hits_match_cases`` — every open hit has an undecided ``sanctions_hit`` case (a
  party must not stay held by a hit nobody can decide), and every decided case's hits follow
  its outcome (``release`` → ``cleared``, ``reject`` → ``confirmed``);
* ``one_active_watchlist`` — a tenant screens against one list at a time;
* ``monitoring_alerts_match_cases`` — alerts and ``aml_alert`` cases one to one, and every
  confirmed alert with its suspicious-transaction report;
* ``filed_reports_are_whole`` — a filed report holds its document, digest and filer;
* ``kyb_reviews_match_merchants`` — a merchant under KYB review has its open case and is not
  paid out; a decided review is the merchant's status.

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


def monitoring_alerts_match_cases(conn: Connection, report: CheckReport) -> None:
    """Every monitoring alert has its ``aml_alert`` case and every such case its alert, and a
    case decided ``reject`` (confirmed suspicious) has its suspicious-transaction report."""
    checks = (
        ("SELECT a.tenant, a.alert_id FROM aml_alerts a WHERE NOT EXISTS (SELECT 1 FROM"
         " risk_cases c WHERE c.tenant = a.tenant AND c.case_id = a.case_id"
         " AND c.kind = 'aml_alert') ORDER BY 1, 2 LIMIT :n", "alert {} has no case"),
        ("SELECT c.tenant, c.case_id FROM risk_cases c WHERE c.kind = 'aml_alert' AND NOT EXISTS"
         " (SELECT 1 FROM aml_alerts a WHERE a.tenant = c.tenant AND a.case_id = c.case_id)"
         " ORDER BY 1, 2 LIMIT :n", "case {} has no alert"),
        ("SELECT c.tenant, c.case_id FROM risk_cases c WHERE c.kind = 'aml_alert'"
         " AND c.status = 'decided' AND c.outcome = 'reject' AND NOT EXISTS (SELECT 1 FROM"
         " aml_reports r WHERE r.tenant = c.tenant AND r.case_id = c.case_id)"
         " ORDER BY 1, 2 LIMIT :n", "case {} was confirmed but no suspicious report is due"),
    )  # fmt: skip
    for sql, message in checks:
        for tenant, what in conn.execute(text(sql), {"n": _SAMPLE}).all():
            report.fail("monitoring_alerts_match_cases", f"tenant {tenant}: {message.format(what)}")


def filed_reports_are_whole(conn: Connection, report: CheckReport) -> None:
    """A filed report holds its document and digest and names who filed it and when; a due one
    holds none of them; a correction corrects a filed report of the same tenant."""
    checks = (
        ("SELECT tenant, report_id FROM aml_reports WHERE status = 'filed' AND (document IS NULL"
         " OR digest IS NULL OR filed_at IS NULL OR filed_by IS NULL) ORDER BY 1, 2 LIMIT :n",
         "report {} is filed without its document, digest or filer"),
        ("SELECT tenant, report_id FROM aml_reports WHERE status = 'due' AND (document IS NOT"
         " NULL OR digest IS NOT NULL OR filed_at IS NOT NULL) ORDER BY 1, 2 LIMIT :n",
         "report {} is due but holds a filed document"),
        ("SELECT r.tenant, r.report_id FROM aml_reports r WHERE r.corrects IS NOT NULL AND NOT"
         " EXISTS (SELECT 1 FROM aml_reports o WHERE o.tenant = r.tenant AND o.report_id ="
         " r.corrects AND o.status = 'filed') ORDER BY 1, 2 LIMIT :n",
         "report {} corrects no filed report of its tenant"),
    )  # fmt: skip
    for sql, message in checks:
        for tenant, what in conn.execute(text(sql), {"n": _SAMPLE}).all():
            report.fail("filed_reports_are_whole", f"tenant {tenant}: {message.format(what)}")


def kyb_reviews_match_merchants(conn: Connection, report: CheckReport) -> None:
    """A submitted review has its undecided ``kyb_review`` case; a decided one's merchant has
    its outcome (``verified`` or ``rejected``) unless a later submission reopened it."""
    checks = (
        ("SELECT k.tenant, k.merchant_id FROM aml_kyb k WHERE k.status = 'submitted' AND NOT"
         " EXISTS (SELECT 1 FROM risk_cases c WHERE c.tenant = k.tenant AND c.case_id ="
         " k.case_id AND c.kind = 'kyb_review' AND c.status <> 'decided') ORDER BY 1, 2 LIMIT :n",
         "merchant {} awaits a KYB review no open case decides"),
        ("SELECT k.tenant, k.merchant_id FROM aml_kyb k JOIN merchants m ON m.tenant = k.tenant"
         " AND m.merchant_id = k.merchant_id WHERE k.status IN ('verified', 'rejected')"
         " AND m.kyc_status <> k.status ORDER BY 1, 2 LIMIT :n",
         "merchant {}'s KYB outcome is not its status"),
        ("SELECT k.tenant, k.merchant_id FROM aml_kyb k JOIN merchants m ON m.tenant = k.tenant"
         " AND m.merchant_id = k.merchant_id WHERE k.status = 'submitted'"
         " AND m.kyc_status NOT IN ('pending', 'review') ORDER BY 1, 2 LIMIT :n",
         "merchant {} is under KYB review but may be paid out"),
    )  # fmt: skip
    for sql, message in checks:
        for tenant, what in conn.execute(text(sql), {"n": _SAMPLE}).all():
            report.fail("kyb_reviews_match_merchants", f"tenant {tenant}: {message.format(what)}")
