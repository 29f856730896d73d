"""Escrow checkout ("guaranteed transaction", 担保交易): pay → hold → ship → confirm → release.

The buyer's payment moves from the wallet into escrow when the order is paid. On receipt
confirmation (by the buyer, or automatically a goods-dependent period after shipment) escrow is
released in one linked chain: the merchant's net share to its pending (T+1) or available (T+0)
balance and the commission to the platform's commission-in-reserve account. Money going back to
the buyer (cancel, refund, dispute resolved for the buyer, return, chargeback) is not here: it
has one path, ``payments/refunds/service.py``, which routes it by how the order was paid.
Disputes and refund requests freeze an order: no release, and the auto-confirm clock stops.

Every command runs in one unit of work with the order row (locked on PostgreSQL), the ledger
transfers and the domain events. Ledger transfer ids derive from the order id and the step, so
a retried command can never move money twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from embedfin.commerce import orders as rules
from embedfin.commerce.orders import GoodsKind, Order, OrderLine, OrderStatus
from embedfin.commerce.store import (
    Merchant,
    due_for_auto_confirm,
    insert_merchant,
    load_merchant,
    load_order,
    save_order,
    set_kyc_status,
)
from embedfin.core.clock import Clock
from embedfin.core.countries import check_country
from embedfin.core.errors import (
    IdempotencyMismatch,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from embedfin.core.money import currency
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.escrow import bulk as escrow_bulk
from embedfin.payments.escrow import placing, release
from embedfin.payments.escrow.bulk import BulkResult, CheckoutSettings, OrderSpec, Shipment
from embedfin.payments.limits import BalanceLimits, NoBalanceLimits
from embedfin.payments.requests import check_name
from embedfin.risk.decision import RiskContext
from embedfin.risk.gate import NoRiskCheck, RiskGate

#: A merchant's KYB standing (``commerce/store.py`` ``Merchant.kyc_status``).
KYC_STATUSES = ("verified", "review", "pending", "rejected")


class Checkout:
    """Merchants, orders and the money of each order, for one tenant."""

    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        settings: CheckoutSettings | None = None,
        clock: Clock | None = None,
        risk: RiskGate | None = None,
        limits: BalanceLimits | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant = check_name("tenant", tenant)
        self.settings = settings or CheckoutSettings()
        self.clock = clock or ledger.clock
        self.risk: RiskGate = risk or NoRiskCheck()
        #: the customers' verification levels: how much each may pay from its balance
        self.limits: BalanceLimits = limits or NoBalanceLimits()

    # --- merchants ----------------------------------------------------------------------------
    def kyc_status_of(self, tx: LedgerTransaction, merchant_id: str) -> str:
        merchant = load_merchant(tx.conn, self.tenant, merchant_id)
        if merchant is None:
            raise NotFound(f"no merchant {merchant_id}")
        return merchant.kyc_status

    def set_kyc_status(self, tx: LedgerTransaction, merchant_id: str, status: str) -> Merchant:
        """A merchant's KYB outcome, in ``tx`` (compliance's review decides it): ``verified``,
        ``review`` (its details changed: it sells, it is not paid out), ``pending`` or
        ``rejected``; a ``merchant_kyc_changed`` event says so."""
        if status not in KYC_STATUSES:
            raise InvalidInput(f"kyc_status must be one of {', '.join(KYC_STATUSES)}")
        merchant = load_merchant(tx.conn, self.tenant, merchant_id)
        if merchant is None:
            raise NotFound(f"no merchant {merchant_id}")
        if merchant.kyc_status != status:
            set_kyc_status(tx.conn, self.tenant, merchant_id, status)
            self.emit(tx, "merchant_kyc_changed", "merchant", merchant_id,
                      {"from": merchant.kyc_status, "to": status})  # fmt: skip
        return load_merchant(tx.conn, self.tenant, merchant_id) or merchant

    def register_merchant(
        self,
        merchant_id: str,
        *,
        category: str,
        country: str,
        settlement_currency: str,
        payout_preference: str = "t1",
        kyc_status: str = "verified",
    ) -> Merchant:
        if payout_preference not in ("t0", "t1"):
            raise InvalidInput("payout_preference must be t0 or t1")
        if kyc_status not in ("verified", "pending", "rejected"):
            raise InvalidInput("kyc_status must be verified, pending or rejected")  # not review
        if not country.isupper():
            raise InvalidInput("country must be an upper-case ISO 3166-1 alpha-2 code")
        check_country(country)
        merchant = Merchant(
            self.tenant,
            check_name("merchant_id", merchant_id),
            kyc_status,
            check_name("category", category, 32),
            country,
            currency(settlement_currency).code,
            payout_preference,
            self.clock.now_ns(),
        )
        with self.ledger.transaction() as tx:
            existing = load_merchant(tx.conn, self.tenant, merchant_id)
            if existing is not None:
                if _merchant_terms(existing) != _merchant_terms(merchant):
                    raise IdempotencyMismatch(f"merchant {merchant_id} exists with other terms")
                return existing
            insert_merchant(tx.conn, merchant)
            self.emit(
                tx,
                "merchant_registered",
                "merchant",
                merchant_id,
                {"category": category, "country": country, "kyc_status": kyc_status},
            )
        return merchant

    # --- order lifecycle ----------------------------------------------------------------------
    def place_order(
        self,
        order_id: str,
        *,
        buyer_id: str,
        merchant_id: str,
        currency_code: str,
        lines: Sequence[OrderLine],
        goods_kind: GoodsKind = GoodsKind.PHYSICAL,
    ) -> Order:
        """Create an order awaiting payment; the same call repeated returns the same order."""
        spec = OrderSpec(order_id, buyer_id, merchant_id, currency_code, lines, goods_kind)
        return placing.place_orders(self, [spec], atomic=True)[0].unwrap()

    def place_orders(self, specs: Sequence[OrderSpec]) -> list[BulkResult]:
        """Place many orders in one unit of work; one result per order."""
        return placing.place_orders(self, specs)

    def pay_with_wallet(self, order_id: str, context: RiskContext | None = None) -> Order:
        """Move the order total from the buyer's wallet into escrow (after the risk check: a
        review pays and holds the order, a block or a challenge refuses it)."""
        contexts = {order_id: context} if context is not None else None
        return escrow_bulk.pay_with_wallets(self, [order_id], atomic=True, contexts=contexts)[
            0
        ].unwrap()

    def pay_with_wallets(
        self, order_ids: Sequence[str], contexts: Mapping[str, RiskContext] | None = None
    ) -> list[BulkResult]:
        """Pay many orders in one unit of work; one result per order."""
        return escrow_bulk.pay_with_wallets(self, order_ids, contexts=contexts)

    def lift_risk_hold(self, order_id: str) -> Order:
        """A fraud review cleared the order: it may be shipped and released again."""
        with self.ledger.transaction() as tx:
            order = rules.lift_hold(self.locked_order(tx, order_id))
            save_order(tx.conn, order)
            self.emit(tx, "risk_hold_lifted", "order", order_id, {"merchant_id": order.merchant_id})
        return order

    def hold_for_review(self, tx: LedgerTransaction, order: Order) -> Order:
        """Put a paid order on risk hold in ``tx`` (a review decision)."""
        held = rules.hold_for_review(order)
        save_order(tx.conn, held)
        self.emit(
            tx, "risk_hold_placed", "order", order.order_id, {"merchant_id": order.merchant_id}
        )
        return held

    def ship(self, order_id: str, tracking: str) -> Order:
        """The merchant ships: the auto-confirm clock starts."""
        return escrow_bulk.ship_many(self, [Shipment(order_id, tracking)], atomic=True)[0].unwrap()

    def ship_many(self, shipments: Sequence[Shipment]) -> list[BulkResult]:
        """Ship many orders (order id, tracking) in one unit of work; one result per order."""
        return escrow_bulk.ship_many(self, shipments)

    def confirm_receipt(self, order_id: str) -> Order:
        """The buyer confirms receipt: release escrow to the merchant minus commission."""
        return release.confirm_receipts(self, [order_id], atomic=True)[0].unwrap()

    def confirm_receipts(self, order_ids: Sequence[str]) -> list[BulkResult]:
        """Confirm many orders in one unit of work; one result per order."""
        return release.confirm_receipts(self, order_ids)

    def auto_confirm_due(self, limit: int = 500) -> list[str]:
        """Confirm every shipped, unfrozen order whose deadline has passed; returns their ids."""
        now = self.clock.now_ns()
        with self.ledger.transaction() as tx:
            due = [o for t, o in due_for_auto_confirm(tx.conn, now, limit) if t == self.tenant]
        results = release.confirm_receipts(self, due, automatic=True, due_by=now)
        return [r.order_id for r in results if r.error is None]

    def extend_auto_confirm(self, order_id: str, days: int) -> Order:
        if not 0 < days <= 30:
            raise InvalidInput("an extension is 1-30 days")
        with self.ledger.transaction() as tx:
            extended = rules.extend_auto_confirm(
                self.locked_order(tx, order_id), days * rules.DAY_NS
            )
            save_order(tx.conn, extended)
            self.emit(tx, "auto_confirm_extended", "order", order_id, {"days": days})
        return extended

    def open_dispute(self, order_id: str, reason: str) -> Order:
        """Freeze the order's escrow: nothing is released until the dispute is resolved."""
        check_name("reason", reason, 200)
        with self.ledger.transaction() as tx:
            frozen = rules.freeze(self.locked_order(tx, order_id), self.clock.now_ns())
            save_order(tx.conn, frozen)
            self.emit(
                tx,
                "dispute_opened",
                "order",
                order_id,
                {"reason": reason, "buyer_id": frozen.buyer_id, "merchant_id": frozen.merchant_id},
            )
        return frozen

    def release_disputed(self, order_id: str) -> Order:
        """A dispute resolved for the merchant: unfreeze and release escrow now. (Resolving one
        for the buyer is a refund: ``payments.refunds.Refunds.resolve_dispute``.)"""
        with self.ledger.transaction() as tx:
            order = rules.unfreeze(self.locked_order(tx, order_id), self.clock.now_ns())
            if order.status is not OrderStatus.SHIPPED:
                raise InvalidStateTransition("only a shipped order can be released")
            self.emit(tx, "dispute_resolved", "order", order_id, {"outcome": "release"})
            save_order(tx.conn, order)  # unfrozen; the release below reads it back
            return release.confirm_receipts(self, [order_id], atomic=True, tx=tx)[0].unwrap()

    def mark_paid(self, tx: LedgerTransaction, order: Order, payment: dict[str, object]) -> Order:
        """Record a locked order as paid in ``tx`` by money another context moved into escrow
        (a loan's funder): the order and its ``order_paid`` event (``payment`` says how)."""
        paid = rules.pay(order, self.clock.now_ns())
        save_order(tx.conn, paid)
        self.emit(
            tx,
            "order_paid",
            "order",
            order.order_id,
            {
                "amount_minor": paid.paid_minor,
                "currency": paid.currency,
                **payment,
                "buyer_id": paid.buyer_id,
                "merchant_id": paid.merchant_id,
            },
        )
        return paid

    def get_order(self, order_id: str) -> Order:
        order = self.find_order(order_id)
        if order is None:
            raise NotFound(f"no order {order_id}")  # also for another tenant's order ids
        return order

    def find_order(self, order_id: str) -> Order | None:
        """The order as committed (or as the caller's open unit of work sees it); no lock."""
        with self.ledger.current() as conn:
            return load_order(conn, self.tenant, order_id)

    # --- internals ----------------------------------------------------------------------------
    def locked_order(self, tx: LedgerTransaction, order_id: str) -> Order:
        """The order, locked for this unit of work; another tenant's id is not found."""
        order = load_order(tx.conn, self.tenant, order_id, for_update=True)
        if order is None:
            raise NotFound(f"no order {order_id}")  # also for another tenant's order ids
        return order

    def emit(
        self,
        tx: LedgerTransaction,
        kind: str,
        aggregate: str,
        aggregate_id: str,
        payload: dict[str, object],
    ) -> None:
        tx.emit(self.tenant, kind, aggregate, aggregate_id, payload)


def _merchant_terms(m: Merchant) -> tuple[str, ...]:
    return (m.kyc_status, m.category, m.country, m.settlement_currency, m.payout_preference)
