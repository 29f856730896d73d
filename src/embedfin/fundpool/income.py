"""A fund's daily income: accrue it to every holder, publish the day's disclosures.

``accrue`` books the day's amortised interest of the portfolio (and any interest the fund's
bank paid on its cash), adds the liquidity fees kept since the last accrual, and distributes it
to every holder by ``accrual.py``'s carry-per-holder rule in one set-based ``UPDATE`` of the
holdings (no Python loop over holders): the whole minor units credited become units on the
ledger in one transfer, the fractions stay carried. Days are accrued one after another, each at
most today. ``publish`` returns the disclosed income per 10,000 units and 7-day yield
(``yields.py``) of an accrued day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text

from embedfin.core.errors import InvalidInput, InvalidStateTransition
from embedfin.core.money import Money
from embedfin.fundpool import chart
from embedfin.fundpool.accrual import SCALE, amortised_interest, day_rate
from embedfin.fundpool.base import FundContext, check_amount, fingerprint_of
from embedfin.fundpool.book import F, FundBook, balance_of
from embedfin.fundpool.store import Day, Fund
from embedfin.fundpool.yields import CarryMethod, income_per_10k, seven_day_yield
from embedfin.ledger.service import LedgerTransaction

# The carry-per-holder rule of ``accrual.credit``, for every holder of a fund at once. Both
# stores evaluate every SET expression on the row's old values, and divide integers exactly
# (all values here are non-negative, so ``/`` is the floor).
_EARNED = "(units_minor * CAST(:rate AS BIGINT) + carry_nano)"
_WHERE = "tenant = :tenant AND fund_id = :fund_id AND units_minor > 0"
_TOTALS = text(f"SELECT COUNT(*), COALESCE(SUM({_EARNED} / {SCALE}), 0)"
               f" FROM fundpool_holdings WHERE {_WHERE}")  # fmt: skip
_DISTRIBUTE = text(
    f"UPDATE fundpool_holdings SET units_minor = units_minor + {_EARNED} / {SCALE},"
    f" carry_nano = {_EARNED} % {SCALE} WHERE {_WHERE}"
)


@dataclass(frozen=True, slots=True)
class Disclosure:
    """What a fund publishes for a day: income per 10,000 units (in the currency's major unit)
    and the 7-day annualised yield in per cent, by the fund's carry method."""

    fund_id: str
    day: date
    per_10k: Decimal
    yield_7d: Decimal
    carry_method: CarryMethod


class Income(FundContext):
    def accrue(
        self,
        request_id: str,
        fund_id: str,
        day: date | None = None,
        bank_interest: Money | None = None,
    ) -> Day:
        """Accrue and distribute one day's income (the next day not yet accrued by default)."""
        fingerprint = fingerprint_of("accrue", fund_id, day, bank_interest)
        with self.ledger.transaction() as tx:
            if (done := self.replayed(tx, request_id, fingerprint)) is not None:
                return self.store.day(tx.conn, fund_id, date.fromisoformat(str(done["day"])))
            fund = self.store.fund(tx.conn, fund_id, lock=True)
            day = self._next_day(fund, day)
            bank_minor = 0 if bank_interest is None else check_amount(fund, bank_interest)
            accrued = self._accrue(tx, request_id, fund, day, bank_minor)
            self.done(tx, request_id, "accrue", fund_id, fingerprint, {"day": day.isoformat()})
            tx.emit(self.tenant, "fundpool_income_accrued", "fund", fund_id,
                    {"day": day.isoformat(), "income_minor": accrued.income_minor,
                     "distributed_minor": accrued.distributed_minor,
                     "per_10k": str(accrued.per_10k), "yield_7d": str(accrued.yield_7d),
                     "currency": fund.currency})  # fmt: skip
        return accrued

    def _next_day(self, fund: Fund, day: date | None) -> date:
        today = self.today()
        expected = None if fund.accrued_through is None else fund.accrued_through + timedelta(1)
        day = day or expected or today
        if not isinstance(day, date):
            raise InvalidInput("day is a date")
        if day > today:
            raise InvalidStateTransition(f"{day.isoformat()} has not come yet")
        if expected is not None and day != expected:
            raise InvalidStateTransition(
                f"fund {fund.fund_id} accrues {expected.isoformat()} next, not {day.isoformat()}"
            )
        return day

    def _accrue(
        self, tx: LedgerTransaction, request_id: str, fund: Fund, day: date, bank_minor: int
    ) -> Day:
        conn, fund_id = tx.conn, fund.fund_id
        interest = bank_minor
        for asset in self.store.assets(conn, fund_id):
            if asset.accrued_minor < asset.interest_minor:
                term = (asset.matures_on - asset.bought_on).days
                earned = amortised_interest(asset.interest_minor, term,
                                            (day - asset.bought_on).days)  # fmt: skip
                if earned > asset.accrued_minor:
                    interest += earned - asset.accrued_minor
                    self.store.update_asset(conn, asset.asset_id, accrued_minor=earned)
        book = FundBook(self.tenant, fund_id, fund.currency)
        distributable = interest + fund.fees_pending_minor
        units = balance_of(tx, book.fund(F.UNITS_OUTSTANDING))
        rate = day_rate(distributable, fund.residue_nano, units)
        params = {"tenant": self.tenant, "fund_id": fund_id, "rate": rate.rate_nano}
        holders, credited = (int(v) for v in conn.execute(_TOTALS, params).one())
        if rate.rate_nano:
            conn.execute(_DISTRIBUTE, params)
        received = book.fund(F.INCOME_RECEIVABLE)
        book.add(request_id, "bank", book.fund(F.FUND_CASH), received, bank_minor,
                 chart.CODE_INTEREST_RECEIVED)  # fmt: skip
        book.add(request_id, "income", received, book.fund(F.UNDISTRIBUTED_INCOME), interest,
                 chart.CODE_INCOME_ACCRUAL)  # fmt: skip
        book.add(request_id, "distribution", book.fund(F.UNDISTRIBUTED_INCOME),
                 book.fund(F.UNITS_OUTSTANDING), credited,
                 chart.CODE_INCOME_DISTRIBUTION)  # fmt: skip
        book.post(tx, insufficient="unreachable")
        per_10k = income_per_10k(distributable, units)
        recent = [d.per_10k for d in self.store.days(conn, fund_id, last=6)] + [per_10k]
        accrued = Day(day, interest, fund.fees_pending_minor, units, holders, rate.rate_nano,
                      credited, rate.residue_nano, per_10k,
                      seven_day_yield(recent, fund.carry_method))  # fmt: skip
        self.store.insert_day(conn, fund_id, accrued, self.now())
        self.store.update_fund(conn, fund_id, residue_nano=rate.residue_nano,
                               fees_pending_minor=0, accrued_through=day.isoformat())  # fmt: skip
        return accrued

    def publish(self, fund_id: str, day: date | None = None) -> Disclosure:
        """The disclosures of an accrued day (the last one by default)."""
        with self.ledger.current() as conn:
            fund = self.store.fund(conn, fund_id)
            if day is None:
                if fund.accrued_through is None:
                    raise InvalidStateTransition(f"fund {fund_id} has accrued no day yet")
                day = fund.accrued_through
            found = self.store.day(conn, fund_id, day)
        return Disclosure(fund_id, found.day, found.per_10k, found.yield_7d, fund.carry_method)

    def history(self, fund_id: str, last: int = 30) -> list[Day]:
        with self.ledger.current() as conn:
            self.store.fund(conn, fund_id)
            return self.store.days(conn, fund_id, last=min(max(last, 1), 366))
