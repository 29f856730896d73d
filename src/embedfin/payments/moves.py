"""Ledger legs for order money: ids derived from the order and the step, chains linked."""

from __future__ import annotations

from embedfin.commerce.store import Merchant
from embedfin.core.errors import InsufficientFunds, LedgerRejected
from embedfin.ledger.service import LedgerTransaction
from embedfin.ledger.types import CreateTransferResult, Transfer, TransferFlags
from embedfin.payments.chart import AccountCode, AccountKey
from embedfin.payments.requests import transfer_id

R = CreateTransferResult


def leg(
    tenant: str,
    request_id: str,
    step: str,
    debit: AccountKey,
    credit: AccountKey,
    amount: int,
    code: int,
) -> Transfer:
    """One transfer of a request; the same (request, step) always has the same id."""
    return Transfer(
        transfer_id(tenant, request_id, step),
        debit.account_id,
        credit.account_id,
        amount,
        debit.ledger,
        code,
    )


def order_leg(
    tenant: str,
    order_id: str,
    step: str,
    debit: AccountKey,
    credit: AccountKey,
    amount: int,
    code: int,
) -> Transfer:
    """One transfer of an order's money; the same (order, step) always has the same id."""
    return leg(tenant, f"order:{order_id}", step, debit, credit, amount, code)


def move(tx: LedgerTransaction, legs: list[Transfer], insufficient: str) -> None:
    """Post ``legs`` as one linked chain or raise a typed error (the unit of work rolls back)."""
    chain = [t._replace(flags=int(t.flags) | TransferFlags.LINKED) for t in legs[:-1]] + legs[-1:]
    results = tx.create_transfers(chain)
    if all(r is R.OK for r in results):
        return
    failing = next(r for r in results if r not in (R.OK, R.LINKED_EVENT_FAILED))
    if failing is R.EXCEEDS_CREDITS:
        raise InsufficientFunds(insufficient)
    raise LedgerRejected(f"ledger refused the movement: {failing}")


def release_account(merchant: Merchant, currency_code: str) -> AccountKey:
    """Where released funds go: available at once (T+0) or pending until the T+1 batch."""
    code = (
        AccountCode.MERCHANT_AVAILABLE
        if merchant.payout_preference == "t0"
        else AccountCode.MERCHANT_PENDING
    )
    return AccountKey(merchant.tenant, "merchant", merchant.merchant_id, currency_code, code)
