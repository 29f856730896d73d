"""The operator's headline figures per currency: sales beside where the money is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from embedfin.dashboard.queries.safeguarding import (
    MERCHANT_BALANCES,
    OWED_TO_OTHERS,
    balances_by_code,
    total,
)
from embedfin.dashboard.queries.sales import Sales, release_days_by_currency, sales_by_currency
from embedfin.payments.chart import SAFEGUARDED_ASSETS, AccountCode


@dataclass(frozen=True, slots=True)
class CurrencyFigures:
    """Headline figures of one currency."""

    currency: str
    orders: int
    gmv_minor: int
    escrow_minor: int
    wallets_minor: int
    merchants_minor: int
    liabilities_minor: int  # customer liabilities + platform money still in the reserve
    safeguarded_minor: int  # client reserve + in transit + FX positions
    release_days: float | None  # mean time from payment to release to the merchant

    @property
    def safeguarded(self) -> bool:
        return self.liabilities_minor == self.safeguarded_minor


def currency_figures(conn: Connection, tenant: str) -> list[CurrencyFigures]:
    """Headline figures per currency, the busiest currency first."""
    sales = sales_by_currency(conn, tenant)
    release = release_days_by_currency(conn, tenant)
    balances = balances_by_code(conn, tenant)
    figures = []
    for code in {c for c, _ in balances} | set(sales):
        sold = sales.get(code, Sales(0, 0))
        figures.append(
            CurrencyFigures(
                currency=code,
                orders=sold.orders,
                gmv_minor=sold.gmv_minor,
                escrow_minor=total(balances, code, {AccountCode.ESCROW}),
                wallets_minor=total(balances, code, {AccountCode.BUYER_WALLET}),
                merchants_minor=total(balances, code, MERCHANT_BALANCES),
                liabilities_minor=total(balances, code, OWED_TO_OTHERS),
                safeguarded_minor=total(balances, code, SAFEGUARDED_ASSETS),
                release_days=release.get(code),
            )
        )
    figures.sort(key=lambda f: (-f.orders, -f.liabilities_minor, f.currency))
    return figures
