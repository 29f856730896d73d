"""The online signals: what one checked operation leaves behind, and the features read back.

Every risk check leaves an :class:`Observation` — when, what kind, how much, by whom, at which
merchant, and the digests of the payment token, device, IP and shipping address — and later its
outcome (succeeded or declined). A counter store (the database by default, Redis with
``EMBEDFIN_REDIS_URL``; ``risk/counters.py`` and ``risk/redis_counters.py``) keeps them and, for
the next check, hands back the raw :class:`Reads`: the recent observations of each entity the new
request names, the buyer's paid history and the entity↔account links. :func:`features` turns the
reads into the catalogue's values. Both stores return the same reads, so the features — and so
every decision — are the same whichever store holds the counters; the stores only differ in where
the rows live.

Counts are over the most recent :data:`MAX_ROWS` observations of an entity in the 7-day window:
an entity past that (a card-testing device) saturates, far above any rule's threshold.

Entity values are stored as tenant-scoped digests (:func:`digest`), never as sent. An IPv4
address has few enough values that its digest is pseudonymous, not anonymous: the tables are
personal data and are kept 90 days (:data:`RETENTION_NS`).

Pure: values in, values out.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple

from embedfin.risk.decision import RiskSubject, SubjectKind
from embedfin.risk.feature_types import MAX_INT_FEATURE, Entity, FeatureValue, Window

NS_PER_S = 1_000_000_000
DAY_NS = 86_400 * NS_PER_S
#: How far back observations and links are kept (and the amount history looks).
RETENTION_NS = 90 * DAY_NS
#: The most recent observations read per entity.
MAX_ROWS = 500
#: The most links read per entity value (a device seen with more accounts saturates).
MAX_LINKS = 1_000
#: The buyer's paid orders the amount history reads.
MAX_HISTORY = 200
#: Methods that pay on credit (the fund-flow signals look for cash-out after them).
CREDIT_METHODS = frozenset({"bnpl", "credit_line", "card_credit"})
#: The kind of an observation that is no check: money given back to a buyer after a purchase
#: (a refund, a return, a dispute or a chargeback; ``risk/refund_signals.py`` records them from
#: the outbox). Its payment method is the refund's reason.
REFUND_KIND = "refund"
#: The buyer's most recent refunds a check reads — apart from its other observations, so a
#: flood of other operations (hundreds of one-cent top-ups) cannot push them out of the read.
MAX_REFUNDS = 100
#: Entities whose values are digested (buyers and merchants are ids already).
DIGESTED = (Entity.TOKEN, Entity.DEVICE, Entity.IP, Entity.ADDRESS, Entity.PAYOUT_ACCOUNT)
#: Entities whose recent observations a check reads.
OBSERVED = (Entity.BUYER, Entity.TOKEN, Entity.DEVICE, Entity.IP, Entity.ADDRESS, Entity.MERCHANT)
#: Entities linked to accounts.
LINKED = DIGESTED
#: How far back a check reads an entity's observations: a week, but a merchant's last hour
#: only (a busy merchant has thousands of attempts a week; its longer-run velocity belongs to
#: the merchant risk score, so ``merchant_orders_24h``/``_7d`` are left missing online).
READ_WINDOW = {entity: Window.D7 for entity in OBSERVED} | {Entity.MERCHANT: Window.H1}
#: How many of an entity's newest observations a check reads: :data:`MAX_ROWS`, a merchant's
#: last 20 (at a few hundred checkouts a second a merchant's hour holds thousands; reading
#: them would cost more than the rest of the check — 50 cost a third of the whole check's
#: reads: its hourly velocity and decline rate are over its last 20 attempts, its longer-run
#: behaviour is the merchant risk score's).
ROWS_READ = {entity: MAX_ROWS for entity in OBSERVED} | {Entity.MERCHANT: 20}


class Status(IntEnum):
    PENDING = 0
    SUCCEEDED = 1
    DECLINED = 2


def digest(tenant: str, entity: Entity, value: str) -> str:
    """The stored key of an entity value: 32 hex characters, different per tenant."""
    material = f"{entity.value}\x00{value}".encode()
    return hashlib.blake2b(material, key=tenant.encode()[:64], digest_size=16).hexdigest()


def account_of(buyer_id: str | None, merchant_id: str | None, kind: SubjectKind) -> str:
    """Who a link belongs to: ``b:<buyer>``, ``m:<merchant>`` for a payout, ``""`` for a guest."""
    if kind is SubjectKind.PAYOUT and merchant_id is not None:
        return f"m:{merchant_id}"
    return f"b:{buyer_id}" if buyer_id is not None else ""


@dataclass(frozen=True, slots=True)
class Observation:
    """One checked operation as the counters keep it.

    Attributes:
        observation_id: the decision's id (one observation per check).
        tenant: whose.
        at: when, ns.
        kind: the subject kind.
        payment_method: how it was paid.
        amount_minor, currency: what it moved.
        keys: entity → stored key (ids for buyer and merchant, digests for the rest).
        account: who the links belong to (:func:`account_of`).
        status: pending until the operation's outcome is known.
    """

    observation_id: str
    tenant: str
    at: int
    kind: str
    payment_method: str
    amount_minor: int
    currency: str
    keys: Mapping[Entity, str]
    account: str
    status: Status = Status.PENDING

    @classmethod
    def of(
        cls,
        subject: RiskSubject,
        observation_id: str,
        at: int,
        *,
        token: str | None = None,
        payout_account: str | None = None,
    ) -> Observation:
        """The observation a check of ``subject`` leaves; ``token`` is the payment token (card
        or bank account reference), ``payout_account`` the merchant's bank token on a payout."""
        keys: dict[Entity, str] = {}
        if subject.buyer_id is not None:
            keys[Entity.BUYER] = subject.buyer_id
        if subject.merchant_id is not None:
            keys[Entity.MERCHANT] = subject.merchant_id
        context = subject.context
        raw = {
            Entity.TOKEN: token,
            Entity.PAYOUT_ACCOUNT: payout_account,
            Entity.DEVICE: context.device_id if context else None,
            Entity.IP: context.ip if context else None,
            Entity.ADDRESS: context.shipping_address_key if context else None,
        }
        for entity, value in raw.items():
            if value:
                keys[entity] = digest(subject.tenant, entity, value)
        return cls(
            observation_id,
            subject.tenant,
            at - at % 1_000,  # whole microseconds: exact as a Redis score (a double) too
            subject.kind.value,
            subject.payment_method,
            subject.amount_minor,
            subject.currency,
            keys,
            account_of(subject.buyer_id, subject.merchant_id, subject.kind),
        )


