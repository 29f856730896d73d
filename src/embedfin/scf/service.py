"""Receivable certificates' commands and queries for a tenant.

Every command is one unit of work, idempotent by its request id (a retry returns the first
result; the same id for another command is ``IdempotencyMismatch``), and writes nothing when it
fails. Each one that changes a certificate appends one entry to the tenant's ``scf``
transparency log in the same unit of work, so the log and the books never disagree:

===========  ==================================================  ============================
event        what changes                                        money (``scf/chart.py``)
===========  ==================================================  ============================
issue        a payable is certified; its first certificate is    —
             held by the core enterprise's supplier (tier 1)
split        a live certificate becomes 2–100 parts that sum to  —
             it, same holder; the parent retires
transfer     a live certificate (or a part of it: the rest stays  —
             with its holder) passes to the holder's supplier
             (tier + 1)
discount     a live certificate (or a part) is sold to a funder   funds held → seller, the
             at the core enterprise's rate for the days left      price
settle       on or after maturity the core enterprise pays every  core's balance → each
             live certificate of the payable in one unit of work  holder, face + late interest
overdue      at maturity the core enterprise could not pay: the   —
             payable is overdue from the next day
===========  ==================================================  ============================

**The overdue path.** ``run_maturities`` settles each payable due by today; one whose core
enterprise holds less than the whole amount is paid nothing (no holder is paid before another)
and is marked overdue once. From then on its certificates can only be settled: they accrue late
interest at the core enterprise's overdue rate for each day past maturity
(``certificates.owed_at``), and each day's run tries again; the core enterprise may also settle
it itself at any time. Certificates of an overdue payable cannot be split, transferred or
discounted, and nothing can be done to a certificate on or after its maturity but settle it.

A certificate held by a funder is only settled: funders do not split, transfer or re-discount.
The certificates' calendar day is the ledger clock's date in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from embedfin.core.clock import ns_to_datetime
from embedfin.core.errors import InsufficientFunds, InvalidStateTransition
from embedfin.core.money import Money
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import scf_payables
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.requests import check_name, check_request_id
from embedfin.scf.book import CertificateBook
from embedfin.scf.certificates import (
    CertificateRefused,
    check_face,
    check_term,
    owed_at,
    split,
)
from embedfin.scf.chart import CODE_DISCOUNT, CODE_SPLIT, CODE_TRANSFER
from embedfin.scf.ids import fingerprint_of, new_id
from embedfin.scf.parties import check_party
from embedfin.scf.queries import CertificateReads
from embedfin.scf.steps import (
    LOG_ID,
    certificate_fields,
    check_changeable,
    check_settleable,
    discount_money,
    discount_terms,
    entry_body,
    entry_text,
    rate_of,
    settle_shortfall,
)
from embedfin.scf.store import (
    Certificate,
    CertificateStatus,
    Event,
    Party,
    Payable,
    PayableStatus,
    Role,
    ScfStore,
    payable_row,
    require,
)
from embedfin.transparency.service import TransparencyLog

if TYPE_CHECKING:
    from embedfin.scf.batch import BatchItem, Done


@dataclass(frozen=True, slots=True)
class MaturityRun:
    """What a day's maturity run did: payables settled, newly overdue, still overdue."""

    settled: int
    overdue: int
    still_overdue: int


