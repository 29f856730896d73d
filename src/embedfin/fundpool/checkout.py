"""Redeem-and-pay: a buyer pays an order with fund units, in one unit of work.

The 2018 PRC notice (``redemption.py``) forbids paying straight out of money-market fund units:
units are redeemed first and the money paid from the wallet. Here both happen in one unit of
work: a fast (T+0) redemption of the order's total into the buyer's wallet, advanced by the
facility within the daily cap, then checkout's own wallet payment of the order. If the payment
is refused (the order is not payable, risk refuses it), the redemption is undone with it.
Checkout is reached through the ``WalletCheckout`` port, which ``payments.escrow.Checkout``
satisfies; the fund pool never builds it.
"""

from __future__ import annotations

from typing import Protocol

from embedfin.core.errors import InvalidStateTransition, NotFound
from embedfin.core.money import Money
from embedfin.fundpool.base import fingerprint_of
from embedfin.fundpool.redemption import Speed
from embedfin.fundpool.service import FundPool
from embedfin.fundpool.store import Redemption


class PayableOrder(Protocol):
    @property
    def buyer_id(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def total_minor(self) -> int: ...
    @property
    def paid_minor(self) -> int: ...


class WalletCheckout(Protocol):
    def find_order(self, order_id: str) -> PayableOrder | None: ...
    def pay_with_wallet(self, order_id: str) -> object: ...


class RedeemAndPay:
    """Pay an order from the buyer's fund units: redeem fast, pay from the wallet, together."""

    def __init__(self, pool: FundPool, checkout: WalletCheckout) -> None:
        self.pool = pool
        self.checkout = checkout

    def pay_order(self, request_id: str, fund_id: str, order_id: str) -> Redemption:
        fingerprint = fingerprint_of("redeem_and_pay", fund_id, order_id)
        pool = self.pool
        with pool.ledger.transaction() as tx:
            if (done := pool.replayed(tx, request_id, fingerprint)) is not None:
                return pool.store.redemption(tx.conn, str(done["redemption_id"]))
            pool.store.fund(tx.conn, fund_id)  # an unknown fund is refused before the order
            order = self.checkout.find_order(order_id)
            if order is None:
                raise NotFound(f"no order {order_id!r}")
            if order.paid_minor:
                raise InvalidStateTransition(f"order {order_id} is paid already")
            amount = Money(order.total_minor, order.currency)
            made = pool.redeem_in(tx, request_id, fund_id, order.buyer_id, amount, Speed.FAST)
            self.checkout.pay_with_wallet(order_id)
            pool.done(tx, request_id, "redeem_pay", fund_id, fingerprint, made)
        return made
