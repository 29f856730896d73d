"""Invariants of the refund policy, run by ``embedfin check``:

* ``refunds_match_orders`` — per order, the booked refunds add up to what the order says was
  refunded;
* ``refunds_within_sources`` — per order and source (loan, channel, wallet), refunded ≤ paid;
  a wallet-paid order gets nothing back through a channel or a loan, a channel's share never
  exceeds what that channel charged;
* ``wallet_refunds_match_ledger`` — per buyer and currency, what refunds credited to the buyer's
  wallet on the ledger equals the wallet shares recorded: no wallet credit for a financed or a
  channel-paid share.

Lending checks the fourth (a financed order's refunds reduce its loan) from
``refunded_per_order`` below, so it reads payments' records through this module.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, text

from embedfin.ledger.check import CheckReport
from embedfin.payments.chart import (
    CODE_REFUND,
    CODE_REFUND_AFTER_RELEASE,
    CODE_REFUND_COMMISSION,
    AccountCode,
)
from embedfin.payments.refunds.policy import RefundSplit

_SAMPLE = 10
OrderKey = tuple[str, str]  # (tenant, order id)


def refunded_per_order(conn: Connection) -> dict[OrderKey, RefundSplit]:
    """Booked refunds per order, split by source (the read model other contexts check with)."""
    found: dict[OrderKey, RefundSplit] = {}
    for tenant, order_id, loan, channel, wallet in conn.execute(
        text(
            "SELECT tenant, order_id, SUM(loan_minor), SUM(channel_minor), SUM(wallet_minor)"
            " FROM refunds WHERE status = 'succeeded' GROUP BY tenant, order_id"
        )
    ).all():
        found[(tenant, order_id)] = RefundSplit(int(loan), int(channel), int(wallet))
    return found


def refunds_match_orders(conn: Connection, report: CheckReport) -> None:
    booked = refunded_per_order(conn)
    bad = 0
    for tenant, order_id, refunded in conn.execute(
        text("SELECT tenant, order_id, refunded_minor FROM orders WHERE refunded_minor > 0")
    ).all():
        split = booked.pop((tenant, order_id), RefundSplit())
        if split.total_minor != int(refunded):
            bad += 1
            if bad <= _SAMPLE:
                report.fail(
                    "refunds_match_orders",
                    f"tenant {tenant}, order {order_id}: refunded {refunded}, refund records"
                    f" {split.total_minor}",
                )
    for (tenant, order_id), split in list(booked.items())[:_SAMPLE]:
        if split.total_minor:
            report.fail(
                "refunds_match_orders",
                f"tenant {tenant}, order {order_id}: refund records {split.total_minor} for an"
                " order that says nothing was refunded",
            )


def refunds_within_sources(conn: Connection, report: CheckReport) -> None:
    booked = refunded_per_order(conn)
    channel_paid: dict[OrderKey, tuple[int, int]] = {
        (tenant, order_id): (int(channel), int(wallet))
        for tenant, order_id, channel, wallet in conn.execute(
            text(
                "SELECT tenant, order_id, amount_minor, wallet_minor FROM payment_attempts"
                " WHERE status = 'succeeded'"
            )
        ).all()
    }
    financed = {(t, o) for t, o in conn.execute(text("SELECT tenant, order_id FROM loans")).all()}
    paid = {
        (t, o): int(p)
        for t, o, p in conn.execute(
            text("SELECT tenant, order_id, paid_minor FROM orders WHERE refunded_minor > 0")
        ).all()
    }
    bad = 0
    for key, split in sorted(booked.items()):
        problem = _beyond_sources(split, paid.get(key, 0), key in financed, channel_paid.get(key))
        if problem is not None:
            bad += 1
            if bad <= _SAMPLE:
                tenant, order_id = key
                report.fail(
                    "refunds_within_sources", f"tenant {tenant}, order {order_id}: {problem}"
                )


def _beyond_sources(
    split: RefundSplit, paid: int, financed: bool, channel: tuple[int, int] | None
) -> str | None:
    if split.total_minor > paid:
        return f"refunded {split.total_minor} of {paid} paid"
    if split.loan_minor and not financed:
        return f"{split.loan_minor} refunded to a loan, but no loan paid the order"
    if financed:
        return (
            "refunded through a channel, but a loan paid the order" if split.channel_minor else None
        )
    if channel is None:
        if split.channel_minor:
            return f"{split.channel_minor} refunded through a channel to a wallet-paid order"
        return None
    to_channel, from_wallet = channel
    if split.channel_minor > to_channel:
        return f"the channel got {split.channel_minor} back of the {to_channel} it charged"
    if split.wallet_minor > from_wallet:
        return f"the wallet got {split.wallet_minor} back of the {from_wallet} it paid"
    return None


def wallet_refunds_match_ledger(conn: Connection, report: CheckReport) -> None:
    credited: dict[tuple[str, str, str], int] = defaultdict(int)
    for tenant, buyer, code_, total in conn.execute(
        text(
            "SELECT pa.tenant, pa.owner_id, pa.currency, SUM(t.amount) FROM transfers t"
            " JOIN payment_accounts pa ON pa.account_id = t.credit_account_id"
            " WHERE pa.owner_kind = 'buyer' AND pa.code = :wallet AND t.code IN (:a, :b, :c)"
            " GROUP BY pa.tenant, pa.owner_id, pa.currency"
        ),
        {
            "wallet": int(AccountCode.BUYER_WALLET),
            "a": CODE_REFUND,
            "b": CODE_REFUND_AFTER_RELEASE,
            "c": CODE_REFUND_COMMISSION,
        },
    ).all():
        credited[(tenant, buyer, code_)] = int(total)
    recorded: dict[tuple[str, str, str], int] = defaultdict(int)
    for tenant, buyer, code_, total in conn.execute(
        text(
            "SELECT r.tenant, o.buyer_id, r.currency, SUM(r.wallet_minor) FROM refunds r"
            " JOIN orders o ON o.tenant = r.tenant AND o.order_id = r.order_id"
            " WHERE r.status = 'succeeded' GROUP BY r.tenant, o.buyer_id, r.currency"
        )
    ).all():
        recorded[(tenant, buyer, code_)] = int(total)
    bad = 0
    for key in sorted(set(credited) | set(recorded)):
        if credited[key] != recorded[key]:
            bad += 1
            if bad <= _SAMPLE:
                tenant, buyer, code_ = key
                report.fail(
                    "wallet_refunds_match_ledger",
                    f"tenant {tenant}, buyer {buyer}, {code_}: refunds credited {credited[key]}"
                    f" to the wallet, the records' wallet shares are {recorded[key]}",
                )


def refunds_between(conn: Connection, tenant: str, since: int, until: int) -> list[tuple[str, str]]:
    """(order id, reason) of every refund that succeeded after ``since`` up to ``until`` (the
    read model merchant risk counts refunds and lost disputes with)."""
    rows = conn.execute(
        text(
            "SELECT order_id, reason FROM refunds WHERE tenant = :tenant AND status = 'succeeded'"
            " AND created_at > :since AND created_at <= :until"
        ),
        {"tenant": tenant, "since": since, "until": until},
    )
    return [(str(order_id), str(reason)) for order_id, reason in rows]
