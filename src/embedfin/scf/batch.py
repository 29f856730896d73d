"""Many certificate commands in one unit of work (``Certificates.batch``).

Each item is the single command of its kind — the same checks, ids, ledger legs, log entry,
record and event — under its own request id, so retrying the batch (or one of its items
alone, or a single command an item repeats) returns what was done the first time. Items run
in order: an item sees what the items before it did, and may name a certificate an earlier
item makes as ``@<request id>/<n>`` (the n-th it makes, from 0, in the order the command
returns them) and the payable an issue certifies as ``@<request id>``.

All or nothing: a refused item refuses the batch with ``BatchItemRefused`` (its index and
the item's own typed error), and nothing is written. Throughput is why it exists: the rows of
each kind are read in one query, every item's legs go to the ledger in one batch (each item's
legs a linked chain of their own, as a single command posts them), the log entries in one
append, and the rows and outbox events in one statement each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Protocol

from embedfin.core.clock import Clock
from embedfin.core.errors import (
    BatchItemRefused,
    EmbedfinError,
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidInput,
    InvalidStateTransition,
    LedgerRejected,
)
from embedfin.core.events import Event as OutboxEvent
from embedfin.core.money import Money
from embedfin.ledger.service import BatchTooLarge, Ledger, LedgerTransaction
from embedfin.ledger.types import BATCH_MAX, CreateTransferResult, Transfer, TransferFlags
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import AccountKey
from embedfin.payments.requests import check_name, check_request_id
from embedfin.scf import batch_rows as rows
from embedfin.scf.book import CertificateBook
from embedfin.scf.certificates import CertificateRefused, check_face, check_term, split
from embedfin.scf.chart import CODE_DISCOUNT, CODE_SPLIT, CODE_TRANSFER
from embedfin.scf.ids import fingerprint_of, new_id
from embedfin.scf.steps import (
    LOG_ID,
    certificate_fields,
    check_changeable,
    check_settleable,
    discount_money,
    discount_terms,
    entry_body,
    entry_text,
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
    require,
)
from embedfin.transparency.service import TransparencyLog


class Certificates(Protocol):
    """What a batch needs of ``scf.service.Certificates`` (which imports this module)."""

    tenant: str
    ledger: Ledger
    log: TransparencyLog
    store: ScfStore
    clock: Clock

    def today(self) -> date: ...

    def _certificate(self, request_id: str, index: int, payable: Payable, parent_id: str | None,
                     holder_id: str, role: Role, tier: int, face: int, today: date,
                     price_minor: int | None = None) -> Certificate: ...  # fmt: skip

    def _passed(self, request_id: str, parent: Certificate, payable: Payable,
                amount_minor: int | None, to_id: str, to_role: Role, tier: int,
                price_minor: int | None) -> list[Certificate]: ...  # fmt: skip

    def settlement(self, request_id: str, payable: Payable, core: Party,
                   live: Sequence[Certificate],
                   today: date) -> tuple[CertificateBook, Payable, dict[str, Any]]: ...  # fmt: skip


#: Items per batch: a batch is one unit of work and holds its rows' locks until it commits.
MAX_ITEMS = 1_000


@dataclass(frozen=True, slots=True)
class IssueItem:
    request_id: str
    core_id: str
    supplier_id: str
    payable_ref: str
    amount: Money
    matures_on: date


@dataclass(frozen=True, slots=True)
class SplitItem:
    request_id: str
    certificate_id: str
    holder_id: str
    parts: Sequence[int]


@dataclass(frozen=True, slots=True)
class TransferItem:
    request_id: str
    certificate_id: str
    holder_id: str
    to_id: str
    amount_minor: int | None = None


@dataclass(frozen=True, slots=True)
class DiscountItem:
    request_id: str
    certificate_id: str
    holder_id: str
    funder_id: str
    amount_minor: int | None = None


@dataclass(frozen=True, slots=True)
class SettleItem:
    request_id: str
    payable_id: str


BatchItem = IssueItem | SplitItem | TransferItem | DiscountItem | SettleItem


@dataclass(frozen=True, slots=True)
class Done:
    """What one item did (``replayed``: did before, under the same request id).

    Attributes:
        certificates: what it made, in the order the single command returns them.
        payable: the payable an issue certified or a settlement paid (``None`` otherwise).
    """

    request_id: str
    kind: str
    certificates: tuple[Certificate, ...]
    payable: Payable | None
    replayed: bool


@dataclass(slots=True)
class _Step:
    """One planned item: its legs, its log entry's fields and what it made."""

    index: int
    kind: str
    request_id: str
    fingerprint: str
    payable: Payable
    subject_id: str
    fields: dict[str, Any]
    made: list[Certificate]
    book: CertificateBook
    insufficient: str = "unreachable"


