"""Buyer features from commerce events, point-in-time correct, computed two ways.

``FeatureEvent`` is the normalised form of the outbox events credit cares about (``from_event``
maps them). Features at time ``as_of`` use only events that happened at or before ``as_of`` —
a decision never sees the future. Two independent implementations must agree to the unit:

* **online** (``BuyerState``): one buyer's running state, updated event by event as they arrive
  (the decision path; windows kept as short deques);
* **batch** (``batch_features``): every buyer at once from a table of events with pandas
  group-bys (``embedfin credit features``, pre-approvals, training sets).

=========================  ==============================================================
feature                    meaning
=========================  ==============================================================
tenure_days                days since the buyer's first event
orders_90d                 orders placed in the last 90 days
gmv_90d                    minor units paid for orders in the last 90 days
categories_90d             distinct merchant categories ordered from in the last 90 days
refund_rate                refunds ÷ paid orders, all time (0 without orders)
dispute_rate               disputes ÷ paid orders, all time
on_time_rate               installments repaid on time ÷ installments due, all time (1 when
                           nothing was due yet: no history is not bad history)
wallet_inflow_90d          minor units topped up in the last 90 days
days_since_last_order      days since the last order (9999 without one)
=========================  ==============================================================
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from embedfin.core.clock import NS_PER_SECOND
from embedfin.core.errors import InvalidInput

DAY_NS = 86_400 * NS_PER_SECOND
WINDOW_NS = 90 * DAY_NS
NO_ORDER_DAYS = 9_999
KINDS = ("order", "paid", "refund", "dispute", "topup", "installment")


@dataclass(frozen=True, slots=True)
class FeatureEvent:
    """kind: order (placed), paid, refund, dispute, topup, installment (due; ``on_time``)."""

    buyer_id: str
    kind: str
    at_ns: int
    amount_minor: int = 0
    category: str = ""
    on_time: bool = True


@dataclass(frozen=True, slots=True)
class BuyerFeatures:
    tenure_days: int
    orders_90d: int
    gmv_90d: int
    categories_90d: int
    refund_rate: float
    dispute_rate: float
    on_time_rate: float
    wallet_inflow_90d: int
    days_since_last_order: int

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> BuyerFeatures:
        """From a row of a features table (numbers of any numeric type)."""
        values: dict[str, Any] = {
            n: float(row[n]) if n in _RATES else int(row[n]) for n in cls.__dataclass_fields__
        }
        return cls(**values)


_RATES = frozenset({"refund_rate", "dispute_rate", "on_time_rate"})


FEATURES = tuple(BuyerFeatures.__dataclass_fields__)


#: The outbox event types credit features are made of (``from_event`` ignores the rest).
FEATURE_EVENT_TYPES = frozenset(
    {
        "order_placed",
        "order_paid",
        "refunded",
        "dispute_opened",
        "wallet_topped_up",
        "installment_due",
    }
)


def from_event(event_type: str, payload: Mapping[str, Any], at_ns: int) -> FeatureEvent | None:
    """Map an outbox event to a feature event (None when credit does not use it)."""
    buyer = payload.get("buyer_id")
    if not buyer and payload.get("owner_kind") == "buyer":  # wallet events name the owner
        buyer = payload.get("owner_id")
    if not buyer:
        return None
    amount = int(payload.get("amount_minor", 0) or 0)
    mapping = {
        "order_placed": ("order", amount),
        "order_paid": ("paid", amount),
        "refunded": ("refund", amount),
        "dispute_opened": ("dispute", 0),
        "wallet_topped_up": ("topup", amount),
    }
    if event_type in mapping:
        kind, value = mapping[event_type]
        return FeatureEvent(str(buyer), kind, at_ns, value, str(payload.get("category", "")))
    if event_type == "installment_due":
        return FeatureEvent(str(buyer), "installment", at_ns, on_time=bool(payload["on_time"]))
    return None


def _ratio(numerator: int, denominator: int, empty: float) -> float:
    return round(numerator / denominator, 6) if denominator else empty


@dataclass
class BuyerState:
    """One buyer's online state: apply events in time order, read features at any later time."""

    first_ns: int | None = None
    last_ns: int = 0
    last_order_ns: int | None = None
    paid: int = 0
    refunds: int = 0
    disputes: int = 0
    due: int = 0
    on_time: int = 0
    orders: deque[tuple[int, str]] = field(default_factory=deque)
    payments: deque[tuple[int, int]] = field(default_factory=deque)
    topups: deque[tuple[int, int]] = field(default_factory=deque)

    def apply(self, event: FeatureEvent) -> None:
        if event.at_ns < self.last_ns:
            raise InvalidInput("events must arrive in time order for one buyer")
        if event.kind not in KINDS:
            raise InvalidInput(f"unknown feature event kind {event.kind!r}")
        self.last_ns = event.at_ns
        if self.first_ns is None:
            self.first_ns = event.at_ns
        if event.kind == "order":
            self.orders.append((event.at_ns, event.category))
            self.last_order_ns = event.at_ns
        elif event.kind == "paid":
            self.paid += 1
            self.payments.append((event.at_ns, event.amount_minor))
        elif event.kind == "refund":
            self.refunds += 1
        elif event.kind == "dispute":
            self.disputes += 1
        elif event.kind == "topup":
            self.topups.append((event.at_ns, event.amount_minor))
        else:
            self.due += 1
            self.on_time += int(event.on_time)

    def features(self, as_of_ns: int) -> BuyerFeatures:
        if as_of_ns < self.last_ns:
            raise InvalidInput("features cannot be read before the last event applied")
        start = as_of_ns - WINDOW_NS
        for window in (self.orders, self.payments, self.topups):
            while window and window[0][0] <= start:
                window.popleft()
        return BuyerFeatures(
            tenure_days=0 if self.first_ns is None else (as_of_ns - self.first_ns) // DAY_NS,
            orders_90d=len(self.orders),
            gmv_90d=sum(amount for _, amount in self.payments),
            categories_90d=len({c for _, c in self.orders if c}),
            refund_rate=_ratio(self.refunds, self.paid, 0.0),
            dispute_rate=_ratio(self.disputes, self.paid, 0.0),
            on_time_rate=_ratio(self.on_time, self.due, 1.0),
            wallet_inflow_90d=sum(amount for _, amount in self.topups),
            days_since_last_order=NO_ORDER_DAYS
            if self.last_order_ns is None
            else (as_of_ns - self.last_order_ns) // DAY_NS,
        )