class SignalRow(NamedTuple):
    """One earlier observation, as a read returns it (a named tuple: a read makes hundreds of
    them per check, and a tuple is built in one step where a frozen dataclass sets each field)."""

    at: int
    kind: str
    payment_method: str
    amount_minor: int
    currency: str
    status: Status
    token: str | None = None


class LinkRow(NamedTuple):
    """An account an entity was seen with, first and last."""

    account: str
    first_at: int
    last_at: int


@dataclass(slots=True)
class Reads:
    """What a counter store hands back for one new observation (before it is recorded).

    Attributes:
        rows: per observed entity the request names, its observations in the last 7 days,
            newest first, at most :data:`MAX_ROWS`.
        history: the buyer's succeeded checkouts in this currency in 90 days, newest first, at
            most :data:`MAX_HISTORY` (their amounts).
        refunds: the buyer's refunds in 7 days, newest first, at most :data:`MAX_REFUNDS`
            (never among ``rows``).
        links: per linked entity the request names, the accounts it was seen with.
        account_links: per linked entity, the keys this account was seen with (its devices…).
    """

    rows: dict[Entity, list[SignalRow]] = field(default_factory=dict)
    history: list[int] = field(default_factory=list)
    refunds: list[SignalRow] = field(default_factory=list)
    links: dict[Entity, list[LinkRow]] = field(default_factory=dict)
    account_links: dict[Entity, list[LinkRow]] = field(default_factory=dict)


def _since(now: int, window: Window) -> int:
    return now - _SPAN_NS[window]


