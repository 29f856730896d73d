"""Payment figures: channel outcomes and volumes, merchants' balances and payouts, how an order
was paid."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from embedfin.db.tables import payment_attempts, payouts, wallet_movements
from embedfin.ledger.service import Ledger
from embedfin.payments.chart import AccountCode, AccountKey


@dataclass(frozen=True, slots=True)
class ChannelFigures:
    channel: str
    approved: int  # order payments (stored attempts)
    declined: int
    top_ups: int  # wallet top-ups charged through it (only approved ones are stored)
    volume_minor: int  # approved order payments + wallet top-ups

    @property
    def success_rate(self) -> float | None:
        tried = self.approved + self.declined
        return self.approved / tried if tried else None


def channel_figures(conn: Connection, tenant: str) -> list[ChannelFigures]:
    """Channel outcomes from the durable payment attempts, volumes with wallet top-ups."""
    approved: dict[str, int] = defaultdict(int)
    declined: dict[str, int] = defaultdict(int)
    top_ups: dict[str, int] = defaultdict(int)
    volume: dict[str, int] = defaultdict(int)
    attempts = payment_attempts.c
    for channel, status, count, amount in conn.execute(
        select(
            attempts.channel,
            attempts.status,
            func.count(),
            func.sum(attempts.amount_minor - attempts.wallet_minor),
        )
        .where(attempts.tenant == tenant, attempts.channel.is_not(None))
        .group_by(attempts.channel, attempts.status)
    ).all():
        if status == "succeeded":
            approved[channel] += int(count)
            volume[channel] += int(amount or 0)
        elif status == "failed":
            declined[channel] += int(count)
    for channel, count, amount in _top_ups_by_channel(conn, tenant):
        top_ups[channel] += count
        volume[channel] += amount
    names = sorted(set(approved) | set(declined) | set(top_ups))
    return [ChannelFigures(n, approved[n], declined[n], top_ups[n], volume[n]) for n in names]


def _top_ups_by_channel(conn: Connection, tenant: str) -> list[tuple[str, int, int]]:
    """(channel, top-ups, amount) of the wallet top-ups charged through a channel."""
    movements = wallet_movements.c
    rows = conn.execute(
        select(movements.channel, func.count(), func.sum(movements.amount_minor))
        .where(
            movements.tenant == tenant,
            movements.kind == "top_up",
            movements.channel.is_not(None),
        )
        .group_by(movements.channel)
    ).all()
    return [(channel, int(count), int(amount or 0)) for channel, count, amount in rows]


def merchant_balances(
    ledger: Ledger, tenant: str, merchant_id: str, currency: str
) -> tuple[int, int]:
    """(pending, available): the merchant's posted balances in the currency, as the ledger
    holds them (released funds wait in pending for the T+1 batch)."""
    pending, available = (
        AccountKey(tenant, "merchant", merchant_id, currency, code).account_id
        for code in (AccountCode.MERCHANT_PENDING, AccountCode.MERCHANT_AVAILABLE)
    )
    found = {a.id: a.balance_posted for a in ledger.lookup_accounts([pending, available])}
    return found.get(pending, 0), found.get(available, 0)


def merchant_payouts(conn: Connection, tenant: str, merchant_id: str) -> list[tuple[str, int, int]]:
    """(batch, amount, at) of every payout to the merchant, newest first."""
    rows = conn.execute(
        select(payouts.c.batch_id, payouts.c.amount_minor, payouts.c.created_at)
        .where(payouts.c.tenant == tenant, payouts.c.merchant_id == merchant_id)
        .order_by(payouts.c.created_at.desc())
    ).all()
    return [(batch, int(amount), int(at)) for batch, amount, at in rows]


def order_channel(conn: Connection, tenant: str, order_id: str) -> str | None:
    """The channel that took the order's payment (None: paid from the wallet or financed)."""
    found: str | None = conn.execute(
        select(payment_attempts.c.channel).where(
            payment_attempts.c.tenant == tenant,
            payment_attempts.c.order_id == order_id,
            payment_attempts.c.status == "succeeded",
        )
    ).scalar()
    return found