def online_features(events: Iterable[FeatureEvent], as_of_ns: int) -> dict[str, BuyerFeatures]:
    """Replay through ``BuyerState`` (what the online path holds after these events)."""
    states: dict[str, BuyerState] = {}
    for event in sorted(events, key=lambda e: e.at_ns):
        if event.at_ns <= as_of_ns:
            states.setdefault(event.buyer_id, BuyerState()).apply(event)
    return {buyer: state.features(as_of_ns) for buyer, state in states.items()}


def batch_features(events: Sequence[FeatureEvent], as_of_ns: int) -> dict[str, BuyerFeatures]:
    """Every buyer's features with pandas group-bys over the events up to ``as_of_ns``."""
    frame = pd.DataFrame([asdict(e) for e in events], columns=list(FeatureEvent.__slots__))
    frame = frame[frame["at_ns"] <= as_of_ns]
    if frame.empty:
        return {}
    recent = frame[frame["at_ns"] > as_of_ns - WINDOW_NS]
    by_buyer = frame.groupby("buyer_id")
    counts = frame.pivot_table(
        index="buyer_id", columns="kind", values="at_ns", aggfunc="count", fill_value=0
    ).reindex(columns=list(KINDS), fill_value=0)
    on_time = frame[frame["kind"] == "installment"].groupby("buyer_id")["on_time"].sum()
    first = by_buyer["at_ns"].min()
    last_order = frame[frame["kind"] == "order"].groupby("buyer_id")["at_ns"].max()
    orders_90 = recent[recent["kind"] == "order"]
    orders_count = orders_90.groupby("buyer_id").size()
    categories = orders_90[orders_90["category"] != ""].groupby("buyer_id")["category"].nunique()
    gmv = recent[recent["kind"] == "paid"].groupby("buyer_id")["amount_minor"].sum()
    inflow = recent[recent["kind"] == "topup"].groupby("buyer_id")["amount_minor"].sum()
    out = {}
    for buyer in first.index:
        paid, due = int(counts.at[buyer, "paid"]), int(counts.at[buyer, "installment"])
        out[str(buyer)] = BuyerFeatures(
            tenure_days=int((as_of_ns - int(first[buyer])) // DAY_NS),
            orders_90d=int(orders_count.get(buyer, 0)),
            gmv_90d=int(gmv.get(buyer, 0)),
            categories_90d=int(categories.get(buyer, 0)),
            refund_rate=_ratio(int(counts.at[buyer, "refund"]), paid, 0.0),
            dispute_rate=_ratio(int(counts.at[buyer, "dispute"]), paid, 0.0),
            on_time_rate=_ratio(int(on_time.get(buyer, 0)), due, 1.0),
            wallet_inflow_90d=int(inflow.get(buyer, 0)),
            days_since_last_order=NO_ORDER_DAYS
            if buyer not in last_order.index
            else int((as_of_ns - int(last_order[buyer])) // DAY_NS),
        )
    return out