#: Each window's length in ns, and the three by name (a hot path: no enum lookups in loops).
_SPAN_NS = {window: window.seconds * NS_PER_S for window in Window}
_H1_NS, _H24_NS, _D7_NS = _SPAN_NS[Window.H1], _SPAN_NS[Window.H24], _SPAN_NS[Window.D7]
_CHECKOUT = SubjectKind.CHECKOUT.value
_TOP_UP = SubjectKind.TOP_UP.value
_WITHDRAWAL = SubjectKind.WITHDRAWAL.value
_PAYOUT = SubjectKind.PAYOUT.value
_SUCCEEDED, _DECLINED, _PENDING = Status.SUCCEEDED, Status.DECLINED, Status.PENDING
#: Per observed entity, its velocity features: (count name, amount name, window in ns), for the
#: windows its read covers, shortest first.
_VELOCITY = {
    entity: tuple(
        (f"{entity.value}_orders_{w.value}", f"{entity.value}_amount_{w.value}", _SPAN_NS[w])
        for w in sorted(Window, key=lambda w: w.seconds)
        if w.seconds <= READ_WINDOW[entity].seconds
    )
    for entity in OBSERVED
}


def _velocity(entity: Entity, rows: Sequence[SignalRow], currency: str, now: int) -> dict[str, int]:
    """Counts and sums of the entity's checkouts per window."""
    out: dict[str, int] = {}
    checkouts = [r for r in rows if r.kind == _CHECKOUT]
    for orders, amounts, span in _VELOCITY[entity]:
        since = now - span
        inside = [r for r in checkouts if r.at > since]
        out[orders] = len(inside)
        total = sum([r.amount_minor for r in inside if r.currency == currency])
        out[amounts] = min(total, MAX_INT_FEATURE)  # 64-bit
    return out


def _declines(reads: Reads, obs: Observation, now: int) -> dict[str, FeatureValue]:
    out: dict[str, FeatureValue] = {}
    token_rows = reads.rows.get(Entity.TOKEN)
    if token_rows is not None:
        since = now - _H24_NS
        out["token_declines_24h"] = sum(
            1 for r in token_rows if r.at > since and r.status is _DECLINED
        )
    device_rows = reads.rows.get(Entity.DEVICE)
    if device_rows is not None:
        hour, day = now - _H1_NS, now - _H24_NS
        out["device_declines_1h"] = sum(
            1 for r in device_rows if r.at > hour and r.status is _DECLINED
        )
        tokens = {r.token for r in device_rows if r.at > day and r.token is not None}
        if Entity.TOKEN in obs.keys:
            tokens.add(obs.keys[Entity.TOKEN])
        out["device_tokens_24h"] = len(tokens)
    merchant_rows = reads.rows.get(Entity.MERCHANT)
    if merchant_rows is not None:
        hour = now - _H1_NS
        settled = [r for r in merchant_rows if r.at > hour and r.status is not _PENDING]
        if settled:
            declined = sum(1 for r in settled if r.status is _DECLINED)
            out["merchant_decline_rate_1h"] = declined / len(settled)
    streak_rows = reads.rows.get(Entity.BUYER if Entity.BUYER in obs.keys else Entity.DEVICE)
    if streak_rows is not None:
        streak = 0
        for row in streak_rows:  # newest first: declines since the last success
            if row.status is _SUCCEEDED:
                break
            streak += row.status is _DECLINED
        out["declines_in_a_row"] = streak
    return out


_ACCOUNT_COUNTS = {
    "device_accounts_24h": (Entity.DEVICE, Window.H24),
    "device_accounts_7d": (Entity.DEVICE, Window.D7),
    "ip_accounts_24h": (Entity.IP, Window.H24),
    "address_accounts_7d": (Entity.ADDRESS, Window.D7),
    "token_accounts_7d": (Entity.TOKEN, Window.D7),
}
_FIRST_SEEN = {
    Entity.TOKEN: "card_first_seen_days",
    Entity.DEVICE: "device_first_seen_days",
    Entity.IP: "ip_first_seen_days",
    Entity.ADDRESS: "address_first_seen_days",
}
_NEW_FOR_BUYER = {
    Entity.DEVICE: "device_new_for_buyer",
    Entity.TOKEN: "card_new_for_buyer",
    Entity.ADDRESS: "address_new_for_buyer",
}


