"""Risk's invariants, run by ``embedfin check``:

* ``held_orders_have_open_cases`` — every order on risk hold has an undecided fraud-review case
  for it, and no decided case leaves its order held (money must not wait in escrow for a case
  nobody will look at);
* ``challenges_match_decisions`` — every challenged decision has its challenge, and a passed or
  failed challenge is reflected in its decision's status.

They read risk's tables and, as the named read model of commerce, each order's ``risk_hold``
flag and status.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from embedfin.ledger.check import CheckReport

_SAMPLE = 10


def held_orders_have_open_cases(conn: Connection, report: CheckReport) -> None:
    orphans = conn.execute(
        text(
            "SELECT o.tenant, o.order_id FROM orders o WHERE o.risk_hold = 1 AND NOT EXISTS ("
            " SELECT 1 FROM risk_cases c WHERE c.tenant = o.tenant AND c.order_id = o.order_id"
            " AND c.kind = 'fraud_review' AND c.status <> 'decided')"
            " ORDER BY o.tenant, o.order_id LIMIT :n"
        ),
        {"n": _SAMPLE},
    ).all()
    for tenant, order_id in orphans:
        report.fail(
            "held_orders_have_open_cases",
            f"tenant {tenant}: order {order_id} is held with no open fraud-review case",
        )
    stale = conn.execute(
        text(
            "SELECT c.tenant, c.case_id, c.order_id FROM risk_cases c JOIN orders o"
            " ON o.tenant = c.tenant AND o.order_id = c.order_id"
            " WHERE c.kind = 'fraud_review' AND c.status = 'decided' AND o.risk_hold = 1"
            " AND NOT EXISTS (SELECT 1 FROM risk_cases d WHERE d.tenant = c.tenant"
            " AND d.order_id = c.order_id AND d.status <> 'decided')"
            " ORDER BY c.tenant, c.case_id LIMIT :n"
        ),
        {"n": _SAMPLE},
    ).all()
    for tenant, case_id, order_id in stale:
        report.fail(
            "held_orders_have_open_cases",
            f"tenant {tenant}: case {case_id} is decided but order {order_id} is still held",
        )


def challenges_match_decisions(conn: Connection, report: CheckReport) -> None:
    missing = conn.execute(
        text(
            "SELECT d.tenant, d.decision_id, d.status FROM risk_decisions d"
            " WHERE d.action = 'challenge'"
            " AND d.status IN ('challenged', 'challenge_passed', 'challenge_failed')"
            " AND NOT EXISTS (SELECT 1 FROM risk_challenges c WHERE c.tenant = d.tenant"
            " AND c.reference = d.reference)"
            " ORDER BY d.tenant, d.decision_id LIMIT :n"
        ),
        {"n": _SAMPLE},
    ).all()
    for tenant, decision_id, status in missing:
        report.fail(
            "challenges_match_decisions",
            f"tenant {tenant}: decision {decision_id} is {status} with no challenge sent",
        )
    unsettled = conn.execute(
        text(
            "SELECT d.tenant, d.decision_id, d.status, c.status FROM risk_decisions d"
            " JOIN risk_challenges c ON c.tenant = d.tenant AND c.decision_id = d.decision_id"
            " WHERE (c.status = 'passed' AND d.status <> 'challenge_passed')"
            " OR (c.status = 'failed' AND d.status <> 'challenge_failed')"
            " ORDER BY d.tenant, d.decision_id LIMIT :n"
        ),
        {"n": _SAMPLE},
    ).all()
    for tenant, decision_id, decision_status, challenge_status in unsettled:
        report.fail(
            "challenges_match_decisions",
            f"tenant {tenant}: decision {decision_id} is {decision_status}, its challenge"
            f" {challenge_status}",
        )
