"""Channel settlement: money collected by a channel arrives in the client reserve.

A channel settles the gross it collected minus its fee. The fee is the platform's cost, not the
customers', so in the same linked chain the platform moves the fee from its operating cash into
the reserve: customer liabilities stay fully safeguarded.
"""

from __future__ import annotations

from dataclasses import dataclass

from embedfin.core.errors import (
    CurrencyMismatch,
    IdempotencyMismatch,
    InvalidAmount,
    LedgerRejected,
)
from embedfin.core.events import Event
from embedfin.core.money import Money
from embedfin.db.outbox import append_events
from embedfin.ledger.service import Ledger
from embedfin.ledger.types import CreateTransferResult, Transfer, TransferFlags
from embedfin.payments.accounts import open_accounts
from embedfin.payments.chart import (
    CODE_CHANNEL_FEE,
    CODE_CHANNEL_SETTLEMENT,
    CODE_FEE_FUNDING,
    AccountCode,
    AccountKey,
    channel_clearing,
    platform_account,
)
from embedfin.payments.requests import check_name, check_request_id, transfer_id

R = CreateTransferResult


@dataclass(frozen=True, slots=True)
class ChannelSettlement:
    channel: str
    gross: Money
    fee: Money
    request_id: str
    replayed: bool


def settle_channel(
    ledger: Ledger, tenant: str, channel: str, gross: Money, fee: Money, request_id: str
) -> ChannelSettlement:
    """Book a channel's settlement of ``gross`` minus ``fee`` into the client reserve.

    Steps: check the amounts, build the linked legs (net into the reserve; the fee as the
    platform's expense, funded from its operating cash), post them (a replay answers the first
    settlement), append ``channel_settled``.
    """
    _check_amounts(gross, fee)
    check_request_id(request_id)
    clearing = channel_clearing(tenant, check_name("channel", channel), gross.currency)
    reserve = platform_account(tenant, gross.currency, AccountCode.CLIENT_RESERVE)
    expense = platform_account(tenant, gross.currency, AccountCode.CHANNEL_FEE_EXPENSE)
    operating = platform_account(tenant, gross.currency, AccountCode.PLATFORM_OPERATING)
    legs = _settlement_legs(tenant, request_id, gross, fee, clearing, reserve, expense, operating)
    with ledger.transaction() as tx:
        open_accounts(tx, [clearing, reserve, expense, operating])
        results = tx.create_transfers(legs)
        if results[0] is R.EXISTS:
            return ChannelSettlement(channel, gross, fee, request_id, replayed=True)
        _raise_refusal(results, channel, request_id)
        append_events(
            tx.conn,
            [_settled_event(tenant, channel, gross, fee, request_id, ledger.clock.now_ns())],
        )
        return ChannelSettlement(channel, gross, fee, request_id, replayed=False)


def _check_amounts(gross: Money, fee: Money) -> None:
    if gross.currency != fee.currency:
        raise CurrencyMismatch("gross and fee must be in one currency")
    if gross.amount_minor <= 0 or fee.amount_minor < 0 or fee.amount_minor > gross.amount_minor:
        raise InvalidAmount("need gross > 0 and 0 <= fee <= gross")


def _settlement_legs(
    tenant: str,
    request_id: str,
    gross: Money,
    fee: Money,
    clearing: AccountKey,
    reserve: AccountKey,
    expense: AccountKey,
    operating: AccountKey,
) -> list[Transfer]:
    """The net into the reserve and, with a fee, its expense and funding; linked as one."""
    ledger_no = reserve.ledger
    net = gross.amount_minor - fee.amount_minor
    legs = [
        Transfer(
            transfer_id(tenant, request_id, "net"),
            reserve.account_id,
            clearing.account_id,
            net,
            ledger_no,
            CODE_CHANNEL_SETTLEMENT,
        )
    ]
    if fee.amount_minor:
        legs += [
            Transfer(
                transfer_id(tenant, request_id, "fee"),
                expense.account_id,
                clearing.account_id,
                fee.amount_minor,
                ledger_no,
                CODE_CHANNEL_FEE,
            ),
            Transfer(
                transfer_id(tenant, request_id, "fee_funding"),
                reserve.account_id,
                operating.account_id,
                fee.amount_minor,
                ledger_no,
                CODE_FEE_FUNDING,
            ),
        ]
    return [t._replace(flags=int(t.flags) | TransferFlags.LINKED) for t in legs[:-1]] + legs[-1:]


def _raise_refusal(results: list[CreateTransferResult], channel: str, request_id: str) -> None:
    """Raise the typed error of a refused settlement; nothing when every leg was posted."""
    if results[0].startswith("exists_with_different"):
        raise IdempotencyMismatch(f"request_id {request_id!r} settled different amounts")
    if any(r is not R.OK for r in results):
        failing = next(r for r in results if r not in (R.OK, R.LINKED_EVENT_FAILED))
        if failing is R.EXCEEDS_DEBITS:
            raise LedgerRejected(f"{channel} settles more than it collected")
        raise LedgerRejected(f"settlement refused: {failing}")


def _settled_event(
    tenant: str, channel: str, gross: Money, fee: Money, request_id: str, now_ns: int
) -> Event:
    return Event(
        "channel_settled",
        "channel",
        channel,
        {
            "gross_minor": gross.amount_minor,
            "fee_minor": fee.amount_minor,
            "currency": gross.currency,
            "request_id": request_id,
        },
        now_ns,
        tenant,
    )
