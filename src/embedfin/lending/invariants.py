"""Invariants of lending, run by ``embedfin check``:

* every loan's principal outstanding, interest due and fees due equal its ledger accounts;
* per funder and currency, the lender's cash at the custodian equals the lender funds the
  custodian holds (the two books mirror each other);
* a financed order's refunds reduce its loan: what the refund records sent to the loan equals
  the refunds the loan booked and the principal they paid down on the ledger, and no more went
  back to the buyer's wallet than the buyer had repaid of the principal.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, text

from embedfin.ledger.check import CheckReport
from embedfin.lending.chart import CODE_REFUND_PRINCIPAL, LendingAccountCode
from embedfin.payments.chart import AccountCode
from embedfin.payments.refunds.check import refunded_per_order

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


def financed_refunds_reduce_loans(conn: Connection, report: CheckReport) -> None:
    refunded = refunded_per_order(conn)
    booked: dict[tuple[str, str], tuple[int, int]] = defaultdict(lambda: (0, 0))
    for tenant, loan_id, kind, principal in conn.execute(
        text(
            "SELECT tenant, loan_id, kind, SUM(principal_minor) FROM loan_events"
            " WHERE kind IN ('refund', 'repayment') GROUP BY tenant, loan_id, kind"
        )
    ).all():
        to_loan, repaid = booked[(tenant, loan_id)]
        if kind == "refund":
            booked[(tenant, loan_id)] = (int(principal), repaid)
        else:
            booked[(tenant, loan_id)] = (to_loan, int(principal))
    on_ledger = {
        (tenant, owner): int(total)
        for tenant, owner, total in conn.execute(
            text(
                "SELECT pa.tenant, pa.owner_id, SUM(t.amount) FROM transfers t"
                " JOIN payment_accounts pa ON pa.account_id = t.credit_account_id"
                " WHERE pa.owner_kind = 'loan' AND pa.code = :principal AND t.code = :refund"
                " GROUP BY pa.tenant, pa.owner_id"
            ),
            {"principal": int(LendingAccountCode.LOAN_PRINCIPAL), "refund": CODE_REFUND_PRINCIPAL},
        ).all()
    }
    for tenant, loan_id, order_id in conn.execute(
        text("SELECT tenant, loan_id, order_id FROM loans")
    ).all():
        split = refunded.get((tenant, order_id))
        to_loan, repaid = booked[(tenant, loan_id)]
        sent = split.loan_minor if split is not None else 0
        ledger_total = on_ledger.get((tenant, loan_id), 0)
        where = f"tenant {tenant}, loan {loan_id} (order {order_id})"
        if not sent == to_loan == ledger_total:
            report.fail(
                "financed_refunds_reduce_loans",
                f"{where}: refunds sent {sent} to the loan, the loan booked {to_loan},"
                f" the ledger paid down {ledger_total}",
            )
        if split is not None and split.channel_minor:
            report.fail("financed_refunds_reduce_loans", f"{where}: refunded through a channel")
        if split is not None and split.wallet_minor > repaid:
            report.fail(
                "financed_refunds_reduce_loans",
                f"{where}: {split.wallet_minor} went back to the wallet, the buyer had repaid"
                f" {repaid} of the principal",
            )
