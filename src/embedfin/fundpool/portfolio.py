"""A fund's portfolio: buy term deposits, short bonds and reverse repos with its cash, take
their cost and interest back at maturity, and measure its liquidity (``liquidity.py``).

An asset is held at amortised cost: its interest is earned straight-line over its term by the
daily accrual (``income.py``). Its maturity is at most 397 days from purchase, the longest
remaining maturity a money-market fund may buy under both SEC Rule 2a-7(d)(1) and the CSRC's
《货币市场基金监督管理办法》(2015: 397 days; cited from the rule, not checked against a
stored copy here).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from embedfin.core.errors import InvalidInput, InvalidStateTransition
from embedfin.core.money import Money
from embedfin.fundpool import chart
from embedfin.fundpool.base import FundContext, check_amount, choice, fingerprint_of, new_id
from embedfin.fundpool.book import F, FundBook, balance_of
from embedfin.fundpool.liquidity import LiquidityRatios, Position, liquidity_ratios
from embedfin.fundpool.store import Asset, AssetKind
from embedfin.ledger.service import LedgerTransaction

MAX_MATURITY_DAYS = 397
_CODES = {
    AssetKind.TERM_DEPOSIT: F.TERM_DEPOSIT,
    AssetKind.SHORT_BOND: F.SHORT_BOND,
    AssetKind.REVERSE_REPO: F.REVERSE_REPO,
}


@dataclass(frozen=True, slots=True)
class FundBooks:
    """A fund's balances on the ledger (minor units); ``net_assets_minor`` = cash + portfolio
    + income receivable − redemptions payable − undistributed income, which at a stable 1.00
    equals ``units_minor``."""

    cash_minor: int
    portfolio_minor: int
    income_receivable_minor: int
    units_minor: int
    undistributed_minor: int
    payable_minor: int
    facility_cash_minor: int
    facility_advances_minor: int

    @property
    def net_assets_minor(self) -> int:
        return (self.cash_minor + self.portfolio_minor + self.income_receivable_minor
                - self.payable_minor - self.undistributed_minor)  # fmt: skip


class Portfolio(FundContext):
    def buy(
        self, request_id: str, fund_id: str, kind: AssetKind | str, cost: Money, interest: Money,
        matures_on: date,
    ) -> Asset:  # fmt: skip
        """Buy an asset with the fund's cash: ``interest`` is what it pays over its cost at
        maturity."""
        kind = choice(AssetKind, "kind", kind)
        fingerprint = fingerprint_of("buy", fund_id, kind.value, cost, interest, matures_on)
        with self.ledger.transaction() as tx:
            if (done := self.replayed(tx, request_id, fingerprint)) is not None:
                return self.store.asset(tx.conn, str(done["asset_id"]))
            fund = self.store.fund(tx.conn, fund_id)
            cost_minor = check_amount(fund, cost)
            if interest.amount_minor < 0:
                raise InvalidInput("interest is 0 or more")
            interest_minor = check_amount(fund, interest) if interest.amount_minor else 0
            today = self.today()
            if not isinstance(matures_on, date) or not 0 < (matures_on - today).days <= (
                MAX_MATURITY_DAYS
            ):
                raise InvalidInput(f"an asset matures 1 to {MAX_MATURITY_DAYS} days from today")
            asset = Asset(new_id("ast", self.tenant, request_id), fund_id, kind, cost_minor,
                          interest_minor, 0, today, matures_on, "live")  # fmt: skip
            book = FundBook(self.tenant, fund_id, fund.currency)
            book.add(request_id, "buy", book.asset(asset.asset_id, _CODES[kind]),
                     book.fund(F.FUND_CASH), cost_minor, chart.CODE_ASSET_PURCHASE)  # fmt: skip
            book.post(tx, insufficient=f"fund {fund_id} has less cash than {cost_minor}")
            self.store.insert_asset(tx.conn, asset, self.now())
            self.done(tx, request_id, "buy", fund_id, fingerprint, {"asset_id": asset.asset_id})
            tx.emit(self.tenant, "fundpool_asset_bought", "fund", fund_id,
                    {"asset_id": asset.asset_id, "kind": kind.value, "cost_minor": cost_minor,
                     "interest_minor": interest_minor, "matures_on": matures_on.isoformat(),
                     "currency": fund.currency})  # fmt: skip
        return asset

    def mature(self, request_id: str, asset_id: str) -> Asset:
        """An asset's cost and interest come back into the fund's cash on or after maturity."""
        fingerprint = fingerprint_of("mature", asset_id)
        with self.ledger.transaction() as tx:
            if self.replayed(tx, request_id, fingerprint) is not None:
                return self.store.asset(tx.conn, asset_id)
            asset = self.store.asset(tx.conn, asset_id)
            fund = self.store.fund(tx.conn, asset.fund_id)
            if asset.status != "live":
                raise InvalidStateTransition(f"asset {asset_id} has matured already")
            if self.today() < asset.matures_on:
                raise InvalidStateTransition(
                    f"asset {asset_id} matures on {asset.matures_on.isoformat()}"
                )
            book = FundBook(self.tenant, asset.fund_id, fund.currency)
            cash = book.fund(F.FUND_CASH)
            book.add(request_id, "cost", cash, book.asset(asset_id, _CODES[asset.kind]),
                     asset.cost_minor, chart.CODE_ASSET_MATURITY)  # fmt: skip
            book.add(request_id, "interest", cash, book.fund(F.INCOME_RECEIVABLE),
                     asset.interest_minor, chart.CODE_INTEREST_RECEIVED)  # fmt: skip
            book.post(tx, insufficient="unreachable")
            self.store.update_asset(tx.conn, asset_id, status="matured")
            self.done(tx, request_id, "mature", asset.fund_id, fingerprint, {"asset_id": asset_id})
            tx.emit(self.tenant, "fundpool_asset_matured", "fund", asset.fund_id,
                    {"asset_id": asset_id, "cost_minor": asset.cost_minor,
                     "interest_minor": asset.interest_minor,
                     "currency": fund.currency})  # fmt: skip
        return replace(asset, status="matured")

    def assets(self, fund_id: str) -> list[Asset]:
        with self.ledger.current() as conn:
            self.store.fund(conn, fund_id)
            return self.store.assets(conn, fund_id)

    def liquidity(self, fund_id: str) -> LiquidityRatios:
        """Daily and weekly liquid assets today: cash, and the live assets at amortised cost
        by their maturity."""
        with self.ledger.transaction() as tx:
            fund = self.store.fund(tx.conn, fund_id)
            book = FundBook(self.tenant, fund_id, fund.currency)
            positions = [Position(balance_of(tx, book.fund(F.FUND_CASH)), None)] + [
                Position(a.cost_minor + a.accrued_minor, a.matures_on)
                for a in self.store.assets(tx.conn, fund_id, live_only=True)
            ]
        return liquidity_ratios(positions, self.today())

    def books(self, fund_id: str) -> FundBooks:
        with self.ledger.transaction() as tx:
            return self.books_in(tx, fund_id)

    def books_in(self, tx: LedgerTransaction, fund_id: str) -> FundBooks:
        fund = self.store.fund(tx.conn, fund_id)
        book = FundBook(self.tenant, fund_id, fund.currency)
        assets = self.store.assets(tx.conn, fund_id, live_only=True)
        payable = balance_of(tx, book.holders_payable()) + balance_of(tx, book.facility_payable())
        return FundBooks(
            balance_of(tx, book.fund(F.FUND_CASH)),
            sum(balance_of(tx, book.asset(a.asset_id, _CODES[a.kind])) for a in assets),
            balance_of(tx, book.fund(F.INCOME_RECEIVABLE)),
            balance_of(tx, book.fund(F.UNITS_OUTSTANDING)),
            balance_of(tx, book.fund(F.UNDISTRIBUTED_INCOME)),
            payable,
            balance_of(tx, book.facility(F.FACILITY_CASH)),
            balance_of(tx, book.facility(F.FACILITY_ADVANCES)),
        )