def _links(reads: Reads, obs: Observation, now: int) -> dict[str, FeatureValue]:
    out: dict[str, FeatureValue] = {}
    buyer = obs.account if obs.account.startswith("b:") else None
    for name, (entity, window) in _ACCOUNT_COUNTS.items():
        if entity not in obs.keys:
            continue
        since = _since(now, window)
        accounts = {
            link.account
            for link in reads.links.get(entity, [])
            if link.last_at > since and link.account.startswith("b:")
        }
        if buyer is not None:
            accounts.add(buyer)
        out[name] = len(accounts)
    for entity, name in _FIRST_SEEN.items():
        if entity in obs.keys:
            seen = [link.first_at for link in reads.links.get(entity, [])]
            out[name] = max(now - min(seen), 0) // DAY_NS if seen else 0
    if buyer is not None:
        for entity, name in _NEW_FOR_BUYER.items():
            if entity in obs.keys:
                out[name] = all(link.account != buyer for link in reads.links.get(entity, []))
        if Entity.DEVICE in obs.keys or Entity.DEVICE in reads.account_links:
            since = now - _D7_NS
            devices = {
                link.account
                for link in reads.account_links.get(Entity.DEVICE, [])
                if link.last_at > since
            }
            if Entity.DEVICE in obs.keys:
                devices.add(obs.keys[Entity.DEVICE])
            out["buyer_devices_7d"] = len(devices)
    others = {
        link.account
        for entity in (Entity.DEVICE, Entity.ADDRESS, Entity.PAYOUT_ACCOUNT)
        for link in reads.links.get(entity, [])
        if link.account and link.account != obs.account
    }
    if any(entity in obs.keys for entity in (Entity.DEVICE, Entity.ADDRESS, Entity.PAYOUT_ACCOUNT)):
        out["linked_accounts"] = len(others)
    merchant = obs.keys.get(Entity.MERCHANT)
    if merchant is not None and buyer is not None:
        seller = f"m:{merchant}"
        out["self_purchase"] = any(
            link.account == seller
            for entity in (Entity.DEVICE, Entity.ADDRESS, Entity.IP)
            for link in reads.links.get(entity, [])
        )
    if Entity.PAYOUT_ACCOUNT in obs.keys:
        merchants = {
            link.account
            for link in reads.links.get(Entity.PAYOUT_ACCOUNT, [])
            if link.account.startswith("m:")
        }
        if obs.account.startswith("m:"):
            merchants.add(obs.account)
        out["payout_account_merchants"] = len(merchants)
    return out


def _history(amounts: Sequence[int], amount: int) -> dict[str, FeatureValue]:
    out: dict[str, FeatureValue] = {"buyer_paid_orders_90d": len(amounts)}
    if not amounts:
        return out
    out["amount_to_buyer_median"] = amount / statistics.median(amounts)
    if len(amounts) >= 2:
        logs = [math.log(a) for a in amounts]
        mean = math.fsum(logs) / len(logs)
        spread = math.sqrt(math.fsum((x - mean) ** 2 for x in logs) / len(logs))  # population
        if spread > 1e-12:
            out["amount_buyer_zscore"] = (math.log(amount) - mean) / spread
    return out


def _wallet_cycles(rows: Sequence[SignalRow], now: int) -> int:
    """Top-ups in 7 days with a withdrawal of at least 90% of them within the next 24 hours;
    each withdrawal pays off at most one top-up."""
    since = now - _D7_NS
    moves = sorted(
        (r for r in rows if r.at > since and r.status is _SUCCEEDED),
        key=lambda r: r.at,
    )
    top_ups = [r for r in moves if r.kind == _TOP_UP]
    withdrawals = [r for r in moves if r.kind == _WITHDRAWAL]
    used: set[int] = set()
    cycles = 0
    for top_up in top_ups:
        for index, out in enumerate(withdrawals):
            if index in used or out.currency != top_up.currency:
                continue
            if top_up.at <= out.at <= top_up.at + DAY_NS and 10 * out.amount_minor >= (
                9 * top_up.amount_minor
            ):
                used.add(index)
                cycles += 1
                break
    return cycles


