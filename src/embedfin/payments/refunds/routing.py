"""Where a refund's money goes and where it comes from, read inside the refund's unit of work.

``refunds.Refunds`` runs the flow; these functions look at the ledger and the payment records
through the unit of work (``tx``) and answer accounts and amounts:

* **destinations** — the loan's funder, the channel (its clearing account while it still owes
  us that much, the client reserve beyond), the buyer's wallet;
* **sources after release** — the merchant's balances (pending first, then available) and the
  commission on the refunded share (from the reserve while unswept, else from revenue with the
  platform's cash moved back into the reserve);
* **funding** — what the order was paid with; **refunded** — what each source has had back.

The rules themselves (the split, the pairing, the commission's share) are pure and live in
``refunds/policy.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from embedfin.commerce.orders import Order
from embedfin.commerce.store import load_merchant
from embedfin.core.errors import InsufficientFunds
from embedfin.db.tables import payment_attempts, refunds
from embedfin.ledger.service import LedgerTransaction
from embedfin.ledger.types import Transfer
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import (
    CODE_REFUND,
    CODE_REFUND_AFTER_RELEASE,
    CODE_REFUND_COMMISSION,
    CODE_REFUND_COMMISSION_FUNDING,
    AccountCode,
    AccountKey,
    channel_clearing,
    platform_account,
)
from embedfin.payments.moves import order_leg
from embedfin.payments.payouts import reserves
from embedfin.payments.refunds.policy import Funding, RefundSplit, commission_back, draw
from embedfin.payments.requests import transfer_id
from embedfin.payments.wallets import wallet_key

Parts = list[tuple[AccountKey, int]]


# --- where the money goes, where it comes from ------------------------------------------------
def destinations(
    tx: LedgerTransaction,
    tenant: str,
    order: Order,
    record: dict[str, Any],
    loan_account: AccountKey | None,
) -> Parts:
    """The recorded refund's destinations: the loan's funds (``loan_account``), the channel,
    the buyer's wallet."""
    parts: Parts = []
    if loan_account is not None:
        parts.append((loan_account, record["loan_minor"]))
    if record["channel_minor"]:
        parts += channel_destinations(tx, tenant, record)
    if record["wallet_minor"]:
        wallet = wallet_key(tenant, "buyer", order.buyer_id, order.currency)
        parts.append((wallet, record["wallet_minor"]))
    return parts


def channel_destinations(tx: LedgerTransaction, tenant: str, record: dict[str, Any]) -> Parts:
    """Clearing while the channel still owes us that much, the client reserve beyond."""
    clearing = channel_clearing(tenant, record["channel"], record["currency"])
    reserve = platform_account(tenant, record["currency"], AccountCode.CLIENT_RESERVE)
    owed = 0
    found = tx.lookup_accounts([clearing.account_id])
    if found:
        a = found[0]
        owed = max(a.debits_posted - a.credits_posted - a.credits_pending, 0)
    to_clearing = min(owed, record["channel_minor"])
    return [(clearing, to_clearing), (reserve, record["channel_minor"] - to_clearing)]


def after_release_sources(
    tx: LedgerTransaction, tenant: str, order: Order, amount: int
) -> tuple[Parts, list[Transfer]]:
    """The merchant's net share (pending balance first, then available, then its rolling
    reserve — oldest hold first) and the commission on the refunded share (from the reserve
    while unswept, else from revenue with the platform's cash moved back into the reserve)."""
    merchant = load_merchant(tx.conn, tenant, order.merchant_id)
    assert merchant is not None
    refunded_after = _refunded_after_release(tx, tenant, order.order_id)
    gross = order.released_minor + order.commission_minor
    back = commission_back(order.commission_minor, gross, refunded_after, amount)
    owner = ("merchant", order.merchant_id, order.currency)
    pending = AccountKey(tenant, *owner, AccountCode.MERCHANT_PENDING)
    available = AccountKey(tenant, *owner, AccountCode.MERCHANT_AVAILABLE)
    held_back = AccountKey(tenant, *owner, AccountCode.MERCHANT_RESERVE)
    in_reserve = platform_account(tenant, order.currency, AccountCode.COMMISSION_IN_RESERVE)
    reserves.lock_open_holds(tx.conn, tenant, order.merchant_id, order.currency)
    free_minor = free(tx, [pending, available, held_back, in_reserve])
    merchant_part = amount - back
    merchant_sources = (pending, available, held_back)
    taken = draw(merchant_part, list(zip(merchant_sources, free_minor[:3], strict=True)))
    if merchant_part and not taken:
        raise InsufficientFunds("the merchant's balance cannot cover its share of this refund")
    drawn = sum(part for key, part in taken if key == held_back)
    if drawn:
        reserves.draw(tx.conn, tenant, order.merchant_id, order.currency, drawn)
    from_reserve = min(back, free_minor[3])
    from_revenue = back - from_reserve
    sources = [*taken, (in_reserve, from_reserve)]
    extra: list[Transfer] = []
    if from_revenue:
        sources.append(
            (platform_account(tenant, order.currency, AccountCode.COMMISSION_REVENUE), from_revenue)
        )
        extra.append(_revenue_funding(tx, tenant, order, from_revenue, refunded_after))
    return sources, extra