class Certificates(CertificateReads):
    """A tenant's receivable certificates."""

    def __init__(self, ledger: Ledger, tenant: str, log: TransparencyLog) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.log = log
        self.clock = ledger.clock
        self.store = ScfStore(tenant)

    def today(self) -> date:
        return ns_to_datetime(self.clock.now_ns()).date()

    # --- parties -----------------------------------------------------------------------------
    def register(
        self,
        party_id: str,
        role: str,
        name: str,
        *,
        discount_rate: Decimal | None = None,
        overdue_rate: Decimal | None = None,
        day_basis: int | None = None,
    ) -> Party:
        """Register a party; the same registration again is a no-op. A core enterprise states
        the rates its certificates are discounted and charged late at, and its day basis."""
        party = check_party(party_id, role, name, discount_rate, overdue_rate, day_basis)
        with self.ledger.transaction() as tx:
            existing = self.store.party(tx.conn, party.party_id)
            if existing is not None:
                if existing != party:
                    raise InvalidStateTransition(
                        f"party {party.party_id} is registered already, as a {existing.role}"
                    )
                return existing
            self.store.insert_party(tx.conn, party, self.clock.now_ns())
            tx.emit(self.tenant, "scf_party_registered", "scf_party", party.party_id,
                    {"role": party.role.value})  # fmt: skip
        return party

    # --- commands ----------------------------------------------------------------------------
    def issue(
        self,
        request_id: str,
        core_id: str,
        supplier_id: str,
        payable_ref: str,
        amount: Money,
        matures_on: date,
    ) -> Certificate:
        """Certify a confirmed payable of ``core_id`` to its supplier as one certificate."""
        check_request_id(request_id)
        check_name("payable_ref", payable_ref)
        face = check_face(amount.amount_minor)
        if not isinstance(matures_on, date):
            raise CertificateRefused("matures_on is a date")
        fingerprint = fingerprint_of("issue", core_id, supplier_id, payable_ref, amount, matures_on)
        with self.ledger.transaction() as tx:
            if (done := self.store.replay(tx.conn, request_id, fingerprint)) is not None:
                return self._made(tx, done)[0]
            core = self.party_as(tx, core_id, Role.CORE)
            supplier = self.party_as(tx, supplier_id, Role.SUPPLIER)
            today = self.today()
            check_term(today, matures_on)
            payable = Payable(
                new_id("pay", self.tenant, request_id, 0), core.party_id, supplier.party_id,
                payable_ref, amount.currency, face, today, matures_on, PayableStatus.OUTSTANDING,
            )  # fmt: skip
            row = payable_row(self.tenant, payable, self.clock.now_ns())
            if not insert_if_absent(tx.conn, scf_payables, row):
                if (done := self.store.replay(tx.conn, request_id, fingerprint)) is not None:
                    return self._made(tx, done)[0]  # a concurrent retry committed first
                raise InvalidStateTransition(
                    f"payable {payable_ref} of {core.party_id} is certified already"
                )
            first = self._certificate(
                request_id, 0, payable, None, supplier.party_id, Role.SUPPLIER, 1, face, today
            )
            book = CertificateBook(self.tenant, payable.currency)
            book.issue(request_id, first)
            book.post(tx, insufficient="unreachable")
            self.store.insert_certificates(tx.conn, [first], self.clock.now_ns())
            self._record(
                tx, "issue", request_id, fingerprint, payable, first.certificate_id, [], [first]
            )
        return first

    def split(
        self, request_id: str, certificate_id: str, holder_id: str, parts: Sequence[int]
    ) -> list[Certificate]:
        """Split a live certificate into parts that sum exactly to it; the parent retires."""
        check_request_id(request_id)
        fingerprint = fingerprint_of("split", certificate_id, holder_id, list(parts))
        with self.ledger.transaction() as tx:
            parent, payable, done = self._changeable(tx, request_id, fingerprint, certificate_id,
                                                     holder_id)  # fmt: skip
            if done is not None:
                return self._made(tx, done)
            amounts = split(parent.face_minor, list(parts))
            today = self.today()
            made = [
                self._certificate(request_id, i, payable, parent.certificate_id, parent.holder_id,
                                  parent.holder_role, parent.tier, amount, today)
                for i, amount in enumerate(amounts)
            ]  # fmt: skip
            self._move(tx, request_id, parent, made, [CODE_SPLIT] * len(made))
            self._record(
                tx, "split", request_id, fingerprint, payable, certificate_id, [parent], made
            )
        return made

    def transfer(
        self,
        request_id: str,
        certificate_id: str,
        holder_id: str,
        to_id: str,
        amount_minor: int | None = None,
    ) -> list[Certificate]:
        """Pass a live certificate to the holder's own supplier (one tier down). With
        ``amount_minor`` below its face only that part passes and the rest stays with the
        holder as a new certificate. The first certificate returned is the one passed on."""
        check_request_id(request_id)
        fingerprint = fingerprint_of("transfer", certificate_id, holder_id, to_id, amount_minor)
        with self.ledger.transaction() as tx:
            parent, payable, done = self._changeable(tx, request_id, fingerprint, certificate_id,
                                                     holder_id)  # fmt: skip
            if done is not None:
                return self._made(tx, done)
            to = self.party_as(tx, to_id, Role.SUPPLIER)
            if to.party_id in (parent.holder_id, payable.core_id):
                raise CertificateRefused("a certificate passes to another supplier")
            made = self._passed(request_id, parent, payable, amount_minor, to.party_id,
                                Role.SUPPLIER, parent.tier + 1, None)  # fmt: skip
            codes = [CODE_TRANSFER] + [CODE_SPLIT] * (len(made) - 1)
            self._move(tx, request_id, parent, made, codes)
            self._record(tx, "transfer", request_id, fingerprint, payable, certificate_id, [parent],
                         made)  # fmt: skip
        return made

    def discount(
        self,
        request_id: str,
        certificate_id: str,
        holder_id: str,
        funder_id: str,
        amount_minor: int | None = None,
    ) -> list[Certificate]:
        """Sell a live certificate (or a part of it) to a funder for its face less interest at
        the core enterprise's discount rate for the days to maturity; the price is paid from
        the funder's funds held into the holder's balance. The first certificate returned is
        the funder's."""
        check_request_id(request_id)
        fingerprint = fingerprint_of("discount", certificate_id, holder_id, funder_id, amount_minor)
        with self.ledger.transaction() as tx:
            parent, payable, done = self._changeable(tx, request_id, fingerprint, certificate_id,
                                                     holder_id)  # fmt: skip
            if done is not None:
                return self._made(tx, done)
            funder = self.party_as(tx, funder_id, Role.FUNDER)
            core = self.party_as(tx, payable.core_id, Role.CORE)
            terms = discount_terms(parent, payable, core, amount_minor, self.today())
            made = self._passed(request_id, parent, payable, amount_minor, funder.party_id,
                                Role.FUNDER, parent.tier, terms.price_minor)  # fmt: skip
            codes = [CODE_DISCOUNT] + [CODE_SPLIT] * (len(made) - 1)
            book = CertificateBook(self.tenant, payable.currency)
            book.move_certificate(request_id, parent, made, codes)
            book.discount(request_id, funder.party_id, parent, terms.price_minor)
            book.post(tx, insufficient=f"funder {funder.party_id} holds less than the price")
            self._replace(tx, request_id, parent, made)
            self._record(tx, "discount", request_id, fingerprint, payable, certificate_id, [parent],
                         made, discount_money(terms, core))  # fmt: skip
        return made

    def settle(self, request_id: str, payable_id: str) -> Payable:
        """On or after maturity, pay every live certificate of the payable from the core
        enterprise's balance — the face, plus late interest once overdue — all or nothing."""
        check_request_id(request_id)
        fingerprint = fingerprint_of("settle", payable_id)
        with self.ledger.transaction() as tx:
            payable = require(self.store.payable(tx.conn, payable_id, lock=True),
                              f"payable {payable_id}")  # fmt: skip
            if self.store.replay(tx.conn, request_id, fingerprint) is not None:
                return payable
            return self._settle(tx, request_id, fingerprint, payable)

    def run_maturities(self, limit: int = 1000) -> MaturityRun:
        """Settle every payable due by today that can be paid; mark the rest overdue (once)."""
        settled = overdue = still = 0
        with self.ledger.current() as conn:
            due = self.store.payables(
                conn,
                statuses=(PayableStatus.OUTSTANDING, PayableStatus.OVERDUE),
                matures_by=self.today(),
                limit=limit,
            )
        for payable in due:
            try:
                self.settle(f"maturity:{payable.payable_id}:{self.today()}", payable.payable_id)
                settled += 1
            except InvalidStateTransition:
                continue  # settled by its core enterprise since the list was read
            except InsufficientFunds:
                if payable.status is PayableStatus.OVERDUE:
                    still += 1
                elif self._mark_overdue(payable.payable_id):
                    overdue += 1
        return MaturityRun(settled, overdue, still)

    def batch(self, items: Sequence[BatchItem]) -> list[Done]:
        """Many issues, splits, transfers, discounts and settlements in one unit of work, each
        the single command under its own request id, all or nothing (``scf/batch.py``)."""
        from embedfin.scf.batch import run_batch

        return run_batch(self, items)

    # --- steps -------------------------------------------------------------------------------
    def party_as(self, tx: LedgerTransaction, party_id: str, role: Role) -> Party:
        """The party, in the caller's unit of work, or a typed error if it is not a ``role``."""
        party = require(self.store.party(tx.conn, check_name("party_id", party_id)),
                        f"party {party_id}")  # fmt: skip
        if party.role is not role:
            raise CertificateRefused(f"party {party_id} is a {party.role}, not a {role}")
        return party

    def _changeable(
        self,
        tx: LedgerTransaction,
        request_id: str,
        fingerprint: str,
        certificate_id: str,
        holder_id: str,
    ) -> tuple[Certificate, Payable, Event | None]:
        """The live certificate ``holder_id`` holds, locked, and its payable — or the event a
        retry of ``request_id`` returns."""
        check_name("certificate_id", certificate_id)
        parent = require(self.store.certificate(tx.conn, certificate_id, lock=True),
                         f"certificate {certificate_id}")  # fmt: skip
        payable = require(self.store.payable(tx.conn, parent.payable_id), "payable")
        if (done := self.store.replay(tx.conn, request_id, fingerprint)) is not None:
            return parent, payable, done
        check_changeable(parent, payable, holder_id, self.today())
        return parent, payable, None

    def _passed(
        self,
        request_id: str,
        parent: Certificate,
        payable: Payable,
        amount_minor: int | None,
        to_id: str,
        to_role: Role,
        tier: int,
        price_minor: int | None,
    ) -> list[Certificate]:
        """The certificates a transfer or discount makes: the part passed on, and the rest
        left with the holder when only a part passes."""
        face = parent.face_minor
        amounts = [face]
        if amount_minor is not None and amount_minor != face:
            if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
                raise CertificateRefused("the amount passed on is a whole number of minor units")
            if not 0 < amount_minor < face:
                raise CertificateRefused(f"the amount passed on is 1 to {face:,} (the whole)")
            amounts = [amount_minor, face - amount_minor]
        today = self.today()
        made = [self._certificate(request_id, 0, payable, parent.certificate_id, to_id, to_role,
                                  tier, amounts[0], today, price_minor)]  # fmt: skip
        if len(amounts) == 2:
            made.append(self._certificate(request_id, 1, payable, parent.certificate_id,
                                          parent.holder_id, parent.holder_role, parent.tier,
                                          amounts[1], today))  # fmt: skip
        return made

    def _certificate(
        self,
        request_id: str,
        index: int,
        payable: Payable,
        parent_id: str | None,
        holder_id: str,
        role: Role,
        tier: int,
        face: int,
        today: date,
        price_minor: int | None = None,
    ) -> Certificate:
        return Certificate(
            new_id("crt", self.tenant, request_id, index), payable.payable_id, parent_id,
            holder_id, role, tier, face, price_minor, CertificateStatus.LIVE, request_id, None,
            today, payable.currency, payable.matures_on,
        )  # fmt: skip

    def _move(
        self,
        tx: LedgerTransaction,
        request_id: str,
        parent: Certificate,
        made: list[Certificate],
        codes: list[int],
    ) -> None:
        book = CertificateBook(self.tenant, parent.currency)
        book.move_certificate(request_id, parent, made, codes)
        book.post(tx, insufficient=f"certificate {parent.certificate_id} holds less")
        self._replace(tx, request_id, parent, made)

    def _replace(
        self, tx: LedgerTransaction, request_id: str, parent: Certificate, made: list[Certificate]
    ) -> None:
        self.store.retire(tx.conn, [parent.certificate_id], CertificateStatus.RETIRED, request_id)
        self.store.insert_certificates(tx.conn, made, self.clock.now_ns())

    def _settle(
        self, tx: LedgerTransaction, request_id: str, fingerprint: str, payable: Payable
    ) -> Payable:
        today = self.today()
        check_settleable(payable, today)
        core = self.party_as(tx, payable.core_id, Role.CORE)
        live = self.store.certificates(tx.conn, payable_id=payable.payable_id,
                                       status=CertificateStatus.LIVE, lock=True)  # fmt: skip
        book, settled, money = self.settlement(request_id, payable, core, live, today)
        book.post(tx, insufficient=settle_shortfall(core, settled))
        ids = [c.certificate_id for c in live]
        self.store.retire(tx.conn, ids, CertificateStatus.SETTLED, request_id)
        self.store.save_payable(tx.conn, settled)
        self._record(tx, "settle", request_id, fingerprint, settled, payable.payable_id, live, [],
                     money)  # fmt: skip
        return settled

    def settlement(
        self,
        request_id: str,
        payable: Payable,
        core: Party,
        live: Sequence[Certificate],
        today: date,
    ) -> tuple[CertificateBook, Payable, dict[str, Any]]:
        """The legs that pay every live certificate of a payable on ``today``, the payable as
        settled and what its log entry says of the money."""  # fmt: skip
        book = CertificateBook(self.tenant, payable.currency)
        paid: list[dict[str, Any]] = []
        for held in live:
            owed = owed_at(held.face_minor, payable.matures_on, today,
                           rate_of(core.overdue_rate), core.day_basis or 360)  # fmt: skip
            book.settle(request_id, core.party_id, held, owed)
            paid.append({"id": held.certificate_id, "holder": held.holder_id, "paid_minor": owed})
        total = sum(p["paid_minor"] for p in paid)
        settled = replace(payable, status=PayableStatus.SETTLED, settled_on=today,
                          late_interest_minor=total - payable.face_minor)  # fmt: skip
        return book, settled, {"paid": paid, "late_interest_minor": settled.late_interest_minor}

    def _mark_overdue(self, payable_id: str) -> bool:
        request_id = f"overdue:{payable_id}"
        fingerprint = fingerprint_of("overdue", payable_id)
        with self.ledger.transaction() as tx:
            payable = require(self.store.payable(tx.conn, payable_id, lock=True), "payable")
            if payable.status is not PayableStatus.OUTSTANDING:
                return False
            since = date.fromordinal(payable.matures_on.toordinal() + 1)
            overdue = replace(payable, status=PayableStatus.OVERDUE, overdue_since=since)
            self.store.save_payable(tx.conn, overdue)
            self._record(tx, "overdue", request_id, fingerprint, overdue, payable_id, [], [],
                         {"overdue_since": since.isoformat()})  # fmt: skip
        return True

    def _record(
        self,
        tx: LedgerTransaction,
        kind: str,
        request_id: str,
        fingerprint: str,
        payable: Payable,
        subject_id: str,
        retired: Sequence[Certificate],
        made: Sequence[Certificate],
        extra: dict[str, Any] | None = None,
    ) -> Event:
        """Append the event to the ``scf`` log, keep it as the request's record, emit it."""
        body = certificate_fields(payable, retired, made, extra)
        return self.record(tx, f"certificate_{kind}", kind, request_id, fingerprint,
                           ("scf_payable", payable.payable_id), subject_id, body,
                           payable.currency)  # fmt: skip

    def record(
        self,
        tx: LedgerTransaction,
        event_type: str,
        kind: str,
        request_id: str,
        fingerprint: str,
        aggregate: tuple[str, str],
        subject_id: str,
        fields: dict[str, Any],
        currency: str,
    ) -> Event:
        """One supply-chain finance event, in the caller's unit of work: its entry in the
        ``scf`` log, the request's record (what a retry returns) and the outbox event."""
        today = self.today()
        body = entry_body(kind, request_id, today, fields)
        text = entry_text(body)
        [index] = self.log.append_in(tx, LOG_ID, [text])
        event = Event(request_id, kind, aggregate[1], subject_id, body, index, today)
        self.store.insert_event(tx.conn, event, fingerprint, self.clock.now_ns())
        tx.emit(self.tenant, event_type, aggregate[0], aggregate[1],
                {"request_id": request_id, "log_index": index, "subject_id": subject_id,
                 "currency": currency})  # fmt: skip
        return event

    def _made(self, tx: LedgerTransaction, done: Event) -> list[Certificate]:
        return [
            require(self.store.certificate(tx.conn, m["id"]), "certificate")
            for m in done.result["makes"]
        ]
