"""Merchant risk, stored: score every merchant, rank them, and answer the reserve policy port.

``score_all`` reads each merchant's signals over the last 30 days (``merchant_signals``: paid
orders and who placed them, refunds, disputes and chargebacks, the risk checks of checkouts at
it with their outcomes and features), scores them (``risk/merchant.py``) and stores one row per
merchant in ``risk_merchant_scores`` — the history is the trend. A merchant that enters the
``high`` tier gets a ``merchant_review`` case in the shared queue. ``ranking`` lists the latest
scores, riskiest first (seed §1.2: the platform ranks merchants by what their fund flows show).

``reserve_of`` (payments' ``ReservePolicy`` port, asked at every T+1 settlement) answers the
merchant's rolling reserve: a risk officer's policy (``set_policy``, append-only, audited by the
API) if one is in force, else its latest tier's.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select

from embedfin.commerce.store import (
    load_merchant,
    load_orders,
    merchant_onboarding,
    sales_by_buyer,
    tenants_with_merchants,
)
from embedfin.core.clock import Clock
from embedfin.core.errors import InvalidStateTransition, NotFound
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import risk_decisions, risk_merchant_policies, risk_merchant_scores
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.refunds.check import refunds_between
from embedfin.risk.cases import Cases
from embedfin.risk.merchant import (
    NO_RESERVE,
    RESERVES,
    MerchantScore,
    MerchantSignals,
    Reserve,
    Tier,
    score_merchant,
)
from embedfin.risk.text import checked_text

DAY_NS = 86_400 * 1_000_000_000
#: The scoring window.
WINDOW_NS = 30 * DAY_NS
_S = risk_merchant_scores.c
_P = risk_merchant_policies.c
_REFUND_REASONS = ("refund", "return")
_DISPUTE_REASONS = ("dispute", "chargeback")
_SHARED = ("device_accounts_7d", "address_accounts_7d", "token_accounts_7d")


@dataclass(frozen=True, slots=True)
class ScoredMerchant:
    merchant_id: str
    scored_at: int
    score: int
    tier: str
    reserve: Reserve
    reasons: list[dict[str, Any]]
    signals: dict[str, int]


@dataclass(frozen=True, slots=True)
class Policy:
    merchant_id: str
    reserve: Reserve | None  # None: the tier's reserve again
    reason: str
    set_by: str
    set_at: int


class MerchantRisk:
    def __init__(
        self, ledger: Ledger, tenant: str, cases: Cases, clock: Clock | None = None
    ) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.cases = cases
        self.clock = clock or ledger.clock

    # --- scoring ------------------------------------------------------------------------
    def score_all(self, as_of: int | None = None) -> list[ScoredMerchant]:
        """Score every merchant of the tenant as of ``as_of`` (now), store the scores, open a
        review for each that newly entered the high tier; the scores, riskiest first."""
        now = self.clock.now_ns() if as_of is None else as_of
        with self.ledger.transaction() as tx:
            before = {m.merchant_id: m.tier for m in self._latest(tx.conn)}
            signals = merchant_signals(tx.conn, self.tenant, now)
            scored = [
                self._store(tx.conn, merchant, score_merchant(found), found, now)
                for merchant, found in sorted(signals.items())
            ]
            for merchant in scored:
                if merchant.tier == Tier.HIGH and before.get(merchant.merchant_id) != Tier.HIGH:
                    self._open_review(tx, merchant)
        return sorted(scored, key=lambda m: (-m.score, m.merchant_id))

    def _store(
        self,
        conn: Connection,
        merchant_id: str,
        score: MerchantScore,
        signals: MerchantSignals,
        now: int,
    ) -> ScoredMerchant:
        row = ScoredMerchant(
            merchant_id, now, score.score, score.tier.value, score.reserve, score.reasons(),
            signals.as_dict(),
        )  # fmt: skip
        insert_if_absent(  # a second run at the same instant is the same run
            conn,
            risk_merchant_scores,
            {
                "tenant": self.tenant,
                "merchant_id": merchant_id,
                "scored_at": now,
                "score": row.score,
                "tier": row.tier,
                "reserve_bp": row.reserve.bp,
                "hold_days": row.reserve.hold_days,
                "reasons": json.dumps(row.reasons, sort_keys=True),
                "signals": json.dumps(row.signals, sort_keys=True),
            },
        )
        return row

    def _open_review(self, tx: LedgerTransaction, merchant: ScoredMerchant) -> None:
        found = load_merchant(tx.conn, self.tenant, merchant.merchant_id)
        currency = found.settlement_currency if found is not None else "EUR"
        top = ", ".join(r["code"] for r in merchant.reasons[:3])
        self.cases.open(
            tx,
            kind="merchant_review",
            # one review a day at most, however many workers score: the id is the day's
            case_id=f"mr_{merchant.scored_at // DAY_NS}_{merchant.merchant_id}"[:64],
            summary=f"merchant {merchant.merchant_id} scored {merchant.score} ({top})",
            amount_minor=0,
            currency=currency,
            merchant_id=merchant.merchant_id,
            sla_ns=3 * DAY_NS,
        )

    # --- reading ------------------------------------------------------------------------
    def ranking(self, limit: int = 100) -> list[ScoredMerchant]:
        """The latest score of every scored merchant, riskiest first."""
        with self.ledger.current() as conn:
            found = self._latest(conn)
        return sorted(found, key=lambda m: (-m.score, m.merchant_id))[:limit]

    def latest(self, merchant_id: str) -> ScoredMerchant | None:
        with self.ledger.current() as conn:
            return next(iter(self._history(conn, merchant_id, 1)), None)

    def history(self, merchant_id: str, limit: int = 90) -> list[ScoredMerchant]:
        with self.ledger.current() as conn:
            if load_merchant(conn, self.tenant, merchant_id) is None:
                raise NotFound(f"no merchant {merchant_id}")
            return self._history(conn, merchant_id, limit)

    def _history(self, conn: Connection, merchant_id: str, limit: int) -> list[ScoredMerchant]:
        query = (
            select(risk_merchant_scores)
            .where(_S.tenant == self.tenant, _S.merchant_id == merchant_id)
            .order_by(_S.scored_at.desc())
            .limit(limit)
        )
        return [_scored(row) for row in conn.execute(query)]

    def _latest(self, conn: Connection) -> list[ScoredMerchant]:
        newest = (
            select(_S.merchant_id, func.max(_S.scored_at).label("at"))
            .where(_S.tenant == self.tenant)
            .group_by(_S.merchant_id)
            .subquery()
        )
        query = select(risk_merchant_scores).join(
            newest,
            and_(
                _S.tenant == self.tenant,
                _S.merchant_id == newest.c.merchant_id,
                _S.scored_at == newest.c.at,
            ),
        )
        return [_scored(row) for row in conn.execute(query)]

    # --- the reserve policy ---------------------------------------------------------------
    def reserve_of(self, tx: LedgerTransaction, merchant_id: str) -> Reserve:
        """The reserve a settlement of this merchant holds back now (the port payments asks)."""
        conn = tx.conn
        policy = _policy(conn, self.tenant, merchant_id)
        if policy is not None and policy.reserve is not None:
            return policy.reserve
        row = conn.execute(
            select(_S.tier)
            .where(_S.tenant == self.tenant, _S.merchant_id == merchant_id)
            .order_by(_S.scored_at.desc())
            .limit(1)
        ).first()
        return NO_RESERVE if row is None else RESERVES[Tier(row[0])]

    def set_policy(
        self, merchant_id: str, reserve: Reserve | None, reason: str, actor: str
    ) -> Policy:
        """A risk officer's reserve for the merchant (``None``: its tier's reserve again)."""
        checked_text("reason", reason, 500)
        with self.ledger.transaction() as tx:
            merchant = load_merchant(tx.conn, self.tenant, merchant_id)
            if merchant is None:
                raise NotFound(f"no merchant {merchant_id}")
            if reserve is not None and reserve.bp and merchant.payout_preference != "t1":
                raise InvalidStateTransition(
                    f"merchant {merchant_id} settles T+0: a rolling reserve holds back T+1"
                    " settlements only (move it to T+1 first)"
                )
            now = max(self.clock.now_ns(), _last_set(tx.conn, self.tenant, merchant_id) + 1)
            tx.conn.execute(
                insert(risk_merchant_policies).values(
                    tenant=self.tenant,
                    merchant_id=merchant_id,
                    set_at=now,
                    reserve_bp=None if reserve is None else reserve.bp,
                    hold_days=None if reserve is None else reserve.hold_days,
                    reason=reason,
                    set_by=actor,
                )
            )
            tx.emit(
                self.tenant,
                "merchant_reserve_set",
                "merchant",
                merchant_id,
                {
                    "reserve_bp": None if reserve is None else reserve.bp,
                    "hold_days": None if reserve is None else reserve.hold_days,
                    "reason": reason,
                },
            )
            return Policy(merchant_id, reserve, reason, actor, now)

    def policy(self, merchant_id: str) -> Policy | None:
        with self.ledger.current() as conn:
            return _policy(conn, self.tenant, merchant_id)


def _scored(row: Any) -> ScoredMerchant:
    return ScoredMerchant(
        row.merchant_id,
        int(row.scored_at),
        int(row.score),
        row.tier,
        Reserve(int(row.reserve_bp), int(row.hold_days)),
        json.loads(row.reasons),
        json.loads(row.signals),
    )


def _policy(conn: Connection, tenant: str, merchant_id: str) -> Policy | None:
    row = conn.execute(
        select(risk_merchant_policies)
        .where(_P.tenant == tenant, _P.merchant_id == merchant_id)
        .order_by(_P.set_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    reserve = None if row.reserve_bp is None else Reserve(int(row.reserve_bp), int(row.hold_days))
    return Policy(merchant_id, reserve, row.reason, row.set_by, int(row.set_at))


def _last_set(conn: Connection, tenant: str, merchant_id: str) -> int:
    found = conn.execute(
        select(func.max(_P.set_at)).where(_P.tenant == tenant, _P.merchant_id == merchant_id)
    ).scalar()
    return int(found or 0)


# --- the signals ---------------------------------------------------------------------------
def merchant_signals(conn: Connection, tenant: str, now: int) -> dict[str, MerchantSignals]:
    """Every merchant's signals over the 30 days to ``now`` (and the 28 days before the last 7,
    for the sales spike): commerce's paid orders per buyer, payments' refunds, risk's checks.
    Disputes are those still open (the order frozen) and those lost or charged back (a refund
    for the reason)."""
    since = now - WINDOW_NS
    week = now - 7 * DAY_NS
    counts: dict[str, Counter[str]] = {}
    for merchant, onboarded in merchant_onboarding(conn, tenant).items():
        prior_days = (week - max(onboarded, week - 28 * DAY_NS)) // DAY_NS
        counts[merchant] = Counter({"prior_days": max(int(prior_days), 0)})
    per_buyer: dict[str, list[int]] = defaultdict(list)
    for sales in sales_by_buyer(conn, tenant, since, week, now):
        c = counts.setdefault(sales.merchant_id, Counter())
        c["paid_orders"] += sales.paid
        c["orders_7d"] += sales.last_week
        c["orders_prior_28d"] += sales.prior_28d
        c["disputes"] += sales.disputed
        c["quick_confirms"] += sales.quick_confirms
        if sales.paid:
            c["buyers"] += 1
            per_buyer[sales.merchant_id].append(sales.paid)
    for merchant, bought in per_buyer.items():
        counts[merchant]["top_buyer_orders"] = sum(sorted(bought, reverse=True)[:3])
    refunded = refunds_between(conn, tenant, since, now)
    sold_by = {
        o.order_id: o.merchant_id
        for o in load_orders(conn, tenant, [i for i, _ in refunded]).values()
    }
    for order_id, reason in refunded:
        seller = sold_by.get(order_id)
        if seller is None:
            continue
        if reason in _REFUND_REASONS:
            counts.setdefault(seller, Counter())["refunds"] += 1
        elif reason in _DISPUTE_REASONS:
            counts.setdefault(seller, Counter())["disputes"] += 1
    for merchant, found in _check_counts(conn, tenant, since, now):
        counts.setdefault(merchant, Counter()).update(found)
    return {
        merchant: MerchantSignals(**{k: int(v) for k, v in c.items()})
        for merchant, c in counts.items()
    }


def _check_counts(
    conn: Connection, tenant: str, since: int, now: int
) -> Iterator[tuple[str, Counter[str]]]:
    """Per merchant: checks, those held or refused, those labelled and the allowed ones that
    were fraud, and those whose features show a shared device/address/card or a buyer linked to
    the merchant."""
    d = risk_decisions.c
    query = (
        select(d.merchant_id, d.action, d.label, d.features)
        .where(
            d.tenant == tenant,
            d.kind == "checkout",
            d.merchant_id.is_not(None),
            d.created_at > since,
            d.created_at <= now,
        )
        .execution_options(yield_per=2_000)
    )
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for merchant, action, label, features in conn.execute(query):
        c = found[merchant]
        c["checks"] += 1
        c["flagged"] += action in ("review", "block")
        if label != "unknown":
            c["labelled"] += 1
            c["fraud_labels"] += label == "fraud" and action == "allow"
        values = json.loads(features)
        c["ring_checks"] += any((values.get(name) or 0) >= 2 for name in _SHARED)
        c["self_checks"] += bool(values.get("self_purchase"))
    yield from found.items()


def tenants_due(conn: Connection, now: int, every_ns: int = DAY_NS) -> list[str]:
    """Tenants with merchants whose last scoring run is older than ``every_ns`` (or none)."""
    query = select(_S.tenant, func.max(_S.scored_at)).group_by(_S.tenant)
    last = {str(tenant): int(at) for tenant, at in conn.execute(query)}
    return [t for t in tenants_with_merchants(conn) if last.get(t, 0) <= now - every_ns]
