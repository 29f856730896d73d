"""The fund pool's holder commands: open a fund, fund its facility, subscribe, redeem, settle.

Every command is one unit of work, idempotent by its request id (a retry returns the first
result; the same id for another command is ``IdempotencyMismatch``), and writes nothing when it
fails. The money (``fundpool/chart.py``):

==================  =============================================================  =========
command             what it does                                                   when
==================  =============================================================  =========
subscribe           the buyer's wallet pays into the fund; units at 1.00           T
redeem (normal)     units leave; the fund owes the holder; paid at settlement      T → T+1
redeem (fast)       units leave; the facility pays the wallet at once, within the  T+0
                    holder's daily cap; the fund owes the facility
settle_redemptions  the fund pays what is due from its cash: holders' T+1           T+1
                    redemptions reach their wallets, the facility is repaid
==================  =============================================================  =========

Units are paid for at 1.00 and redeemed at 1.00: a unit's minor unit is the currency's. A
subscription's units earn from the next accrual. The liquidity fee (``redemption.py``) stays
in the fund and is distributed by the next accrual. Settlement is T+1 in business days
(Monday–Friday).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from embedfin.core.errors import (
    AmountOutOfRange,
    ComplianceHold,
    InsufficientFunds,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from embedfin.core.money import Money, currency
from embedfin.fundpool import chart
from embedfin.fundpool.accrual import MAX_HOLDING_MINOR
from embedfin.fundpool.base import FundContext, check_amount, choice, fingerprint_of, new_id
from embedfin.fundpool.book import F, FundBook, balance_of
from embedfin.fundpool.income import Income
from embedfin.fundpool.liquidity import business_days_after
from embedfin.fundpool.membership import Benefits, MemberProfile, benefits_of
from embedfin.fundpool.portfolio import Portfolio
from embedfin.fundpool.redemption import (
    FAST_CAP_CNY_MINOR,
    FeePolicy,
    Speed,
    check_fast,
    liquidity_fee,
)
from embedfin.fundpool.store import (
    Fund,
    Redemption,
    RedemptionStatus,
    Subscription,
)
from embedfin.fundpool.yields import CarryMethod
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.holds import ComplianceHolds, NoHolds
from embedfin.payments.requests import check_name


class FundPool(FundContext):
    """A tenant's money-market funds: holders' commands here, income and portfolio beside."""

    def __init__(self, ledger: Ledger, tenant: str, holds: ComplianceHolds | None = None) -> None:
        super().__init__(ledger, tenant)
        self.holds: ComplianceHolds = holds or NoHolds()
        self.income = Income(ledger, tenant)
        self.portfolio = Portfolio(ledger, tenant)
        self.accrue = self.income.accrue
        self.publish = self.income.publish
        self.buy = self.portfolio.buy
        self.mature = self.portfolio.mature
        self.liquidity = self.portfolio.liquidity

    # --- funds -------------------------------------------------------------------------------
    def open_fund(
        self,
        fund_id: str,
        name: str,
        currency_code: str,
        *,
        carry_method: CarryMethod | str = CarryMethod.DAILY,
        fast_cap_minor: int | None = None,
        fee_policy: FeePolicy | None = None,
    ) -> Fund:
        """Open a fund; the same opening again is a no-op, another one under the id refused.
        The fast cap defaults to RMB 10,000 in CNY; other currencies must state it."""
        check_name("fund_id", fund_id)
        check_name("name", name, 200)
        code = currency(currency_code).code
        if fast_cap_minor is None:
            if code != "CNY":
                raise InvalidInput("a fund outside CNY states its fast redemption cap")
            fast_cap_minor = FAST_CAP_CNY_MINOR
        if fast_cap_minor < 0 or fast_cap_minor > MAX_HOLDING_MINOR:
            raise AmountOutOfRange("the fast redemption cap is 0 or more, at most a holding")
        method = choice(CarryMethod, "carry_method", carry_method)
        fund = Fund(fund_id, name, code, method, fast_cap_minor, fee_policy)
        with self.ledger.transaction() as tx:
            try:
                existing = self.store.fund(tx.conn, fund_id)
            except NotFound:
                existing = None
            if existing is not None:
                if replace(existing, residue_nano=0, fees_pending_minor=0,
                           accrued_through=None) != fund:  # fmt: skip
                    raise InvalidStateTransition(f"fund {fund_id} is open already, differently")
                return existing
            self.store.insert_fund(tx.conn, fund, self.now())
            tx.emit(self.tenant, "fundpool_fund_opened", "fund", fund_id,
                    {"currency": code, "carry_method": fund.carry_method.value})  # fmt: skip
        return fund

    def fund(self, fund_id: str) -> Fund:
        with self.ledger.current() as conn:
            return self.store.fund(conn, fund_id)

    def funds(self) -> list[Fund]:
        """The tenant's funds (at most 200), by id."""
        with self.ledger.current() as conn:
            return [self.store.fund(conn, fund_id) for fund_id in self.store.fund_ids(conn)]

    def fund_facility(self, request_id: str, fund_id: str, amount: Money) -> int:
        """A bank puts money into the fund's liquidity facility; its cash after."""
        fingerprint = fingerprint_of("facility", fund_id, amount)
        with self.ledger.transaction() as tx:
            fund = self.store.fund(tx.conn, fund_id)
            minor = check_amount(fund, amount)
            book = FundBook(self.tenant, fund_id, fund.currency)
            if self.replayed(tx, request_id, fingerprint) is not None:
                return balance_of(tx, book.facility(F.FACILITY_CASH))
            book.add(request_id, "funding", book.facility(F.FACILITY_CASH),
                     book.facility(F.FACILITY_CAPITAL), minor,
                     chart.CODE_FACILITY_FUNDING)  # fmt: skip
            book.post(tx, insufficient="unreachable")
            self.done(tx, request_id, "facility", fund_id, fingerprint, {"amount_minor": minor})
            tx.emit(self.tenant, "fundpool_facility_funded", "fund", fund_id,
                    {"amount_minor": minor, "currency": fund.currency})  # fmt: skip
            return balance_of(tx, book.facility(F.FACILITY_CASH))

    # --- holders -----------------------------------------------------------------------------
    def subscribe(
        self, request_id: str, fund_id: str, holder_id: str, amount: Money
    ) -> Subscription:
        """Buy units at 1.00 with money from the holder's wallet (same currency only)."""
        check_name("holder_id", holder_id)
        fingerprint = fingerprint_of("subscribe", fund_id, holder_id, amount)
        with self.ledger.transaction() as tx:
            if (done := self.replayed(tx, request_id, fingerprint)) is not None:
                return _subscription(done)
            fund = self.store.fund(tx.conn, fund_id)
            minor = check_amount(fund, amount)
            self._not_held(tx, holder_id)
            held = self.store.units_of(tx.conn, fund_id, holder_id)
            if (held[0] if held else 0) + minor > MAX_HOLDING_MINOR:
                raise AmountOutOfRange(f"a holding is at most {MAX_HOLDING_MINOR} minor units")
            made = Subscription(new_id("sub", self.tenant, request_id), fund_id, holder_id,
                                minor, self.today())  # fmt: skip
            book = FundBook(self.tenant, fund_id, fund.currency)
            book.add(request_id, "payment", book.wallet(holder_id), book.reserve(), minor,
                     chart.CODE_SUBSCRIPTION_PAYMENT)  # fmt: skip
            book.add(request_id, "units", book.fund(F.FUND_CASH), book.fund(F.UNITS_OUTSTANDING),
                     minor, chart.CODE_SUBSCRIPTION_UNITS)  # fmt: skip
            book.post(tx, insufficient=f"wallet of {holder_id} holds less than {minor}")
            self.store.add_units(tx.conn, fund_id, holder_id, minor, self.now())
            self.store.insert_subscription(tx.conn, made, self.now())
            self.done(tx, request_id, "subscribe", fund_id, fingerprint, made)
            tx.emit(self.tenant, "fundpool_subscribed", "fund", fund_id,
                    {"subscription_id": made.subscription_id, "holder_id": holder_id,
                     "amount_minor": minor, "currency": fund.currency})  # fmt: skip
        return made

    def redeem(
        self, request_id: str, fund_id: str, holder_id: str, amount: Money,
        speed: Speed | str = Speed.NORMAL,
    ) -> Redemption:  # fmt: skip
        """Redeem units at 1.00: normally paid at T+1, fast (T+0) at once from the facility
        within what is left of the holder's daily cap."""
        check_name("holder_id", holder_id)
        speed = choice(Speed, "speed", speed)
        fingerprint = fingerprint_of("redeem", fund_id, holder_id, amount, speed.value)
        with self.ledger.transaction() as tx:
            if (done := self.replayed(tx, request_id, fingerprint)) is not None:
                return _redemption(done)
            made = self.redeem_in(tx, request_id, fund_id, holder_id, amount, speed)
            self.done(tx, request_id, "redeem", fund_id, fingerprint, made)
        return made

    def redeem_in(
        self, tx: LedgerTransaction, request_id: str, fund_id: str, holder_id: str,
        amount: Money, speed: Speed,
    ) -> Redemption:  # fmt: skip
        """A redemption inside the caller's unit of work (checkout's redeem-and-pay)."""
        fund = self.store.fund(tx.conn, fund_id)
        minor = check_amount(fund, amount)
        held = self.store.units_of(tx.conn, fund_id, holder_id, lock=True)
        if held is None:
            raise NotFound(f"{holder_id} holds no units of {fund_id}")
        self._not_held(tx, holder_id)
        if minor > held[0]:
            raise InsufficientFunds(f"{holder_id} holds {held[0]} units, not {minor}")
        today = self.today()
        if speed is Speed.FAST:
            used = self.store.fast_used(tx.conn, fund_id, holder_id, today)
            check_fast(minor, used, fund.fast_cap_minor)
        book = FundBook(self.tenant, fund_id, fund.currency)
        subscribed, redeemed = self.store.flows_on(tx.conn, fund_id, today)
        units_now = balance_of(tx, book.fund(F.UNITS_OUTSTANDING))
        at_open = units_now + redeemed - subscribed
        fee = liquidity_fee(minor, redeemed - subscribed, at_open, fund.fee_policy)
        made = Redemption(
            new_id("red", self.tenant, request_id), fund_id, holder_id, speed, minor, fee, today,
            business_days_after(today, 1),
            RedemptionStatus.ADVANCED if speed is Speed.FAST else RedemptionStatus.PENDING,
        )  # fmt: skip
        paid = made.paid_minor
        units = book.fund(F.UNITS_OUTSTANDING)
        if speed is Speed.FAST:
            book.add(request_id, "units", units, book.facility_payable(), paid,
                     chart.CODE_REDEMPTION_UNITS)  # fmt: skip
            book.add(request_id, "fee", units, book.fund(F.UNDISTRIBUTED_INCOME), fee,
                     chart.CODE_LIQUIDITY_FEE)  # fmt: skip
            book.add(request_id, "advance", book.facility(F.FACILITY_ADVANCES),
                     book.facility(F.FACILITY_CASH), paid, chart.CODE_FAST_ADVANCE)  # fmt: skip
            book.add(request_id, "payment", book.reserve(), book.wallet(holder_id), paid,
                     chart.CODE_FAST_PAYMENT)  # fmt: skip
            insufficient = f"the liquidity facility of {fund_id} cannot advance {paid}"
        else:
            book.add(request_id, "units", units, book.holders_payable(), paid,
                     chart.CODE_REDEMPTION_UNITS)  # fmt: skip
            book.add(request_id, "fee", units, book.fund(F.UNDISTRIBUTED_INCOME), fee,
                     chart.CODE_LIQUIDITY_FEE)  # fmt: skip
            insufficient = "unreachable"
        book.post(tx, insufficient=insufficient)
        self.store.add_units(tx.conn, fund_id, holder_id, -minor, self.now())
        if fee:
            self.store.add_fee(tx.conn, fund_id, fee)
        self.store.insert_redemption(tx.conn, made, self.now())
        tx.emit(self.tenant, "fundpool_redeemed", "fund", fund_id,
                {"redemption_id": made.redemption_id, "holder_id": holder_id,
                 "speed": speed.value, "amount_minor": minor, "fee_minor": fee,
                 "currency": fund.currency})  # fmt: skip
        return made

    def settle_redemptions(self, fund_id: str) -> tuple[int, int]:
        """Pay every redemption due by today from the fund's cash, oldest first: (settled,
        left unpaid because the fund's cash ran out — they are tried again next time)."""
        settled = unpaid = 0
        with self.ledger.transaction() as tx:
            fund = self.store.fund(tx.conn, fund_id, lock=True)
            for due in self.store.redemptions_due(tx.conn, fund_id, self.today()):
                try:
                    with tx.savepoint():
                        self._settle(tx, fund, due)
                    settled += 1
                except InsufficientFunds:
                    unpaid += 1
        return settled, unpaid

    def _settle(self, tx: LedgerTransaction, fund: Fund, due: Redemption) -> None:
        book = FundBook(self.tenant, fund.fund_id, fund.currency)
        step = f"settle:{due.redemption_id}"
        cash, paid = book.fund(F.FUND_CASH), due.paid_minor
        if due.speed is Speed.FAST:
            book.add(step, "pay", book.facility_payable(), cash, paid,
                     chart.CODE_REDEMPTION_SETTLEMENT)  # fmt: skip
            book.add(step, "repaid", book.facility(F.FACILITY_CASH),
                     book.facility(F.FACILITY_ADVANCES), paid,
                     chart.CODE_FACILITY_REPAID)  # fmt: skip
        else:
            book.add(step, "pay", book.holders_payable(), cash, paid,
                     chart.CODE_REDEMPTION_SETTLEMENT)  # fmt: skip
            book.add(step, "payment", book.reserve(), book.wallet(due.holder_id), paid,
                     chart.CODE_REDEMPTION_PAYMENT)  # fmt: skip
        book.post(tx, insufficient=f"fund {fund.fund_id} has not the cash for {paid}")
        self.store.settle(tx.conn, due.redemption_id)
        tx.emit(self.tenant, "fundpool_redemption_settled", "fund", fund.fund_id,
                {"redemption_id": due.redemption_id, "amount_minor": paid,
                 "currency": fund.currency})  # fmt: skip

    def _not_held(self, tx: LedgerTransaction, holder_id: str) -> None:
        """A customer compliance holds (sanctions, monitoring) moves no money in or out."""
        hold = self.holds.hold_of(tx, "buyer", holder_id)
        if hold is not None:
            raise ComplianceHold(hold)

    # --- reads -------------------------------------------------------------------------------
    def holding(self, fund_id: str, holder_id: str) -> tuple[Money, Decimal]:
        """A holder's units (as money at 1.00) and its carried fraction of a minor unit."""
        with self.ledger.current() as conn:
            fund = self.store.fund(conn, fund_id)
            held = self.store.units_of(conn, fund_id, holder_id)
        if held is None:
            raise NotFound(f"{holder_id} holds no units of {fund_id}")
        return Money(held[0], fund.currency), Decimal(held[1]) / Decimal(10**9)

    def membership(self, fund_id: str, holder_id: str) -> Benefits:
        """The holder's tier and benefits (``membership.py``): from its fund balance and the
        days of the last 30 it subscribed or redeemed — nothing about credit. The balance is
        today's (daily balances are not kept yet, so it stands in for the 30-day average)."""
        with self.ledger.current() as conn:
            self.store.fund(conn, fund_id)
            held = self.store.units_of(conn, fund_id, holder_id)
            if held is None:
                raise NotFound(f"{holder_id} holds no units of {fund_id}")
            since = self.today() - timedelta(days=29)
            active = self.store.active_days(conn, fund_id, holder_id, since)
        return benefits_of(MemberProfile(held[0], active))

    def redemption(self, redemption_id: str) -> Redemption:
        with self.ledger.current() as conn:
            return self.store.redemption(conn, redemption_id)


def _subscription(done: dict[str, object]) -> Subscription:
    return Subscription(str(done["subscription_id"]), str(done["fund_id"]),
                        str(done["holder_id"]), int(str(done["amount_minor"])),
                        date.fromisoformat(str(done["on_date"])))  # fmt: skip


def _redemption(done: dict[str, object]) -> Redemption:
    return Redemption(
        str(done["redemption_id"]), str(done["fund_id"]), str(done["holder_id"]),
        Speed(str(done["speed"])), int(str(done["amount_minor"])), int(str(done["fee_minor"])),
        date.fromisoformat(str(done["on_date"])), date.fromisoformat(str(done["settles_on"])),
        RedemptionStatus(str(done["status"])),
    )  # fmt: skip