def check_items(tenant: str, items: Sequence[BatchItem]) -> list[tuple[BatchItem, str]]:
    """Every item checked as its command checks it before reading anything, references
    resolved; each with its fingerprint. ``BatchItemRefused`` at the first bad one."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise BatchTooLarge(f"a batch has 1 to {MAX_ITEMS:,} items, not {len(items):,}")
    checked: list[tuple[BatchItem, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        try:
            resolved = _resolved(tenant, item)
            if resolved.request_id in seen:
                raise InvalidInput(f"request_id {resolved.request_id!r} is in the batch twice")
            seen.add(resolved.request_id)
            checked.append((resolved, _fingerprint(resolved)))
        except EmbedfinError as error:
            raise BatchItemRefused(index, error) from error
    return checked


def _resolved(tenant: str, item: BatchItem) -> BatchItem:
    if not isinstance(item, IssueItem | SplitItem | TransferItem | DiscountItem | SettleItem):
        raise InvalidInput("a batch item is an issue, split, transfer, discount or settlement")
    check_request_id(item.request_id)
    if isinstance(item, SettleItem):
        return replace(item, payable_id=_reference(tenant, item.payable_id, "pay"))
    if isinstance(item, IssueItem):
        check_name("payable_ref", item.payable_ref)
        check_face(item.amount.amount_minor)
        if not isinstance(item.matures_on, date):
            raise CertificateRefused("matures_on is a date")
        return item
    resolved = replace(item, certificate_id=_reference(tenant, item.certificate_id, "crt"))
    check_name("certificate_id", resolved.certificate_id)
    return resolved


def _reference(tenant: str, value: str, prefix: str) -> str:
    """``@<request id>/<n>`` as the id of the n-th certificate that request makes, and
    ``@<request id>`` as the payable it certifies; any other value as itself."""
    if not isinstance(value, str) or not value.startswith("@"):
        return value
    request_id, index = value[1:], "0"
    if prefix == "crt":
        request_id, slash, index = value[1:].rpartition("/")
        if not slash or not index.isdigit() or int(index) >= 2 * MAX_ITEMS:
            raise InvalidInput(f"{value!r} is not a reference (@<request id>/<n>)")
    return new_id(prefix, tenant, check_request_id(request_id), int(index))


def _fingerprint(item: BatchItem) -> str:
    """The fingerprint of the single command the item is (so each replays the other)."""
    if isinstance(item, IssueItem):
        return fingerprint_of("issue", item.core_id, item.supplier_id, item.payable_ref,
                              item.amount, item.matures_on)  # fmt: skip
    if isinstance(item, SplitItem):
        return fingerprint_of("split", item.certificate_id, item.holder_id, list(item.parts))
    if isinstance(item, TransferItem):
        return fingerprint_of("transfer", item.certificate_id, item.holder_id, item.to_id,
                              item.amount_minor)  # fmt: skip
    if isinstance(item, DiscountItem):
        return fingerprint_of("discount", item.certificate_id, item.holder_id, item.funder_id,
                              item.amount_minor)  # fmt: skip
    return fingerprint_of("settle", item.payable_id)


class _Batch:
    """The state a batch's items see: what was read, overlaid with what earlier items did."""

    def __init__(self, scf: Certificates, tx: LedgerTransaction, todo: list[BatchItem]) -> None:
        self.scf, self.tx, self.tenant = scf, tx, scf.tenant
        self.today = scf.today()
        conn, tenant = tx.conn, scf.tenant
        changed = [i for i in todo if not isinstance(i, IssueItem | SettleItem)]
        self.certificates = rows.certificates_of(
            conn, tenant, {i.certificate_id for i in changed}, lock=True
        )
        settled = {i.payable_id for i in todo if isinstance(i, SettleItem)}
        wanted = settled | {c.payable_id for c in self.certificates.values()}
        self.payables = rows.payables_of(conn, tenant, wanted, lock=True)
        self.live = rows.live_of(conn, tenant, settled & self.payables.keys())
        for live in self.live.values():
            self.certificates.update((c.certificate_id, c) for c in live)
        issues = [i for i in todo if isinstance(i, IssueItem)]
        named = {p.core_id for p in self.payables.values()}
        for item in todo:
            named |= _parties_named(item)
        self.parties = rows.parties_of(conn, tenant, named)
        refs = {(i.core_id, i.payable_ref) for i in issues}
        self.certified = rows.certified_refs(conn, tenant, refs)
        self.made: dict[str, Certificate] = {}
        self.retired: dict[str, Certificate] = {}
        self.new_payables: list[Payable] = []
        self.settled: list[Payable] = []

    # --- what the items see ------------------------------------------------------------------
    def party_as(self, party_id: str, role: Role) -> Party:
        party = require(self.parties.get(check_name("party_id", party_id)), f"party {party_id}")
        if party.role is not role:
            raise CertificateRefused(f"party {party_id} is a {party.role}, not a {role}")
        return party

    def changeable(self, certificate_id: str, holder_id: str) -> tuple[Certificate, Payable]:
        parent = require(self.certificates.get(certificate_id), f"certificate {certificate_id}")
        payable = require(self.payables.get(parent.payable_id), "payable")
        check_changeable(parent, payable, holder_id, self.today)
        return parent, payable

    def replace_with(self, request_id: str, old: Sequence[Certificate],
                     made: Sequence[Certificate], status: CertificateStatus) -> None:  # fmt: skip
        """Retire ``old`` (by ``request_id``, to ``status``) and keep what was made."""
        for certificate in old:
            done = replace(certificate, status=status, retired_by=request_id)
            self.certificates[certificate.certificate_id] = done
            if certificate.certificate_id in self.made:
                self.made[certificate.certificate_id] = done
            else:
                self.retired[certificate.certificate_id] = done
        for certificate in made:
            self.certificates[certificate.certificate_id] = certificate
            self.made[certificate.certificate_id] = certificate

    # --- the items ---------------------------------------------------------------------------
    def plan(self, index: int, item: BatchItem, fingerprint: str) -> _Step:
        if isinstance(item, IssueItem):
            return self._issue(index, item, fingerprint)
        if isinstance(item, SettleItem):
            return self._settle(index, item, fingerprint)
        parent, payable = self.changeable(item.certificate_id, item.holder_id)
        if isinstance(item, SplitItem):
            return self._split(index, item, fingerprint, parent, payable)
        if isinstance(item, TransferItem):
            return self._transfer(index, item, fingerprint, parent, payable)
        return self._discount(index, item, fingerprint, parent, payable)

    def _issue(self, index: int, item: IssueItem, fingerprint: str) -> _Step:
        scf, rid, today = self.scf, item.request_id, self.today
        core = self.party_as(item.core_id, Role.CORE)
        supplier = self.party_as(item.supplier_id, Role.SUPPLIER)
        check_term(today, item.matures_on)
        ref = (core.party_id, item.payable_ref)
        if ref in self.certified:
            raise InvalidStateTransition(
                f"payable {item.payable_ref} of {core.party_id} is certified already"
            )
        self.certified.add(ref)
        face = item.amount.amount_minor
        payable = Payable(
            new_id("pay", self.tenant, rid, 0), core.party_id, supplier.party_id,
            item.payable_ref, item.amount.currency, face, today, item.matures_on,
            PayableStatus.OUTSTANDING,
        )  # fmt: skip
        first = scf._certificate(rid, 0, payable, None, supplier.party_id, Role.SUPPLIER, 1,
                                 face, today)  # fmt: skip
        self.payables[payable.payable_id] = payable
        self.new_payables.append(payable)
        self.replace_with(rid, [], [first], CertificateStatus.RETIRED)
        book = CertificateBook(self.tenant, payable.currency)
        book.issue(rid, first)
        return _Step(index, "issue", rid, fingerprint, payable, first.certificate_id,
                     certificate_fields(payable, [], [first]), [first], book)  # fmt: skip

    def _split(self, index: int, item: SplitItem, fingerprint: str, parent: Certificate,
               payable: Payable) -> _Step:  # fmt: skip
        rid = item.request_id
        amounts = split(parent.face_minor, list(item.parts))
        made = [
            self.scf._certificate(rid, i, payable, parent.certificate_id, parent.holder_id,
                                  parent.holder_role, parent.tier, amount, self.today)
            for i, amount in enumerate(amounts)
        ]  # fmt: skip
        return self._moved(index, "split", item, fingerprint, parent, payable, made,
                           [CODE_SPLIT] * len(made))  # fmt: skip

    def _transfer(self, index: int, item: TransferItem, fingerprint: str, parent: Certificate,
                  payable: Payable) -> _Step:  # fmt: skip
        to = self.party_as(item.to_id, Role.SUPPLIER)
        if to.party_id in (parent.holder_id, payable.core_id):
            raise CertificateRefused("a certificate passes to another supplier")
        made = self.scf._passed(item.request_id, parent, payable, item.amount_minor,
                                to.party_id, Role.SUPPLIER, parent.tier + 1, None)  # fmt: skip
        codes = [CODE_TRANSFER] + [CODE_SPLIT] * (len(made) - 1)
        return self._moved(index, "transfer", item, fingerprint, parent, payable, made, codes)

    def _moved(self, index: int, kind: str, item: SplitItem | TransferItem, fingerprint: str,
               parent: Certificate, payable: Payable, made: list[Certificate],
               codes: list[int]) -> _Step:  # fmt: skip
        book = CertificateBook(self.tenant, parent.currency)
        book.move_certificate(item.request_id, parent, made, codes)
        self.replace_with(item.request_id, [parent], made, CertificateStatus.RETIRED)
        return _Step(index, kind, item.request_id, fingerprint, payable, parent.certificate_id,
                     certificate_fields(payable, [parent], made), made, book,
                     f"certificate {parent.certificate_id} holds less")  # fmt: skip

    def _discount(self, index: int, item: DiscountItem, fingerprint: str, parent: Certificate,
                  payable: Payable) -> _Step:  # fmt: skip
        rid = item.request_id
        funder = self.party_as(item.funder_id, Role.FUNDER)
        core = self.party_as(payable.core_id, Role.CORE)
        terms = discount_terms(parent, payable, core, item.amount_minor, self.today)
        made = self.scf._passed(rid, parent, payable, item.amount_minor, funder.party_id,
                                Role.FUNDER, parent.tier, terms.price_minor)  # fmt: skip
        codes = [CODE_DISCOUNT] + [CODE_SPLIT] * (len(made) - 1)
        book = CertificateBook(self.tenant, payable.currency)
        book.move_certificate(rid, parent, made, codes)
        book.discount(rid, funder.party_id, parent, terms.price_minor)
        self.replace_with(rid, [parent], made, CertificateStatus.RETIRED)
        fields = certificate_fields(payable, [parent], made, discount_money(terms, core))
        return _Step(index, "discount", rid, fingerprint, payable, parent.certificate_id, fields,
                     made, book,
                     f"funder {funder.party_id} holds less than the price")  # fmt: skip

    def _settle(self, index: int, item: SettleItem, fingerprint: str) -> _Step:
        rid = item.request_id
        payable = require(self.payables.get(item.payable_id), f"payable {item.payable_id}")
        check_settleable(payable, self.today)
        core = self.party_as(payable.core_id, Role.CORE)
        live = [self.certificates[c.certificate_id] for c in self.live.get(payable.payable_id, [])]
        live = [c for c in live if c.status is CertificateStatus.LIVE]
        book, settled, money = self.scf.settlement(rid, payable, core, live, self.today)
        self.payables[payable.payable_id] = settled
        self.settled.append(settled)
        self.replace_with(rid, live, [], CertificateStatus.SETTLED)
        return _Step(index, "settle", rid, fingerprint, settled, payable.payable_id,
                     certificate_fields(settled, live, [], money), [], book,
                     settle_shortfall(core, settled))  # fmt: skip

    # --- writing -----------------------------------------------------------------------------
    def write(self, steps: list[_Step]) -> None:
        tx, conn, tenant, now = self.tx, self.tx.conn, self.tenant, self.scf.clock.now_ns()
        self._post(steps)
        rows.insert_payables(conn, tenant, self.new_payables, now)
        rows.save_payables(conn, tenant, self.settled)
        rows.retire_each(conn, tenant, list(self.retired.values()))
        if self.made:
            self.scf.store.insert_certificates(conn, list(self.made.values()), now)
        bodies = [entry_body(s.kind, s.request_id, self.today, s.fields) for s in steps]
        texts = [entry_text(b) for b in bodies]
        indexes = self.scf.log.append_in(tx, LOG_ID, texts)
        events = [
            Event(s.request_id, s.kind, s.payable.payable_id, s.subject_id, body, index,
                  self.today)
            for s, body, index in zip(steps, bodies, indexes, strict=True)
        ]  # fmt: skip
        rows.insert_events(conn, tenant, [(e, s.fingerprint, t) for e, s, t in
                                          zip(events, steps, texts, strict=True)], now)  # fmt: skip

        tx.emit_all([
            OutboxEvent(f"certificate_{e.kind}", "scf_payable", e.payable_id,
                        {"request_id": e.request_id, "log_index": e.log_index,
                         "subject_id": e.certificate_id, "currency": s.payable.currency},
                        now, tenant)
            for e, s in zip(events, steps, strict=True)
        ])  # fmt: skip

    def _post(self, steps: list[_Step]) -> None:
        """Every step's legs as its own linked chain, the chains in as few ledger batches as
        fit; the first refused leg refuses its step's item."""
        keys: list[AccountKey] = []
        owners: list[_Step] = []
        chunks: list[list[Transfer]] = [[]]
        for step in steps:
            legs = step.book.legs
            if not legs:
                continue
            keys.extend(step.book.keys)
            chain = [t._replace(flags=int(t.flags) | TransferFlags.LINKED)
                     for t in legs[:-1]] + legs[-1:]  # fmt: skip
            if len(chunks[-1]) + len(chain) > BATCH_MAX:
                chunks.append([])
            chunks[-1].extend(chain)
            owners.extend([step] * len(chain))
        if not owners:
            return
        open_accounts(self.tx, keys)
        offset = 0
        for chunk in chunks:
            results = self.tx.create_transfers(chunk)
            for at, result in enumerate(results):
                if result in (CreateTransferResult.OK, CreateTransferResult.LINKED_EVENT_FAILED):
                    continue
                step = owners[offset + at]
                failure: EmbedfinError = (
                    InsufficientFunds(step.insufficient)
                    if result is CreateTransferResult.EXCEEDS_CREDITS
                    else LedgerRejected(f"ledger refused the movement: {result}")
                )
                raise BatchItemRefused(step.index, failure)
            offset += len(chunk)


