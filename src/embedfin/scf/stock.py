"""Inventory financing: a funder's facility for a distributor, drawn against the distributor's
stock and paid down when the stock no longer covers it (``inventory.py`` has the rules).

===========  =========================================  =======================================
command      what changes                               money (``scf/chart.py``)
===========  =========================================  =======================================
open         a funder's facility for a distributor,     —
             with its terms
report       the distributor's stock today, SKU by      — (the day's borrowing base is
             SKU (a second report the same day          recomputed)
             replaces the first)
draw         within today's limit, while not frozen     funds held → distributor, the draw less
                                                        its fee; inventory loan ← lender cash;
                                                        lender cash → fee income
repay        the distributor pays down what it drew;    distributor → funds held; lender cash →
             a plan's installments first, in order      inventory loan
run          each day: every facility's borrowing       as repay, for each installment due
             base from its latest stock report (none
             for ``STALE_DAYS``: nothing) and the
             units sold on the platform in the window;
             a limit below what is drawn freezes it
             and starts a plan; due installments are
             collected from the distributor's balance
             (short: marked overdue, retried daily);
             a plan paid and a base that covers the
             rest unfreezes it
===========  =========================================  =======================================

Every command is one unit of work, idempotent by request id, and appended to the tenant's
``scf`` log like the certificates' events; the run's steps have request ids derived from the
facility, the day and the installment, so running a day twice changes nothing. Units sold come
from commerce through the ``SalesHistory`` port (the distributor's paid orders).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from embedfin.core.errors import InsufficientFunds, InvalidInput, InvalidStateTransition
from embedfin.core.money import Money
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import (
    scf_inventory_facilities,
    scf_inventory_installments,
    scf_inventory_valuations,
    scf_stock_reports,
)
from embedfin.ledger.service import LedgerTransaction
from embedfin.lending.chart import LendingAccountCode
from embedfin.payments.chart import AccountCode, AccountKey
from embedfin.payments.requests import check_name, check_request_id
from embedfin.scf.book import CertificateBook
from embedfin.scf.certificates import check_face
from embedfin.scf.chart import (
    CODE_INVENTORY_BOOKING,
    CODE_INVENTORY_DRAW,
    CODE_INVENTORY_FEE,
    CODE_INVENTORY_REPAID,
    CODE_INVENTORY_REPAYMENT,
    ScfAccountCode,
)
from embedfin.scf.ids import fingerprint_of, new_id
from embedfin.scf.inventory import (
    WINDOW_DAYS,
    Policy,
    StockLine,
    check_lines,
    fee_of,
    plan,
    stale,
    value,
)
from embedfin.scf.service import Certificates
from embedfin.scf.stock_rows import (
    DayValuation,
    Facility,
    FacilityStatus,
    Installment,
    InventoryRefused,
    InventoryRun,
    SalesHistory,
    facility_of,
    valuation_of,
)
from embedfin.scf.store import Role, require

_F, _R = scf_inventory_facilities.c, scf_stock_reports.c
_V, _I = scf_inventory_valuations.c, scf_inventory_installments.c


class InventoryFinancing:
    """A tenant's inventory facilities."""

    def __init__(self, certificates: Certificates, sales: SalesHistory) -> None:
        self.certificates = certificates
        self.sales = sales
        self.ledger = certificates.ledger
        self.tenant = certificates.tenant
        self.clock = certificates.clock

    # --- commands ----------------------------------------------------------------------------
    def open(
        self, request_id: str, distributor_id: str, funder_id: str, currency: str, policy: Policy
    ) -> Facility:
        """A funder's facility for a distributor on these terms."""
        check_request_id(request_id)
        if not isinstance(policy, Policy):
            raise InvalidInput("policy is a facility policy")
        currency = Money(0, currency).currency  # a known currency, its code normalised
        fingerprint = fingerprint_of("stock_open", distributor_id, funder_id, currency,
                                     asdict(policy))  # fmt: skip
        scf = self.certificates
        facility_id = new_id("inv", self.tenant, request_id, 0)
        with self.ledger.transaction() as tx:
            if scf.store.replay(tx.conn, request_id, fingerprint) is not None:
                return self._facility(tx.conn, facility_id)
            distributor = scf.party_as(tx, distributor_id, Role.DISTRIBUTOR)
            funder = scf.party_as(tx, funder_id, Role.FUNDER)
            made = Facility(facility_id, distributor.party_id, funder.party_id, currency, policy,
                            0, FacilityStatus.OPEN, 0, scf.today())  # fmt: skip
            tx.conn.execute(insert(scf_inventory_facilities).values(
                tenant=self.tenant, facility_id=facility_id, distributor_id=made.distributor_id,
                funder_id=made.funder_id, currency=currency, policy=json.dumps(asdict(policy)),
                drawn_minor=0, status=made.status.value, plan_no=0,
                opened_on=made.opened_on.isoformat(), created_at=self.clock.now_ns()))  # fmt: skip
            self._record(tx, "stock_open", request_id, fingerprint, made,
                         {"policy": asdict(policy)})  # fmt: skip
        return made

    def report(self, request_id: str, facility_id: str, lines: object) -> DayValuation:
        """The distributor's stock today; today's borrowing base recomputed from it."""
        check_request_id(request_id)
        checked = check_lines(lines)
        fingerprint = fingerprint_of("stock_report", facility_id,
                                     [asdict(line) for line in checked])  # fmt: skip
        with self.ledger.transaction() as tx:
            facility = self._locked(tx, facility_id)
            today = self.certificates.today()
            if self.certificates.store.replay(tx.conn, request_id, fingerprint) is None:
                body = json.dumps([asdict(line) for line in checked], separators=(",", ":"))
                stock_value = sum(line.on_hand * line.unit_cost_minor for line in checked)
                key = {"tenant": self.tenant, "facility_id": facility_id,
                       "reported_on": today.isoformat()}  # fmt: skip
                row = {"lines": body, "value_minor": stock_value,
                       "created_at": self.clock.now_ns()}  # fmt: skip
                if not insert_if_absent(tx.conn, scf_stock_reports, {**key, **row}):
                    tx.conn.execute(update(scf_stock_reports).values(**row).where(
                        *(getattr(_R, k) == v for k, v in key.items())))  # fmt: skip
                self._record(tx, "stock_report", request_id, fingerprint, facility,
                             {"skus": len(checked), "value_minor": stock_value})  # fmt: skip
            return self._value(tx.conn, facility, today)

    def draw(self, request_id: str, facility_id: str, amount: Money) -> Facility:
        """Draw ``amount`` within today's limit: the distributor receives it less the fee."""
        check_request_id(request_id)
        face = check_face(amount.amount_minor)
        fingerprint = fingerprint_of("stock_draw", facility_id, amount)
        scf = self.certificates
        with self.ledger.transaction() as tx:
            facility = self._locked(tx, facility_id)
            if scf.store.replay(tx.conn, request_id, fingerprint) is not None:
                return facility
            self._same_currency(facility, amount)
            if facility.status is FacilityStatus.FROZEN:
                raise InventoryRefused(
                    f"facility {facility_id} is frozen: its stock no longer covers what is"
                    " drawn, and a plan is paying it down"
                )
            base = self._value(tx.conn, facility, scf.today())
            headroom = base.valuation.limit_minor - facility.drawn_minor
            if face > headroom:
                raise InventoryRefused(
                    f"facility {facility_id} has {max(0, headroom)} left of today's limit"
                    f" {base.valuation.limit_minor}, not {face}"
                )
            fee = fee_of(face, facility.policy.fee_bp)
            book = CertificateBook(self.tenant, facility.currency)
            funder = facility.funder_id
            cash = book.funder(funder, LendingAccountCode.LENDER_CASH)
            book.add(request_id, "draw", book.funder(funder, AccountCode.LENDER_FUNDS_HELD),
                     book.cash_of(facility.distributor_id, Role.DISTRIBUTOR), face - fee,
                     CODE_INVENTORY_DRAW)  # fmt: skip
            book.add(request_id, "booking", _loan(book, facility_id), cash, face,
                     CODE_INVENTORY_BOOKING)  # fmt: skip
            book.add(request_id, "fee", cash,
                     book.funder(funder, ScfAccountCode.INVENTORY_FEE_INCOME), fee,
                     CODE_INVENTORY_FEE)  # fmt: skip
            book.post(tx, insufficient=f"funder {funder} holds less than the draw")
            drawn = self._set_drawn(tx.conn, facility, facility.drawn_minor + face)
            self._record(tx, "stock_draw", request_id, fingerprint, drawn,
                         {"amount_minor": face, "fee_minor": fee})  # fmt: skip
        return drawn

    def repay(self, request_id: str, facility_id: str, amount: Money) -> Facility:
        """The distributor pays ``amount`` of what it drew from its balance (a plan's
        installments first, earliest due first)."""
        check_request_id(request_id)
        face = check_face(amount.amount_minor)
        fingerprint = fingerprint_of("stock_repay", facility_id, amount)
        with self.ledger.transaction() as tx:
            facility = self._locked(tx, facility_id)
            if self.certificates.store.replay(tx.conn, request_id, fingerprint) is not None:
                return facility
            self._same_currency(facility, amount)
            if face > facility.drawn_minor:
                raise InventoryRefused(f"facility {facility_id} owes {facility.drawn_minor},"
                                       f" less than {face}")  # fmt: skip
            return self._repay(tx, request_id, fingerprint, facility, face, "stock_repay")

    def run(self, day: date | None = None, page: int = 1000) -> InventoryRun:
        """The day's run over every facility (see the module), ``page`` at a time: safe to
        repeat."""
        today = self.certificates.today() if day is None else day
        if not isinstance(today, date):
            raise InvalidInput("day is a date")
        valued = frozen = unfrozen = collected = overdue = 0
        for facility_id in self._all_ids(page):
            with self.ledger.transaction() as tx:
                facility = self._locked(tx, facility_id)
                base = self._value(tx.conn, facility, today)
                change = self._rebase(tx, facility, base, today)
                valued += 1
                frozen += change == "frozen"
                unfrozen += change == "unfrozen"
            paid_here = 0
            for item in self.installments(facility_id):
                if item.status == "paid" or item.due_on > today:
                    continue
                outcome = self._collect(facility_id, item, today)
                paid_here += outcome == "paid"
                overdue += outcome == "overdue"
            collected += paid_here
            if not paid_here:
                continue
            with self.ledger.transaction() as tx:  # a plan paid off may unfreeze it
                facility = self._locked(tx, facility_id)
                base = self._value(tx.conn, facility, today)
                unfrozen += self._rebase(tx, facility, base, today) == "unfrozen"
        return InventoryRun(valued, frozen, unfrozen, collected, overdue)

    def _all_ids(self, page: int) -> Iterator[str]:
        """Every facility id of the tenant, in order, read a page at a time."""
        after = ""
        while True:
            with self.ledger.current() as conn:
                ids = list(conn.execute(
                    select(_F.facility_id).where(_F.tenant == self.tenant, _F.facility_id > after)
                    .order_by(_F.facility_id).limit(page)).scalars())  # fmt: skip
            yield from ids
            if len(ids) < page:
                return
            after = ids[-1]

    # --- queries -----------------------------------------------------------------------------
    def facility(self, facility_id: str) -> Facility:
        check_name("facility_id", facility_id)
        with self.ledger.current() as conn:
            return self._facility(conn, facility_id)

    def facilities(
        self, distributor_id: str | None = None, funder_id: str | None = None, limit: int = 1000
    ) -> list[Facility]:
        query = select(scf_inventory_facilities).where(_F.tenant == self.tenant)
        if distributor_id is not None:
            query = query.where(_F.distributor_id == distributor_id)
        if funder_id is not None:
            query = query.where(_F.funder_id == funder_id)
        with self.ledger.current() as conn:
            rows = conn.execute(query.order_by(_F.created_at, _F.facility_id).limit(limit))
            return [facility_of(row) for row in rows.mappings()]

    def valuations(self, facility_id: str, limit: int = 90) -> list[DayValuation]:
        """The facility's daily borrowing bases, newest first."""
        with self.ledger.current() as conn:
            self._facility(conn, check_name("facility_id", facility_id))
            rows = conn.execute(
                select(scf_inventory_valuations)
                .where(_V.tenant == self.tenant, _V.facility_id == facility_id)
                .order_by(_V.day.desc()).limit(limit)).mappings()  # fmt: skip
            return [valuation_of(row) for row in rows]

    def installments(self, facility_id: str) -> list[Installment]:
        with self.ledger.current() as conn:
            return self._installments(conn, check_name("facility_id", facility_id))

    # --- steps -------------------------------------------------------------------------------
    def _value(self, conn: Connection, facility: Facility, day: date) -> DayValuation:
        """The facility's borrowing base on ``day``, stored as that day's valuation."""
        report = conn.execute(
            select(_R.reported_on, _R.lines)
            .where(_R.tenant == self.tenant, _R.facility_id == facility.facility_id,
                   _R.reported_on <= day.isoformat())
            .order_by(_R.reported_on.desc()).limit(1)).first()  # fmt: skip
        reported_on = None if report is None else date.fromisoformat(report.reported_on)
        lines: list[StockLine] = []
        if report is not None and not stale(reported_on, day):
            lines = [StockLine(**line) for line in json.loads(report.lines)]
        end = _start_ns(day + timedelta(days=1))
        sold = self.sales.units_sold(conn, self.tenant, facility.distributor_id,
                                     end - WINDOW_DAYS * 86_400 * 10**9, end)  # fmt: skip
        base = value(lines, sold, facility.policy)
        row = {
            "reported_on": None if report is None else report.reported_on,
            "value_minor": base.value_minor, "eligible_minor": base.eligible_minor,
            "sell_through_bp": base.sell_through_bp, "advance_bp": base.advance_bp,
            "limit_minor": base.limit_minor, "drawn_minor": facility.drawn_minor,
            "figures": json.dumps({"on_hand": base.on_hand, "sold": base.sold,
                                   "days_of_stock": base.days_of_stock,
                                   "skus": [asdict(s) for s in base.skus[:200]]}),
            "created_at": self.clock.now_ns(),
        }  # fmt: skip
        key = {"tenant": self.tenant, "facility_id": facility.facility_id, "day": day.isoformat()}
        if not insert_if_absent(conn, scf_inventory_valuations, {**key, **row}):
            conn.execute(update(scf_inventory_valuations).values(**row).where(
                *(getattr(_V, k) == v for k, v in key.items())))  # fmt: skip
        return DayValuation(facility.facility_id, day, reported_on, base, facility.drawn_minor)

    def _rebase(
        self, tx: LedgerTransaction, facility: Facility, base: DayValuation, day: date
    ) -> str | None:
        """Freeze a facility whose limit fell below what is drawn (a plan for the shortfall),
        or unfreeze one whose plan is paid and whose base covers the rest."""
        limit = base.valuation.limit_minor
        unpaid = facility.status is FacilityStatus.FROZEN and any(
            i.plan_no == facility.plan_no and i.status != "paid"
            for i in self._installments(tx.conn, facility.facility_id)
        )
        if facility.drawn_minor > limit and not unpaid:  # a first plan, or the next one
            shortfall = facility.drawn_minor - limit
            plan_no = facility.plan_no + 1
            parts = plan(shortfall, facility.policy, day)
            tx.conn.execute(insert(scf_inventory_installments), [
                {"tenant": self.tenant, "facility_id": facility.facility_id, "plan_no": plan_no,
                 "n": n, "due_on": due.isoformat(), "amount_minor": amount, "paid_minor": 0,
                 "status": "due"} for n, (due, amount) in enumerate(parts, 1)])  # fmt: skip
            changed = self._set_status(tx.conn, facility, FacilityStatus.FROZEN, plan_no)
            self._record(tx, "stock_frozen",
                         f"inventory:{facility.facility_id}:plan{plan_no}",
                         fingerprint_of("stock_frozen", facility.facility_id, plan_no),
                         changed, {"limit_minor": limit, "shortfall_minor": shortfall,
                                   "plan": [{"due_on": d.isoformat(), "amount_minor": a}
                                            for d, a in parts]})  # fmt: skip
            return "frozen"
        if facility.status is FacilityStatus.FROZEN and not unpaid:  # paid, and covered
            changed = self._set_status(tx.conn, facility, FacilityStatus.OPEN, facility.plan_no)
            self._record(tx, "stock_unfrozen",
                         f"inventory:{facility.facility_id}:plan{facility.plan_no}:done",
                         fingerprint_of("stock_unfrozen", facility.facility_id,
                                        facility.plan_no), changed,
                         {"limit_minor": limit})  # fmt: skip
            return "unfrozen"
        return None

    def _collect(self, facility_id: str, item: Installment, day: date) -> str:
        """Collect a due installment from the distributor's balance, or mark it overdue."""
        request_id = f"inventory:{facility_id}:{item.plan_no}:{item.n}:{day.isoformat()}"
        owed = item.amount_minor - item.paid_minor
        fingerprint = fingerprint_of("stock_collect", facility_id, item.plan_no, item.n, owed)
        try:
            with self.ledger.transaction() as tx:
                facility = self._locked(tx, facility_id)
                due = min(owed, facility.drawn_minor)
                if self.certificates.store.replay(tx.conn, request_id, fingerprint) is not None:
                    return "paid"
                if due <= 0:  # pragma: no cover - a plan never asks more than is drawn
                    return "paid"
                self._repay(tx, request_id, fingerprint, facility,
                            due, "stock_collect")  # fmt: skip
            return "paid"
        except InsufficientFunds:
            if item.status == "overdue":
                return "still"
            with self.ledger.transaction() as tx:
                which = _installment_key(self.tenant, facility_id, item)
                tx.conn.execute(
                    update(scf_inventory_installments).values(status="overdue").where(*which)
                )
            return "overdue"

    def _repay(
        self,
        tx: LedgerTransaction,
        request_id: str,
        fingerprint: str,
        facility: Facility,
        face: int,
        kind: str,
    ) -> Facility:
        book = CertificateBook(self.tenant, facility.currency)
        book.add(request_id, "repay", book.cash_of(facility.distributor_id, Role.DISTRIBUTOR),
                 book.funder(facility.funder_id, AccountCode.LENDER_FUNDS_HELD), face,
                 CODE_INVENTORY_REPAYMENT)  # fmt: skip
        book.add(request_id, "repaid", book.funder(facility.funder_id,
                 LendingAccountCode.LENDER_CASH), _loan(book, facility.facility_id), face,
                 CODE_INVENTORY_REPAID)  # fmt: skip
        book.post(tx, insufficient=f"distributor {facility.distributor_id} holds less than {face}")
        left = face
        for item in self._installments(tx.conn, facility.facility_id):
            if left == 0:
                break
            if item.plan_no != facility.plan_no or item.status == "paid":
                continue
            paid = min(left, item.amount_minor - item.paid_minor)
            left -= paid
            done = item.paid_minor + paid == item.amount_minor
            which = _installment_key(self.tenant, facility.facility_id, item)
            status = "paid" if done else item.status
            tx.conn.execute(
                update(scf_inventory_installments)
                .values(paid_minor=item.paid_minor + paid, status=status)
                .where(*which)
            )
        repaid = self._set_drawn(tx.conn, facility, facility.drawn_minor - face)
        self._record(tx, kind, request_id, fingerprint, repaid, {"amount_minor": face})
        return repaid

    def _same_currency(self, facility: Facility, amount: Money) -> None:
        if amount.currency != facility.currency:
            raise InventoryRefused(f"facility {facility.facility_id} is in {facility.currency},"
                                   f" not {amount.currency}")  # fmt: skip

    # --- rows --------------------------------------------------------------------------------
    def _locked(self, tx: LedgerTransaction, facility_id: str) -> Facility:
        check_name("facility_id", facility_id)
        query = select(scf_inventory_facilities).where(*self._key(facility_id))
        row = tx.conn.execute(query.with_for_update()).mappings().first()
        return facility_of(require(row, f"inventory facility {facility_id}"))

    def _facility(self, conn: Connection, facility_id: str) -> Facility:
        row = conn.execute(select(scf_inventory_facilities).where(*self._key(facility_id)))
        return facility_of(require(row.mappings().first(), f"inventory facility {facility_id}"))

    def _installments(self, conn: Connection, facility_id: str) -> list[Installment]:
        rows = conn.execute(
            select(scf_inventory_installments)
            .where(_I.tenant == self.tenant, _I.facility_id == facility_id)
            .order_by(_I.plan_no, _I.n)).mappings()  # fmt: skip
        return [Installment(int(r["plan_no"]), int(r["n"]), date.fromisoformat(r["due_on"]),
                            int(r["amount_minor"]), int(r["paid_minor"]), r["status"])
                for r in rows]  # fmt: skip

    def _key(self, facility_id: str) -> tuple[Any, ...]:
        return (_F.tenant == self.tenant, _F.facility_id == facility_id)

    def _set_drawn(self, conn: Connection, facility: Facility, drawn: int) -> Facility:
        if drawn < 0:  # pragma: no cover - the ledger's flags refuse it first
            raise InvalidStateTransition(f"facility {facility.facility_id} would owe {drawn}")
        conn.execute(update(scf_inventory_facilities).values(drawn_minor=drawn)
                     .where(*self._key(facility.facility_id)))  # fmt: skip
        return replace(facility, drawn_minor=drawn)

    def _set_status(
        self, conn: Connection, facility: Facility, status: FacilityStatus, plan_no: int
    ) -> Facility:
        conn.execute(update(scf_inventory_facilities).values(status=status.value, plan_no=plan_no)
                     .where(*self._key(facility.facility_id)))  # fmt: skip
        return replace(facility, status=status, plan_no=plan_no)

    def _record(
        self,
        tx: LedgerTransaction,
        kind: str,
        request_id: str,
        fingerprint: str,
        facility: Facility,
        extra: dict[str, Any],
    ) -> None:
        fields = {"facility": {"id": facility.facility_id, "distributor": facility.distributor_id,
                               "funder": facility.funder_id, "currency": facility.currency,
                               "drawn_minor": facility.drawn_minor,
                               "status": facility.status.value}, **extra}  # fmt: skip
        self.certificates.record(tx, f"scf_{kind}", kind, request_id, fingerprint,
                                 ("scf_inventory", facility.facility_id), facility.facility_id,
                                 fields, facility.currency)  # fmt: skip


def _loan(book: CertificateBook, facility_id: str) -> AccountKey:
    return AccountKey(book.tenant, "scf_inventory", facility_id, book.currency,
                      ScfAccountCode.INVENTORY_LOAN)  # fmt: skip


def _start_ns(day: date) -> int:
    return int(datetime.combine(day, time(), UTC).timestamp()) * 10**9


def _installment_key(tenant: str, facility_id: str, item: Installment) -> tuple[Any, ...]:
    return (_I.tenant == tenant, _I.facility_id == facility_id, _I.plan_no == item.plan_no,
            _I.n == item.n)  # fmt: skip
