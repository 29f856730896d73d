"""Balances by chart position: escrow, wallets, merchants, and customer money against the reserve.

The ledger keeps balances per account; which account is which (owner, currency, chart code) is
payments' ``payment_accounts``. Summing by chart code over a whole tenant is a read no service
offers, so it is made here.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from sqlalchemy import Connection, func, select

from embedfin.db.tables import accounts, payment_accounts
from embedfin.ledger.chart import NormalSide
from embedfin.payments.chart import CUSTOMER_LIABILITIES, UNSWEPT_PLATFORM_FUNDS, AccountCode

#: Merchants' money held by the platform: released, pending the T+1 batch or available.
MERCHANT_BALANCES = frozenset({AccountCode.MERCHANT_PENDING, AccountCode.MERCHANT_AVAILABLE})
#: What the platform owes to others (customer liabilities and commission still in the reserve).
OWED_TO_OTHERS = CUSTOMER_LIABILITIES | UNSWEPT_PLATFORM_FUNDS


@cache
def _debit_normal() -> frozenset[int]:
    """Account codes whose balance is debits − credits (assets and expenses) in the chart."""
    from embedfin.bootstrap import build_chart  # the composition root wires the dashboard too

    return frozenset(t.code for t in build_chart().accounts if t.normal is NormalSide.DEBIT)


def balances_by_code(conn: Connection, tenant: str) -> dict[tuple[str, int], int]:
    """(currency, account code) → posted balance on the account's normal side, for the tenant."""
    pa = payment_accounts.c
    query = (
        select(
            pa.currency,
            pa.code,
            func.sum(accounts.c.debits_posted),
            func.sum(accounts.c.credits_posted),
        )
        .select_from(accounts.join(payment_accounts, pa.account_id == accounts.c.id))
        .where(pa.tenant == tenant)
        .group_by(pa.currency, pa.code)
    )
    found: dict[tuple[str, int], int] = {}
    debit_normal = _debit_normal()
    for code, account_code, debits, credits in conn.execute(query).all():
        net = int(debits) - int(credits)
        found[(code, int(account_code))] = net if account_code in debit_normal else -net
    return found


def total(balances: dict[tuple[str, int], int], currency: str, codes: Iterable[AccountCode]) -> int:
    """The sum of the balances at these chart positions in the currency."""
    return sum(balances.get((currency, int(code)), 0) for code in codes)