def _fund_flow(reads: Reads, obs: Observation, now: int) -> dict[str, FeatureValue]:
    out: dict[str, FeatureValue] = {}
    day = now - _H24_NS
    buyer_rows = reads.rows.get(Entity.BUYER)
    if buyer_rows is not None:
        out["wallet_cycles_7d"] = _wallet_cycles(buyer_rows, now)
        out["credit_purchases_24h"] = sum(
            1
            for r in buyer_rows
            if r.at > day
            and r.kind == _CHECKOUT
            and r.payment_method in CREDIT_METHODS
            and r.status is _SUCCEEDED
        )
        week = now - _D7_NS
        refunds = [r for r in reads.refunds if r.at > week]
        out["buyer_refunds_7d"] = len(refunds)
        out["buyer_refunded_amount_7d"] = min(
            sum(r.amount_minor for r in refunds if r.currency == obs.currency), MAX_INT_FEATURE
        )
    if obs.kind in (_WITHDRAWAL, _PAYOUT):
        owner = Entity.MERCHANT if obs.kind == _PAYOUT else Entity.BUYER
        rows = reads.rows.get(owner, [])
        out["cash_out_after_credit_24h"] = any(
            r.at > day
            and r.kind == _CHECKOUT
            and r.payment_method in CREDIT_METHODS
            and r.status is _SUCCEEDED
            for r in rows
        )
    return out


def features(obs: Observation, reads: Reads) -> dict[str, FeatureValue]:
    """The catalogue's online features for ``obs`` from what the store read before it."""
    values: dict[str, FeatureValue] = {}
    for entity in OBSERVED:
        rows = reads.rows.get(entity)
        if rows is not None and entity in obs.keys:
            values.update(_velocity(entity, rows, obs.currency, obs.at))
    values.update(_declines(reads, obs, obs.at))
    values.update(_links(reads, obs, obs.at))
    if Entity.BUYER in obs.keys and obs.kind == _CHECKOUT:
        values.update(_history(reads.history, obs.amount_minor))
    values.update(_fund_flow(reads, obs, obs.at))
    return values


def with_batch_mates(reads: Reads, obs: Observation, earlier: Sequence[Observation]) -> Reads:
    """``reads`` (what the store holds) as they would read had the ``earlier`` observations of
    the same batch — checked before ``obs`` in one unit of work, not yet recorded — been
    recorded one by one first: each adds its row (pending) to the entities it shares with
    ``obs``, and its links. A batch of checks thus decides exactly as the same checks one after
    another (``tests/risk/test_counters.py`` holds them equal). ``earlier`` is oldest first and
    never later than ``obs``."""
    if not earlier:
        return reads
    rows = {entity: list(signal_rows) for entity, signal_rows in reads.rows.items()}
    for entity, signal_rows in rows.items():
        key = obs.keys[entity]
        since = obs.at - READ_WINDOW[entity].seconds * NS_PER_S
        mates = [
            SignalRow(
                o.at,
                o.kind,
                o.payment_method,
                o.amount_minor,
                o.currency,
                o.status,
                o.keys.get(Entity.TOKEN),
            )  # fmt: skip
            for o in reversed(earlier)
            if o.keys.get(entity) == key and o.at > since
        ]
        if mates:
            rows[entity] = sorted(mates + signal_rows, key=lambda r: -r.at)[: ROWS_READ[entity]]
    links = dict(reads.links)
    for entity, found in reads.links.items():
        key = obs.keys[entity]
        seen = [(o.account, o.at) for o in earlier if o.keys.get(entity) == key]
        if seen:
            links[entity] = _linked(found, seen)
    account_links = dict(reads.account_links)
    devices = reads.account_links.get(Entity.DEVICE)
    if devices is not None:
        seen = [
            (o.keys[Entity.DEVICE], o.at)
            for o in earlier
            if o.account == obs.account and Entity.DEVICE in o.keys
        ]
        if seen:
            account_links[Entity.DEVICE] = _linked(devices, seen)
    return Reads(
        rows,
        list(reads.history),
        links=links,
        account_links=account_links,
        refunds=list(reads.refunds),
    )


class _Desc(str):
    """A string that sorts in reverse (ties of ``last_at`` go by name descending, as read)."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)


def _linked(found: Sequence[LinkRow], seen: Sequence[tuple[str, int]]) -> list[LinkRow]:
    """``found`` with each (name, at) sighting upserted as the links table does it (first
    sighting kept, last moved on), ordered as read: last seen first, then name descending."""
    by_name = {link.account: link for link in found}
    for name, at in seen:
        link = by_name.get(name)
        by_name[name] = (
            LinkRow(name, at, at)
            if link is None
            else LinkRow(name, min(link.first_at, at), max(link.last_at, at))
        )
    ordered = sorted(by_name.values(), key=lambda r: (-r.last_at, _Desc(r.account)))
    return ordered[:MAX_LINKS]
