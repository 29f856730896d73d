"""Invariants of lending, run by ``embedfin check``:

* every loan's principal outstanding, interest due and fees due equal its ledger accounts;
* per funder and currency, the lender's cash at the custodian equals the lender funds the
  custodian holds (the two books mirror each other).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, text

from embedfin.ledger.check import CheckReport, register_invariant
from embedfin.lending.chart import LendingAccountCode
from embedfin.payments.chart import AccountCode

_LOAN_COLUMNS = {
    int(LendingAccountCode.LOAN_PRINCIPAL): "principal_outstanding",
    int(LendingAccountCode.LOAN_INTEREST_DUE): "interest_due",
    int(LendingAccountCode.LOAN_FEES_DUE): "fees_due",
}


def loans_match_ledger(conn: Connection, report: CheckReport) -> None:
    ledger: dict[tuple[str, str, int], int] = {}
    for tenant, owner, code, debits, credits in conn.execute(
        text(
            "SELECT pa.tenant, pa.owner_id, pa.code, a.debits_posted, a.credits_posted"
            " FROM payment_accounts pa JOIN accounts a ON a.id = pa.account_id"
            " WHERE pa.owner_kind = 'loan'"
        )
    ).all():
        ledger[(tenant, owner, int(code))] = int(debits) - int(credits)
    for row in conn.execute(
        text("SELECT tenant, loan_id, principal_outstanding, interest_due, fees_due FROM loans")
    ).mappings():
        for code, column in _LOAN_COLUMNS.items():
            booked = ledger.get((row["tenant"], row["loan_id"], code), 0)
            if booked != row[column]:
                report.fail(
                    "loans_match_ledger",
                    f"tenant {row['tenant']}, loan {row['loan_id']}: {column} {row[column]}"
                    f" != ledger {booked}",
                )


def lender_books_mirror_custody(conn: Connection, report: CheckReport) -> None:
    held: dict[tuple[str, str, int], int] = defaultdict(int)
    cash: dict[tuple[str, str, int], int] = defaultdict(int)
    for tenant, owner, ledger, code, debits, credits in conn.execute(
        text(
            "SELECT pa.tenant, pa.owner_id, a.ledger, pa.code, a.debits_posted, a.credits_posted"
            " FROM payment_accounts pa JOIN accounts a ON a.id = pa.account_id"
            " WHERE pa.owner_kind = 'funder' AND pa.code IN (:held, :cash)"
        ),
        {"held": int(AccountCode.LENDER_FUNDS_HELD), "cash": int(LendingAccountCode.LENDER_CASH)},
    ).all():
        key = (tenant, owner, int(ledger))
        if code == AccountCode.LENDER_FUNDS_HELD:
            held[key] += int(credits) - int(debits)
        else:
            cash[key] += int(debits) - int(credits)
    for key in sorted(set(held) | set(cash)):
        if held[key] != cash[key]:
            tenant, funder, ledger_no = key
            report.fail(
                "lender_books_mirror_custody",
                f"tenant {tenant}, funder {funder}, ledger {ledger_no}: funds held {held[key]}"
                f" != lender cash {cash[key]}",
            )


register_invariant("loans_match_ledger", loans_match_ledger)
register_invariant("lender_books_mirror_custody", lender_books_mirror_custody)
