"""Escrow checkout ("guaranteed transaction", 担保交易): pay → hold → ship → confirm → release.

The buyer's payment moves from the wallet into escrow when the order is paid. On receipt
confirmation (by the buyer, or automatically a goods-dependent period after shipment) escrow is
released in one linked chain: the merchant's net share to its pending (T+1) or available (T+0)
balance and the commission to the platform's commission-in-reserve account. Cancellation and
refunds before release come back out of escrow; refunds after release are paid by the merchant.
Disputes and refund requests freeze an order: no release, and the auto-confirm clock stops.

Every command runs in one unit of work with the order row (locked on PostgreSQL), the ledger
transfers and the domain events. Ledger transfer ids derive from the order id and the step, so
a retried command can never move money twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from embedfin.commerce import orders as rules
from embedfin.commerce.orders import GoodsKind, Order, OrderLine, OrderStatus
from embedfin.commerce.store import (
    Merchant,
    due_for_auto_confirm,
    insert_merchant,
    load_merchant,
    load_order,
    save_order,
)
from embedfin.core.clock import Clock
from embedfin.core.errors import (
    IdempotencyMismatch,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from embedfin.core.money import Money, currency
from embedfin.db.tables import order_refunds
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments import escrow_bulk
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import AccountCode, AccountKey, platform_account
from embedfin.payments.escrow_bulk import BulkResult, OrderSpec, order_payload
from embedfin.payments.fees import CommissionSchedule
from embedfin.payments.moves import (
    CODE_REFUND,
    CODE_REFUND_AFTER_RELEASE,
    move,
    order_leg,
    release_account,
)
from embedfin.payments.requests import check_name, check_request_id
from embedfin.payments.wallets import wallet_key


@dataclass(frozen=True, slots=True)
class CheckoutSettings:
    commission: CommissionSchedule = CommissionSchedule()


class Checkout:
    """Merchants, orders and the money of each order, for one tenant."""

    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        settings: CheckoutSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant = check_name("tenant", tenant)
        self.settings = settings or CheckoutSettings()
        self.clock = clock or ledger.clock

    # --- merchants ----------------------------------------------------------------------------
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
            raise InvalidInput("kyc_status must be verified, pending or rejected")
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            raise InvalidInput("country must be an ISO 3166 alpha-2 code")
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
        return escrow_bulk.place_orders(self, [spec], atomic=True)[0].unwrap()

    def place_orders(self, specs: Sequence[OrderSpec]) -> list[BulkResult]:
        """Place many orders in one unit of work; one result per order."""
        return escrow_bulk.place_orders(self, specs)

    def pay_with_wallet(self, order_id: str) -> Order:
        """Move the order total from the buyer's wallet into escrow."""
        return escrow_bulk.pay_with_wallets(self, [order_id], atomic=True)[0].unwrap()

    def pay_with_wallets(self, order_ids: Sequence[str]) -> list[BulkResult]:
        """Pay many orders in one unit of work; one result per order."""
        return escrow_bulk.pay_with_wallets(self, order_ids)

    def ship(self, order_id: str, tracking: str) -> Order:
        """The merchant ships: the auto-confirm clock starts."""
        return escrow_bulk.ship_many(self, [(order_id, tracking)], atomic=True)[0].unwrap()

    def ship_many(self, shipments: Sequence[tuple[str, str]]) -> list[BulkResult]:
        """Ship many orders (order id, tracking) in one unit of work; one result per order."""
        return escrow_bulk.ship_many(self, shipments)

    def confirm_receipt(self, order_id: str) -> Order:
        """The buyer confirms receipt: release escrow to the merchant minus commission."""
        return escrow_bulk.confirm_receipts(self, [order_id], atomic=True)[0].unwrap()

    def confirm_receipts(self, order_ids: Sequence[str]) -> list[BulkResult]:
        """Confirm many orders in one unit of work; one result per order."""
        return escrow_bulk.confirm_receipts(self, order_ids)

    def auto_confirm_due(self, limit: int = 500) -> list[str]:
        """Confirm every shipped, unfrozen order whose deadline has passed; returns their ids."""
        now = self.clock.now_ns()
        with self.ledger.transaction() as tx:
            due = [o for t, o in due_for_auto_confirm(tx.conn, now, limit) if t == self.tenant]
        results = escrow_bulk.confirm_receipts(self, due, automatic=True, due_by=now)
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

    def cancel(self, order_id: str) -> Order:
        """Cancel before shipment; a paid order's money goes back to the buyer's wallet."""
        with self.ledger.transaction() as tx:
            order = self.locked_order(tx, order_id)
            if order.status is OrderStatus.CLOSED:
                return order
            now = self.clock.now_ns()
            cancelled = rules.cancel(order, now)
            if order.held_minor:
                self._refund_from_escrow(tx, order, order.held_minor, "cancel")
                cancelled = rules.refund(order, order.held_minor, now)
            save_order(tx.conn, cancelled)
            self.emit(
                tx,
                "order_cancelled",
                "order",
                order_id,
                order_payload(cancelled, order.held_minor),
            )
        return cancelled

    def refund(self, order_id: str, amount: Money, request_id: str) -> Order:
        """Refund part or all of an order; before release out of escrow, after from the merchant."""
        check_request_id(request_id)
        with self.ledger.transaction() as tx:
            order = self.locked_order(tx, order_id)
            if amount.currency != order.currency:
                raise InvalidInput(f"the order is in {order.currency}, not {amount.currency}")
            replay = (
                tx.conn.execute(
                    order_refunds.select().where(
                        order_refunds.c.tenant == self.tenant,
                        order_refunds.c.request_id == request_id,
                    )
                )
                .mappings()
                .first()
            )
            if replay is not None:
                if (replay["order_id"], replay["amount_minor"]) != (order_id, amount.amount_minor):
                    raise IdempotencyMismatch(f"request_id {request_id!r} was another refund")
                return order
            wallet = wallet_key(self.tenant, "buyer", order.buyer_id, order.currency)
            return self.book_refund(tx, order, request_id, [(wallet, amount.amount_minor)])

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

    def resolve_dispute(self, order_id: str, outcome: str) -> Order:
        """``release`` pays the merchant now; ``refund`` returns what escrow holds to the buyer."""
        if outcome not in ("release", "refund"):
            raise InvalidInput("outcome must be release or refund")
        with self.ledger.transaction() as tx:
            order = rules.unfreeze(self.locked_order(tx, order_id), self.clock.now_ns())
            self.emit(tx, "dispute_resolved", "order", order_id, {"outcome": outcome})
            if outcome == "refund":
                now = self.clock.now_ns()
                held = order.held_minor
                self._refund_from_escrow(tx, order, held, "dispute")
                resolved = rules.refund(order, held, now)
                save_order(tx.conn, resolved)
                self.emit(tx, "refunded", "order", order_id, order_payload(resolved, held))
                return resolved
            if order.status is not OrderStatus.SHIPPED:
                raise InvalidStateTransition("only a shipped order can be released")
            save_order(tx.conn, order)  # unfrozen; the release below reads it back
            return escrow_bulk.confirm_receipts(self, [order_id], atomic=True, tx=tx)[0].unwrap()

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

    def _refund_from_escrow(
        self, tx: LedgerTransaction, order: Order, amount: int, step: str
    ) -> None:
        wallet = wallet_key(self.tenant, "buyer", order.buyer_id, order.currency)
        escrow = platform_account(self.tenant, order.currency, AccountCode.ESCROW)
        open_accounts(tx, [wallet, escrow])
        move(
            tx,
            [order_leg(self.tenant, order.order_id, step, escrow, wallet, amount, CODE_REFUND)],
            insufficient="escrow holds less than the refund",
        )

    def book_refund(
        self,
        tx: LedgerTransaction,
        order: Order,
        request_id: str,
        parts: Sequence[tuple[AccountKey, int]],
        extra: dict[str, object] | None = None,
    ) -> Order:
        """Refund ``parts`` (destination, minor units) of a locked order in one linked chain:
        out of escrow before release, out of the merchant's balance after it."""
        amount = sum(minor for _, minor in parts)
        now = self.clock.now_ns()
        refunded = rules.refund(order, amount, now)
        after_release = order.status is OrderStatus.COMPLETED
        if after_release:
            merchant = load_merchant(tx.conn, self.tenant, order.merchant_id)
            assert merchant is not None
            source = release_account(merchant, order.currency)
            code, short = (
                CODE_REFUND_AFTER_RELEASE,
                "the merchant's balance cannot cover this refund",
            )
        else:
            source = platform_account(self.tenant, order.currency, AccountCode.ESCROW)
            code, short = CODE_REFUND, "escrow holds less than the refund"
        open_accounts(tx, [source, *(destination for destination, _ in parts)])
        legs = [
            order_leg(
                self.tenant,
                order.order_id,
                f"refund:{request_id}" + (f":{n}" if n else ""),
                source,
                destination,
                minor,
                code,
            )
            for n, (destination, minor) in enumerate(parts)
            if minor
        ]
        move(tx, legs, insufficient=short)
        tx.conn.execute(
            order_refunds.insert().values(
                tenant=self.tenant,
                request_id=request_id,
                order_id=order.order_id,
                amount_minor=amount,
                after_release=int(after_release),
                created_at=now,
            )
        )
        save_order(tx.conn, refunded)
        self.emit(
            tx,
            "refunded",
            "order",
            order.order_id,
            order_payload(refunded, amount)
            | {"after_release": after_release, "request_id": request_id}
            | (extra or {}),
        )
        return refunded

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
