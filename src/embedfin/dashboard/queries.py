"""What the dashboard shows, read from the platform's tables for one tenant (read-only).

Every figure comes from the same rows the services write: orders for GMV and settlement timing,
ledger balances for escrow and safeguarding, payment attempts and wallet movements for channels,
the outbox for recent events, and the invariant checker for the ledger's health. Amounts are
integer minor units per currency; nothing is converted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import Connection, and_, func, select

from embedfin.core.clock import NS_PER_SECOND
from embedfin.db.tables import (
    accounts,
    loan_installments,
    loans,
    merchants,
    orders,
    outbox_events,
    payment_accounts,
    payment_attempts,
    payouts,
    wallet_movements,
)
from embedfin.ledger.chart import NormalSide
from embedfin.ledger.check import CheckReport, check
from embedfin.lending import invariants as _lending_invariants  # noqa: F401 - registers checks
from embedfin.payments import safeguarding as _safeguarding  # noqa: F401 - registers checks
from embedfin.payments.chart import (
    CUSTOMER_LIABILITIES,
    SAFEGUARDED_ASSETS,
    UNSWEPT_PLATFORM_FUNDS,
    AccountCode,
)

DAY_NS = 86_400 * NS_PER_SECOND
#: Orders whose money has been taken (GMV counts them; cancelled-before-payment ones do not).
PAID = orders.c.paid_at > 0


@dataclass(frozen=True, slots=True)
class CurrencyFigures:
    """Headline figures of one currency."""

    currency: str
    orders: int
    gmv_minor: int
    escrow_minor: int
    wallets_minor: int
    merchants_minor: int
    liabilities_minor: int  # customer liabilities + platform money still in the reserve
    safeguarded_minor: int  # client reserve + in transit + FX positions
    release_days: float | None  # mean time from payment to release to the merchant

    @property
    def safeguarded(self) -> bool:
        return self.liabilities_minor == self.safeguarded_minor


@dataclass(frozen=True, slots=True)
class DailyPoint:
    day: int  # days since the Unix epoch (UTC)
    orders: int
    gmv_minor: int
    release_days: float | None


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


@dataclass(frozen=True, slots=True)
class EventRow:
    position: int
    type: str
    aggregate_id: str
    occurred_at_ns: int


@dataclass(frozen=True, slots=True)
class MerchantFigures:
    merchant_id: str
    category: str
    currency: str
    orders: int
    gmv_minor: int
    commission_minor: int
    refunded_minor: int
    pending_minor: int  # released to the merchant, not yet settled to available
    available_minor: int
    paid_out_minor: int
    payouts: list[tuple[str, int, int]] = field(default_factory=list)  # batch, amount, at


@cache
def _debit_normal() -> frozenset[int]:
    """Account codes whose balance is debits − credits (assets and expenses) in the chart."""
    from embedfin.bootstrap import build_chart  # the composition root wires the dashboard too

    return frozenset(t.code for t in build_chart().accounts if t.normal is NormalSide.DEBIT)


def balances_by_code(
    conn: Connection, tenant: str, owner: tuple[str, str] | None = None
) -> dict[tuple[str, int], int]:
    """(currency, account code) → posted balance on the account's normal side, for the tenant
    (or for one owner of it: ``(owner kind, owner id)``)."""
    pa = payment_accounts.c
    query = (
        select(
            pa.currency,
            pa.code,
            func.sum(accounts.c.debits_posted),
            func.sum(accounts.c.credits_posted),
        )
        .select_from(accounts.join(payment_accounts, pa.account_id == accounts.c.id))
        .where(pa.tenant == tenant)
        .group_by(pa.currency, pa.code)
    )
    if owner is not None:
        query = query.where(pa.owner_kind == owner[0], pa.owner_id == owner[1])
    found: dict[tuple[str, int], int] = {}
    debit_normal = _debit_normal()
    for code, account_code, debits, credits in conn.execute(query).all():
        net = int(debits) - int(credits)
        found[(code, int(account_code))] = net if account_code in debit_normal else -net
    return found


def overview(conn: Connection, tenant: str) -> list[CurrencyFigures]:
    """Headline figures per currency, the busiest currency first."""
    sales = conn.execute(
        select(
            orders.c.currency,
            func.count(),
            func.sum(orders.c.paid_minor),
        )
        .where(orders.c.tenant == tenant, PAID)
        .group_by(orders.c.currency)
    ).all()
    release = dict(
        conn.execute(
            select(orders.c.currency, func.avg(orders.c.completed_at - orders.c.paid_at))
            .where(orders.c.tenant == tenant, PAID, orders.c.completed_at > 0)
            .group_by(orders.c.currency)
        ).all()
    )
    balances = balances_by_code(conn, tenant)
    currencies = {c for c, _ in balances} | {row[0] for row in sales}
    by_currency = {row[0]: (int(row[1]), int(row[2] or 0)) for row in sales}
    figures = []
    for code in currencies:
        count, gmv = by_currency.get(code, (0, 0))

        def total(codes: frozenset[AccountCode] | set[AccountCode], cur: str = code) -> int:
            return sum(balances.get((cur, int(c)), 0) for c in codes)

        mean = release.get(code)
        figures.append(
            CurrencyFigures(
                currency=code,
                orders=count,
                gmv_minor=gmv,
                escrow_minor=total({AccountCode.ESCROW}),
                wallets_minor=total({AccountCode.BUYER_WALLET}),
                merchants_minor=total(
                    {AccountCode.MERCHANT_PENDING, AccountCode.MERCHANT_AVAILABLE}
                ),
                liabilities_minor=total(CUSTOMER_LIABILITIES | UNSWEPT_PLATFORM_FUNDS),
                safeguarded_minor=total(SAFEGUARDED_ASSETS),
                release_days=None if mean is None else round(float(mean) / DAY_NS, 3),
            )
        )
    figures.sort(key=lambda f: (-f.orders, -f.liabilities_minor, f.currency))
    return figures


def daily(
    conn: Connection, tenant: str, currency: str, merchant_id: str | None = None
) -> list[DailyPoint]:
    """Orders, GMV and mean payment-to-release time per UTC day of payment (of one merchant,
    or of the whole marketplace)."""
    day = orders.c.paid_at / DAY_NS
    released = orders.c.completed_at > 0
    query = (
        select(
            day.label("day"),
            func.count(),
            func.sum(orders.c.paid_minor),
            func.avg(orders.c.completed_at - orders.c.paid_at).filter(released),
        )
        .where(orders.c.tenant == tenant, orders.c.currency == currency, PAID)
        .group_by("day")
        .order_by("day")
    )
    if merchant_id is not None:
        query = query.where(orders.c.merchant_id == merchant_id)
    rows = conn.execute(query).all()
    return [
        DailyPoint(
            int(d),
            int(n),
            int(gmv or 0),
            None if mean is None else round(float(mean) / DAY_NS, 3),
        )
        for d, n, gmv, mean in rows
    ]


def channels(conn: Connection, tenant: str) -> list[ChannelFigures]:
    """Channel outcomes from the durable payment attempts, volumes with wallet top-ups."""
    approved: dict[str, int] = defaultdict(int)
    declined: dict[str, int] = defaultdict(int)
    top_ups: dict[str, int] = defaultdict(int)
    volume: dict[str, int] = defaultdict(int)
    for channel, status, count, amount in conn.execute(
        select(
            payment_attempts.c.channel,
            payment_attempts.c.status,
            func.count(),
            func.sum(payment_attempts.c.amount_minor - payment_attempts.c.wallet_minor),
        )
        .where(payment_attempts.c.tenant == tenant, payment_attempts.c.channel.is_not(None))
        .group_by(payment_attempts.c.channel, payment_attempts.c.status)
    ).all():
        if status == "succeeded":
            approved[channel] += int(count)
            volume[channel] += int(amount or 0)
        elif status == "failed":
            declined[channel] += int(count)
    for channel, count, amount in conn.execute(
        select(wallet_movements.c.channel, func.count(), func.sum(wallet_movements.c.amount_minor))
        .where(
            wallet_movements.c.tenant == tenant,
            wallet_movements.c.kind == "top_up",
            wallet_movements.c.channel.is_not(None),
        )
        .group_by(wallet_movements.c.channel)
    ).all():
        top_ups[channel] += int(count)
        volume[channel] += int(amount or 0)
    names = sorted(set(approved) | set(declined) | set(top_ups))
    return [ChannelFigures(n, approved[n], declined[n], top_ups[n], volume[n]) for n in names]


def recent_events(conn: Connection, tenant: str, limit: int = 15) -> list[EventRow]:
    rows = conn.execute(
        select(
            outbox_events.c.position,
            outbox_events.c.type,
            outbox_events.c.aggregate_id,
            outbox_events.c.occurred_at,
        )
        .where(outbox_events.c.tenant_id == tenant)
        .order_by(outbox_events.c.position.desc())
        .limit(limit)
    ).all()
    return [EventRow(int(p), t, a, int(o)) for p, t, a, o in rows]


def merchant_figures(conn: Connection, tenant: str, merchant_id: str) -> MerchantFigures | None:
    found = conn.execute(
        select(merchants.c.category, merchants.c.settlement_currency).where(
            merchants.c.tenant == tenant, merchants.c.merchant_id == merchant_id
        )
    ).first()
    if found is None:
        return None
    category, code = found
    sold = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(orders.c.paid_minor), 0),
            func.coalesce(func.sum(orders.c.commission_minor), 0),
            func.coalesce(func.sum(orders.c.refunded_minor), 0),
        ).where(orders.c.tenant == tenant, orders.c.merchant_id == merchant_id, PAID)
    ).one()
    balances = balances_by_code(conn, tenant, ("merchant", merchant_id))
    paid = conn.execute(
        select(payouts.c.batch_id, payouts.c.amount_minor, payouts.c.created_at)
        .where(and_(payouts.c.tenant == tenant, payouts.c.merchant_id == merchant_id))
        .order_by(payouts.c.created_at.desc())
    ).all()
    return MerchantFigures(
        merchant_id=merchant_id,
        category=category,
        currency=code,
        orders=int(sold[0]),
        gmv_minor=int(sold[1]),
        commission_minor=int(sold[2]),
        refunded_minor=int(sold[3]),
        pending_minor=balances.get((code, int(AccountCode.MERCHANT_PENDING)), 0),
        available_minor=balances.get((code, int(AccountCode.MERCHANT_AVAILABLE)), 0),
        paid_out_minor=sum(int(p[1]) for p in paid),
        payouts=[(b, int(a), int(t)) for b, a, t in paid[:10]],
    )


def recent_orders(
    conn: Connection, tenant: str, merchant_id: str | None = None, limit: int = 12
) -> list[tuple[str, str, int, str, int]]:
    """(order id, status, total, currency, placed at) newest first."""
    query = select(
        orders.c.order_id,
        orders.c.status,
        orders.c.total_minor,
        orders.c.currency,
        orders.c.placed_at,
    ).where(orders.c.tenant == tenant)
    if merchant_id is not None:
        query = query.where(orders.c.merchant_id == merchant_id)
    rows = conn.execute(query.order_by(orders.c.placed_at.desc()).limit(limit)).all()
    return [(o, s, int(t), c, int(p)) for o, s, t, c, p in rows]


def invariants(conn: Connection) -> CheckReport:
    """The full ledger check (`embedfin check`): every registered invariant."""
    return check(conn)


@dataclass(frozen=True, slots=True)
class Installment:
    number: int
    due_date: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Bill:
    """One bill: the order, how it was paid, where the money is, and what is owed when."""

    order_id: str
    merchant_id: str
    status: str
    currency: str
    total_minor: int
    paid_minor: int
    released_minor: int
    refunded_minor: int
    auto_confirm_at_ns: int
    channel: str | None
    loan_id: str | None
    plan: str | None
    loan_outstanding_minor: int
    installments: list[Installment]


def bill(conn: Connection, tenant: str, order_id: str) -> Bill | None:
    order = conn.execute(
        select(orders).where(orders.c.tenant == tenant, orders.c.order_id == order_id)
    ).first()
    if order is None:
        return None
    channel = conn.execute(
        select(payment_attempts.c.channel).where(
            payment_attempts.c.tenant == tenant,
            payment_attempts.c.order_id == order_id,
            payment_attempts.c.status == "succeeded",
        )
    ).scalar()
    loan = conn.execute(
        select(loans).where(loans.c.tenant == tenant, loans.c.order_id == order_id)
    ).first()
    schedule: list[Installment] = []
    if loan is not None:
        schedule = [
            Installment(
                int(row.number),
                row.due_date,
                int(row.principal_minor + row.interest_minor + row.fee_minor + row.late_fee_minor),
            )
            for row in conn.execute(
                select(loan_installments)
                .where(
                    loan_installments.c.tenant == tenant,
                    loan_installments.c.loan_id == loan.loan_id,
                )
                .order_by(loan_installments.c.number)
            )
        ]
    return Bill(
        order_id=order_id,
        merchant_id=order.merchant_id,
        status=order.status,
        currency=order.currency,
        total_minor=int(order.total_minor),
        paid_minor=int(order.paid_minor),
        released_minor=int(order.released_minor),
        refunded_minor=int(order.refunded_minor),
        auto_confirm_at_ns=int(order.auto_confirm_at),
        channel=channel,
        loan_id=None if loan is None else loan.loan_id,
        plan=None if loan is None else loan.plan_code,
        loan_outstanding_minor=0
        if loan is None
        else int(loan.principal_outstanding + loan.interest_due + loan.fees_due),
        installments=schedule,
    )


def merchants_by_sales(
    conn: Connection, tenant: str, currency: str, limit: int = 8
) -> list[tuple[str, int, int]]:
    """(merchant id, orders, GMV) of the best-selling merchants in the currency."""
    gmv = func.sum(orders.c.paid_minor)
    rows = conn.execute(
        select(orders.c.merchant_id, func.count(), gmv)
        .where(orders.c.tenant == tenant, orders.c.currency == currency, PAID)
        .group_by(orders.c.merchant_id)
        .order_by(gmv.desc(), orders.c.merchant_id)
        .limit(limit)
    ).all()
    return [(m, int(n), int(g)) for m, n, g in rows]


@dataclass(frozen=True, slots=True)
class LendingFigures:
    currency: str
    active_loans: int
    outstanding_minor: int  # principal + interest + fees owed on active loans
    repaid_minor: int
    written_off_minor: int


def lending(conn: Connection, tenant: str) -> list[LendingFigures]:
    """Loans made through checkout, per currency."""
    active = loans.c.status == "active"
    rows = conn.execute(
        select(
            loans.c.currency,
            func.count().filter(active),
            func.coalesce(
                func.sum(
                    loans.c.principal_outstanding + loans.c.interest_due + loans.c.fees_due
                ).filter(active),
                0,
            ),
            func.coalesce(func.sum(loans.c.repaid_minor), 0),
            func.coalesce(func.sum(loans.c.written_off_minor), 0),
        )
        .where(loans.c.tenant == tenant)
        .group_by(loans.c.currency)
        .order_by(loans.c.currency)
    ).all()
    return [LendingFigures(c, int(n), int(o), int(r), int(w)) for c, n, o, r, w in rows]
