"""Order financing: a core enterprise's purchase order with a supplier, a funder's advance on
it, and the buyer's payment that repays the funder first (``advances.py`` has the rules).

===========  ======================================  ==========================================
command      what changes                            money (``scf/chart.py``)
===========  ======================================  ==========================================
place        a confirmed purchase order, due on a    —
             day within a year
receive      the buyer records the goods received    —
advance      a funder advances the supplier a share  funds held → supplier, the advance;
             of the order (one advance per order)    order advance ← lender cash
pay          the buyer pays the whole order          buyer → funds held (advance and fee),
                                                     buyer → supplier (the rest); lender cash
                                                     → order advance and fee income
===========  ======================================  ==========================================

Every command is one unit of work, idempotent by request id, and appended to the tenant's
``scf`` log like the certificates' events. A paid order cannot be advanced or paid again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from sqlalchemy import Connection, RowMapping, insert, select, update

from embedfin.core.errors import InvalidStateTransition
from embedfin.core.money import Money
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import scf_advances, scf_purchase_orders
from embedfin.ledger.service import LedgerTransaction
from embedfin.lending.chart import LendingAccountCode
from embedfin.payments.chart import AccountCode
from embedfin.payments.requests import check_name, check_request_id
from embedfin.scf.advances import MAX_ORDER_DAYS, AdvanceRefused, Terms, terms, waterfall
from embedfin.scf.book import CertificateBook
from embedfin.scf.certificates import check_face
from embedfin.scf.chart import (
    CODE_ADVANCE_BOOKING,
    CODE_ADVANCE_FEE,
    CODE_ADVANCE_PAYMENT,
    CODE_ADVANCE_REPAID,
    CODE_ORDER_REMAINDER,
    CODE_ORDER_REPAYMENT,
    ScfAccountCode,
)
from embedfin.scf.ids import fingerprint_of, new_id
from embedfin.scf.service import Certificates
from embedfin.scf.store import Role, require


class OrderStatus(StrEnum):
    CONFIRMED = "confirmed"
    RECEIVED = "received"
    PAID = "paid"


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    po_id: str
    buyer_id: str
    supplier_id: str
    po_ref: str
    currency: str
    amount_minor: int
    placed_on: date
    due_on: date
    status: OrderStatus
    received_on: date | None = None
    paid_on: date | None = None


@dataclass(frozen=True, slots=True)
class Advance:
    po_id: str
    funder_id: str
    advance_bp: int
    fee_bp: int
    advance_minor: int
    fee_minor: int
    repaid: bool
    made_on: date
    repaid_on: date | None = None


_O, _A = scf_purchase_orders.c, scf_advances.c


class OrderFinancing:
    """A tenant's purchase orders and their advances."""

    def __init__(self, certificates: Certificates) -> None:
        self.certificates = certificates
        self.ledger = certificates.ledger
        self.tenant = certificates.tenant
        self.clock = certificates.clock

    # --- commands ----------------------------------------------------------------------------
    def place(
        self,
        request_id: str,
        buyer_id: str,
        supplier_id: str,
        po_ref: str,
        amount: Money,
        due_on: date,
    ) -> PurchaseOrder:
        """A core enterprise's confirmed purchase order with its supplier."""
        check_request_id(request_id)
        check_name("po_ref", po_ref)
        face = check_face(amount.amount_minor)
        if not isinstance(due_on, date):
            raise AdvanceRefused("due_on is a date")
        fingerprint = fingerprint_of("po", buyer_id, supplier_id, po_ref, amount, due_on)
        scf = self.certificates
        with self.ledger.transaction() as tx:
            if scf.store.replay(tx.conn, request_id, fingerprint) is not None:
                return self._order(tx.conn, new_id("po", self.tenant, request_id, 0))
            buyer = scf.party_as(tx, buyer_id, Role.CORE)
            supplier = scf.party_as(tx, supplier_id, Role.SUPPLIER)
            today = scf.today()
            if not 0 < (due_on - today).days <= MAX_ORDER_DAYS:
                raise AdvanceRefused(f"an order falls due 1 to {MAX_ORDER_DAYS} days ahead")
            order = PurchaseOrder(new_id("po", self.tenant, request_id, 0), buyer.party_id,
                                  supplier.party_id, po_ref, amount.currency, face, today, due_on,
                                  OrderStatus.CONFIRMED)  # fmt: skip
            if not insert_if_absent(tx.conn, scf_purchase_orders, self._row(order)):
                if scf.store.replay(tx.conn, request_id, fingerprint) is not None:
                    return self._order(tx.conn, order.po_id)
                raise InvalidStateTransition(f"order {po_ref} of {buyer.party_id} exists")
            self._record(tx, "po_place", request_id, fingerprint, order, None)
        return order

    def receive(self, request_id: str, po_id: str) -> PurchaseOrder:
        """The buyer records the goods received."""
        check_request_id(request_id)
        fingerprint = fingerprint_of("po_receive", po_id)
        with self.ledger.transaction() as tx:
            order = self.locked(tx, po_id)
            if self.certificates.store.replay(tx.conn, request_id, fingerprint) is not None:
                return order
            if order.status is not OrderStatus.CONFIRMED:
                raise InvalidStateTransition(f"order {po_id} is {order.status}")
            received = replace(order, status=OrderStatus.RECEIVED,
                               received_on=self.certificates.today())  # fmt: skip
            self.save(tx.conn, received)
            self._record(tx, "po_receive", request_id, fingerprint, received, None)
        return received

    def advance(
        self, request_id: str, po_id: str, funder_id: str, advance_bp: int, fee_bp: int
    ) -> Advance:
        """A funder advances the supplier ``advance_bp`` of the order, for a flat ``fee_bp``
        of the advance repaid with it out of the buyer's payment."""
        check_request_id(request_id)
        fingerprint = fingerprint_of("advance", po_id, funder_id, advance_bp, fee_bp)
        scf = self.certificates
        with self.ledger.transaction() as tx:
            order = self.locked(tx, po_id)
            if scf.store.replay(tx.conn, request_id, fingerprint) is not None:
                return require(self._advance(tx.conn, po_id), f"advance on {po_id}")
            if order.status is OrderStatus.PAID:
                raise InvalidStateTransition(f"order {po_id} is paid")
            if self._advance(tx.conn, po_id) is not None:
                raise InvalidStateTransition(f"order {po_id} is advanced already")
            funder = scf.party_as(tx, funder_id, Role.FUNDER)
            agreed = terms(order.amount_minor, advance_bp, fee_bp)
            book = CertificateBook(self.tenant, order.currency)
            cash = book.funder(funder.party_id, LendingAccountCode.LENDER_CASH)
            book.add(request_id, "advance", book.funder(funder.party_id,
                     AccountCode.LENDER_FUNDS_HELD), book.cash_of(order.supplier_id,
                     Role.SUPPLIER), agreed.advance_minor, CODE_ADVANCE_PAYMENT)  # fmt: skip
            book.add(request_id, "booking", book.order_advance(order.po_id), cash,
                     agreed.advance_minor, CODE_ADVANCE_BOOKING)  # fmt: skip
            book.post(tx, insufficient=f"funder {funder.party_id} holds less than the advance")
            made = Advance(po_id, funder.party_id, advance_bp, fee_bp, agreed.advance_minor,
                           agreed.fee_minor, False, scf.today())  # fmt: skip
            tx.conn.execute(insert(scf_advances).values(
                tenant=self.tenant, po_id=po_id, funder_id=made.funder_id, advance_bp=advance_bp,
                fee_bp=fee_bp, advance_minor=made.advance_minor, fee_minor=made.fee_minor,
                status="outstanding", made_on=made.made_on.isoformat(),
                created_at=self.clock.now_ns()))  # fmt: skip
            self._record(tx, "advance", request_id, fingerprint, order, made)
        return made

    def pay(self, request_id: str, po_id: str) -> PurchaseOrder:
        """The buyer pays the whole order from its balance: the funder is repaid its advance
        and fee first, the supplier gets the rest — all or nothing."""
        check_request_id(request_id)
        fingerprint = fingerprint_of("po_pay", po_id)
        scf = self.certificates
        with self.ledger.transaction() as tx:
            order = self.locked(tx, po_id)
            if scf.store.replay(tx.conn, request_id, fingerprint) is not None:
                return order
            if order.status is OrderStatus.PAID:
                raise InvalidStateTransition(f"order {po_id} is paid")
            advanced = self._advance(tx.conn, po_id)
            agreed = None if advanced is None else Terms(advanced.advance_minor,
                                                          advanced.fee_minor)  # fmt: skip
            to_funder, to_supplier = waterfall(order.amount_minor, agreed)
            book = CertificateBook(self.tenant, order.currency)
            buyer = book.cash_of(order.buyer_id, Role.CORE)
            book.add(request_id, "supplier", buyer, book.cash_of(order.supplier_id,
                     Role.SUPPLIER), to_supplier, CODE_ORDER_REMAINDER)  # fmt: skip
            if advanced is not None:
                funder = advanced.funder_id
                cash = book.funder(funder, LendingAccountCode.LENDER_CASH)
                book.add(request_id, "funder", buyer,
                         book.funder(funder, AccountCode.LENDER_FUNDS_HELD), to_funder,
                         CODE_ORDER_REPAYMENT)  # fmt: skip
                book.add(request_id, "repaid", cash, book.order_advance(order.po_id),
                         advanced.advance_minor, CODE_ADVANCE_REPAID)  # fmt: skip
                book.add(request_id, "fee", cash,
                         book.funder(funder, ScfAccountCode.ADVANCE_FEE_INCOME),
                         advanced.fee_minor, CODE_ADVANCE_FEE)  # fmt: skip
                repaid = {"status": "repaid", "repaid_on": scf.today().isoformat()}
                tx.conn.execute(update(scf_advances).values(**repaid)
                                .where(_A.tenant == self.tenant, _A.po_id == po_id))  # fmt: skip
            book.post(tx, insufficient=f"buyer {order.buyer_id} holds less than the order")
            paid = replace(order, status=OrderStatus.PAID, paid_on=scf.today())
            self.save(tx.conn, paid)
            split_ = {"to_funder_minor": to_funder, "to_supplier_minor": to_supplier}
            self._record(tx, "po_pay", request_id, fingerprint, paid, advanced, split_)
        return paid

    # --- queries -----------------------------------------------------------------------------
    def order(self, po_id: str) -> PurchaseOrder:
        with self.ledger.current() as conn:
            return self._order(conn, po_id)

    def orders(self, *, buyer_id: str | None = None, supplier_id: str | None = None,
               limit: int = 1000) -> list[PurchaseOrder]:  # fmt: skip
        query = select(scf_purchase_orders).where(_O.tenant == self.tenant)
        if buyer_id is not None:
            query = query.where(_O.buyer_id == buyer_id)
        if supplier_id is not None:
            query = query.where(_O.supplier_id == supplier_id)
        with self.ledger.current() as conn:
            rows = conn.execute(query.order_by(_O.created_at, _O.po_id).limit(limit)).mappings()
            return [_order(r) for r in rows]

    def advances_of(self, po_ids: list[str]) -> dict[str, Advance]:
        """The advances on these orders, by order (one query for a page of orders)."""
        if not po_ids:
            return {}
        query = select(scf_advances).where(_A.tenant == self.tenant, _A.po_id.in_(po_ids))
        with self.ledger.current() as conn:
            return {row["po_id"]: _advance(row) for row in conn.execute(query).mappings()}

    def advance_of(self, po_id: str) -> Advance | None:
        with self.ledger.current() as conn:
            self._order(conn, po_id)
            return self._advance(conn, po_id)

    # --- rows --------------------------------------------------------------------------------
    def locked(self, tx: LedgerTransaction, po_id: str) -> PurchaseOrder:
        check_name("po_id", po_id)
        query = select(scf_purchase_orders).where(_O.tenant == self.tenant, _O.po_id == po_id)
        row = tx.conn.execute(query.with_for_update()).mappings().first()
        return _order(require(row, f"purchase order {po_id}"))

    def _order(self, conn: Connection, po_id: str) -> PurchaseOrder:
        query = select(scf_purchase_orders).where(_O.tenant == self.tenant, _O.po_id == po_id)
        return _order(require(conn.execute(query).mappings().first(), f"purchase order {po_id}"))

    def _advance(self, conn: Connection, po_id: str) -> Advance | None:
        query = select(scf_advances).where(_A.tenant == self.tenant, _A.po_id == po_id)
        row = conn.execute(query).mappings().first()
        return None if row is None else _advance(row)

    def _row(self, order: PurchaseOrder) -> dict[str, object]:
        return {"tenant": self.tenant, "po_id": order.po_id, "buyer_id": order.buyer_id,
                "supplier_id": order.supplier_id, "po_ref": order.po_ref,
                "currency": order.currency, "amount_minor": order.amount_minor,
                "placed_on": order.placed_on.isoformat(), "due_on": order.due_on.isoformat(),
                "status": order.status.value, "received_on": None, "paid_on": None,
                "created_at": self.clock.now_ns()}  # fmt: skip

    def save(self, conn: Connection, order: PurchaseOrder) -> None:
        conn.execute(update(scf_purchase_orders)
                     .where(_O.tenant == self.tenant, _O.po_id == order.po_id)
                     .values(status=order.status.value,
                             received_on=order.received_on and order.received_on.isoformat(),
                             paid_on=order.paid_on and order.paid_on.isoformat()))  # fmt: skip

    def _record(
        self,
        tx: LedgerTransaction,
        kind: str,
        request_id: str,
        fingerprint: str,
        order: PurchaseOrder,
        advanced: Advance | None,
        extra: dict[str, int] | None = None,
    ) -> None:
        fields: dict[str, object] = {
            "order": {"id": order.po_id, "buyer": order.buyer_id, "supplier": order.supplier_id,
                      "currency": order.currency, "amount_minor": order.amount_minor,
                      "due_on": order.due_on.isoformat()},
            **({} if advanced is None else {"advance": {
                "funder": advanced.funder_id, "advance_minor": advanced.advance_minor,
                "fee_minor": advanced.fee_minor}}),
            **(extra or {}),
        }  # fmt: skip
        self.certificates.record(tx, f"scf_{kind}", kind, request_id, fingerprint,
                                 ("scf_order", order.po_id), order.po_id, fields,
                                 order.currency)  # fmt: skip


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _order(row: RowMapping) -> PurchaseOrder:
    return PurchaseOrder(
        row["po_id"], row["buyer_id"], row["supplier_id"], row["po_ref"], row["currency"],
        int(row["amount_minor"]), date.fromisoformat(row["placed_on"]),
        date.fromisoformat(row["due_on"]), OrderStatus(row["status"]), _day(row["received_on"]),
        _day(row["paid_on"]),
    )  # fmt: skip


def _advance(row: RowMapping) -> Advance:
    return Advance(
        row["po_id"], row["funder_id"], int(row["advance_bp"]), int(row["fee_bp"]),
        int(row["advance_minor"]), int(row["fee_minor"]), row["status"] == "repaid",
        date.fromisoformat(row["made_on"]), _day(row["repaid_on"]),
    )  # fmt: skip