def _parties_named(item: BatchItem) -> set[str]:
    if isinstance(item, IssueItem):
        return {item.core_id, item.supplier_id}
    if isinstance(item, TransferItem):
        return {item.to_id}
    if isinstance(item, DiscountItem):
        return {item.funder_id}
    return set()


def run_batch(scf: Certificates, items: Sequence[BatchItem]) -> list[Done]:
    """The items in order, in one unit of work; what each did (see the module's docstring)."""
    checked = check_items(scf.tenant, items)
    with scf.ledger.transaction() as tx:
        done = rows.events_of(tx.conn, scf.tenant, [i.request_id for i, _ in checked])
        for index, (item, fingerprint) in enumerate(checked):
            found = done.get(item.request_id)
            if found is not None and found[0] != fingerprint:
                raise BatchItemRefused(index, IdempotencyMismatch(
                    f"request_id {item.request_id!r} was another {found[1].kind}"))  # fmt: skip
        todo = [(n, i, f) for n, (i, f) in enumerate(checked) if i.request_id not in done]
        batch = _Batch(scf, tx, [i for _, i, _ in todo])
        steps: dict[str, _Step] = {}
        for index, item, fingerprint in todo:
            try:
                steps[item.request_id] = batch.plan(index, item, fingerprint)
            except EmbedfinError as error:
                raise BatchItemRefused(index, error) from error
        if steps:
            batch.write(list(steps.values()))
        return _results(scf, tx, checked, steps, {r: e for r, (_, e) in done.items()})


def _results(
    scf: Certificates,
    tx: LedgerTransaction,
    checked: list[tuple[BatchItem, str]],
    steps: dict[str, _Step],
    replayed: dict[str, Event],
) -> list[Done]:
    conn = tx.conn
    ids = {m["id"] for e in replayed.values() for m in e.result["makes"]}
    certificates = rows.certificates_of(conn, scf.tenant, ids, lock=False)
    payables = rows.payables_of(conn, scf.tenant, {e.payable_id for e in replayed.values()},
                                lock=False)  # fmt: skip
    results: list[Done] = []
    for item, _ in checked:
        step = steps.get(item.request_id)
        if step is not None:
            payable = step.payable if step.kind in ("issue", "settle") else None
            results.append(Done(step.request_id, step.kind, tuple(step.made), payable, False))
            continue
        event = replayed[item.request_id]
        made = tuple(certificates[m["id"]] for m in event.result["makes"])
        payable = payables.get(event.payable_id) if event.kind in ("issue", "settle") else None
        results.append(Done(event.request_id, event.kind, made, payable, True))
    return results
