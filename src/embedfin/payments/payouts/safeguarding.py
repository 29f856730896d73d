"""Invariant: customer liabilities (plus commission not yet swept out) equal safeguarded assets,
per tenant and currency ledger."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, text

from embedfin.ledger.check import CheckReport
from embedfin.payments.chart import (
    CUSTOMER_LIABILITIES,
    SAFEGUARDED_ASSETS,
    UNSWEPT_PLATFORM_FUNDS,
)


def customer_money_is_safeguarded(conn: Connection, report: CheckReport) -> None:
    rows = conn.execute(
        text(
            "SELECT pa.tenant, a.ledger, pa.code, SUM(a.debits_posted), SUM(a.credits_posted)"
            " FROM accounts a JOIN payment_accounts pa ON pa.account_id = a.id"
            " GROUP BY pa.tenant, a.ledger, pa.code"
        )
    ).all()
    liabilities: dict[tuple[str, int], int] = defaultdict(int)
    safeguarded: dict[tuple[str, int], int] = defaultdict(int)
    for tenant, ledger, code, debits, credits in rows:
        if code in CUSTOMER_LIABILITIES or code in UNSWEPT_PLATFORM_FUNDS:
            liabilities[(tenant, ledger)] += int(credits) - int(debits)
        elif code in SAFEGUARDED_ASSETS:
            safeguarded[(tenant, ledger)] += int(debits) - int(credits)
    for key in sorted(set(liabilities) | set(safeguarded)):
        if liabilities[key] != safeguarded[key]:
            tenant, ledger = key
            report.fail(
                "customer_money_safeguarded",
                f"tenant {tenant}, ledger {ledger}: customer liabilities and unswept"
                f" commission {liabilities[key]} != reserve and in-transit funds"
                f" {safeguarded[key]}",
            )