def _refunded_after_release(tx: LedgerTransaction, tenant: str, order_id: str) -> int:
    r = refunds.c
    total = tx.conn.execute(
        select(func.coalesce(func.sum(r.amount_minor), 0)).where(
            r.tenant == tenant,
            r.order_id == order_id,
            r.status == "succeeded",
            r.after_release == 1,
        )
    ).scalar_one()
    return int(total)


def _revenue_funding(
    tx: LedgerTransaction, tenant: str, order: Order, from_revenue: int, refunded_after: int
) -> Transfer:
    """The platform's cash back into the reserve for commission refunded out of revenue."""
    revenue = platform_account(tenant, order.currency, AccountCode.COMMISSION_REVENUE)
    operating = platform_account(tenant, order.currency, AccountCode.PLATFORM_OPERATING)
    reserve = platform_account(tenant, order.currency, AccountCode.CLIENT_RESERVE)
    open_accounts(tx, [revenue, operating, reserve])
    return order_leg(
        tenant,
        order.order_id,
        f"refund_funding:{order.order_id}:{refunded_after}",
        reserve,
        operating,
        from_revenue,
        CODE_REFUND_COMMISSION_FUNDING,
    )


def free(tx: LedgerTransaction, keys: Sequence[AccountKey]) -> list[int]:
    """What each credit-normal account can still pay out (posted credits less all debits)."""
    found = {a.id: a for a in tx.lookup_accounts([k.account_id for k in keys])}
    free_minor = []
    for key in keys:
        a = found.get(key.account_id)
        free_minor.append(a.credits_posted - a.debits_posted - a.debits_pending if a else 0)
    return free_minor


def source_code(source: AccountKey) -> int:
    """The transfer code of a refund leg drawn from ``source``."""
    if source.code == AccountCode.ESCROW:
        return CODE_REFUND
    if source.code in {AccountCode.COMMISSION_IN_RESERVE, AccountCode.COMMISSION_REVENUE}:
        return CODE_REFUND_COMMISSION
    return CODE_REFUND_AFTER_RELEASE


# --- what the order was paid with, what went back ---------------------------------------------
def funding(tx: LedgerTransaction, tenant: str, order: Order, financed: bool) -> Funding:
    """What paid the order: the loan (``financed``), a channel with any wallet share, or the
    wallet."""
    if financed:
        return Funding(loan_minor=order.paid_minor)
    a = payment_attempts.c
    attempt = (
        tx.conn.execute(
            select(a.channel, a.amount_minor, a.wallet_minor).where(
                a.tenant == tenant, a.order_id == order.order_id, a.status == "succeeded"
            )
        )
        .mappings()
        .first()
    )
    if attempt is not None and paid_through_channel(tx, tenant, order.order_id):
        return Funding(
            channel_minor=attempt["amount_minor"],
            wallet_minor=attempt["wallet_minor"],
            channel=attempt["channel"],
        )
    return Funding(wallet_minor=order.paid_minor)


def paid_through_channel(tx: LedgerTransaction, tenant: str, order_id: str) -> bool:
    """An approved attempt paid the order only if its payment leg was booked (one approved
    after the order was paid otherwise went to the buyer's wallet as an overpayment)."""
    leg_id = transfer_id(tenant, f"order:{order_id}", "channel_pay")
    return bool(tx.lookup_transfers([leg_id]))


def refunded(tx: LedgerTransaction, tenant: str, order_id: str) -> RefundSplit:
    """What each source has had back, counting refunds started but not yet booked."""
    r = refunds.c
    row = tx.conn.execute(
        select(
            func.coalesce(func.sum(r.loan_minor), 0),
            func.coalesce(func.sum(r.channel_minor), 0),
            func.coalesce(func.sum(r.wallet_minor), 0),
        ).where(
            r.tenant == tenant,
            r.order_id == order_id,
            r.status.in_(["started", "succeeded"]),
        )
    ).one()
    return RefundSplit(int(row[0]), int(row[1]), int(row[2]))
