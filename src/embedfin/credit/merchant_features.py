"""Merchant features (for merchant credit and for the risk of the orders a merchant sells),
point-in-time, computed online and in batch like the buyer features.

=========================  ==============================================================
feature                    meaning
=========================  ==============================================================
tenure_days                days since the merchant's first sale
sales_30d                  orders paid in the last 30 days
sales_velocity_30d         minor units paid per day over the last 30 days
refund_rate                refunds ÷ paid orders, all time
dispute_rate               disputes ÷ paid orders, all time
fulfilment_hours           mean hours from payment to shipment, all time (0 before any)
days_since_last_sale       days since the last paid order (9999 without one)
reviews                    reviews received, all time
avg_rating                 mean rating of those reviews (0 without any)
=========================  ==============================================================

Inventory turnover joins when inventory lands (the supply-chain finance issue).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from embedfin.core.errors import InvalidInput
from embedfin.credit.features import DAY_NS, NO_ORDER_DAYS

WINDOW_NS = 30 * DAY_NS
KINDS = ("sale", "refund", "dispute", "shipped", "review")


@dataclass(frozen=True, slots=True)
class MerchantEvent:
    merchant_id: str
    kind: str
    at_ns: int
    amount_minor: int = 0
    fulfilment_s: int = 0


@dataclass(frozen=True, slots=True)
class MerchantFeatures:
    tenure_days: int
    sales_30d: int
    sales_velocity_30d: float
    refund_rate: float
    dispute_rate: float
    fulfilment_hours: float
    days_since_last_sale: int
    reviews: int
    avg_rating: float


def merchant_event(event_type: str, payload: Mapping[str, Any], at_ns: int) -> MerchantEvent | None:
    merchant = payload.get("merchant_id")
    if not merchant:
        return None
    if event_type == "order_paid":
        return MerchantEvent(str(merchant), "sale", at_ns, int(payload.get("amount_minor", 0)))
    if event_type == "refunded":
        return MerchantEvent(str(merchant), "refund", at_ns)
    if event_type == "dispute_opened":
        return MerchantEvent(str(merchant), "dispute", at_ns)
    if event_type == "review_posted":
        return MerchantEvent(str(merchant), "review", at_ns, int(payload.get("rating", 0)))
    if event_type == "shipped":
        return MerchantEvent(
            str(merchant), "shipped", at_ns, fulfilment_s=int(payload.get("fulfilment_s", 0))
        )
    return None


def _ratio(a: int, b: int) -> float:
    return round(a / b, 6) if b else 0.0


@dataclass
class MerchantState:
    first_sale_ns: int | None = None
    last_sale_ns: int | None = None
    last_ns: int = 0
    sales: int = 0
    refunds: int = 0
    disputes: int = 0
    shipped: int = 0
    fulfilment_s: int = 0
    reviews: int = 0
    rating_sum: int = 0
    recent: deque[tuple[int, int]] = field(default_factory=deque)

    def apply(self, e: MerchantEvent) -> None:
        if e.at_ns < self.last_ns:
            raise InvalidInput("events must arrive in time order for one merchant")
        if e.kind not in KINDS:
            raise InvalidInput(f"unknown merchant event kind {e.kind!r}")
        self.last_ns = e.at_ns
        if e.kind == "sale":
            self.sales += 1
            self.first_sale_ns = self.first_sale_ns if self.first_sale_ns is not None else e.at_ns
            self.last_sale_ns = e.at_ns
            self.recent.append((e.at_ns, e.amount_minor))
        elif e.kind == "refund":
            self.refunds += 1
        elif e.kind == "dispute":
            self.disputes += 1
        elif e.kind == "review":
            self.reviews += 1
            self.rating_sum += e.amount_minor
        else:
            self.shipped += 1
            self.fulfilment_s += e.fulfilment_s

    def features(self, as_of_ns: int) -> MerchantFeatures:
        if as_of_ns < self.last_ns:
            raise InvalidInput("features cannot be read before the last event applied")
        while self.recent and self.recent[0][0] <= as_of_ns - WINDOW_NS:
            self.recent.popleft()
        return MerchantFeatures(
            tenure_days=0
            if self.first_sale_ns is None
            else (as_of_ns - self.first_sale_ns) // DAY_NS,
            sales_30d=len(self.recent),
            sales_velocity_30d=round(sum(a for _, a in self.recent) / 30, 4),
            refund_rate=_ratio(self.refunds, self.sales),
            dispute_rate=_ratio(self.disputes, self.sales),
            fulfilment_hours=round(self.fulfilment_s / self.shipped / 3600, 4)
            if self.shipped
            else 0.0,
            days_since_last_sale=NO_ORDER_DAYS
            if self.last_sale_ns is None
            else (as_of_ns - self.last_sale_ns) // DAY_NS,
            reviews=self.reviews,
            avg_rating=round(self.rating_sum / self.reviews, 4) if self.reviews else 0.0,
        )


def online_merchant_features(
    events: Iterable[MerchantEvent], as_of_ns: int
) -> dict[str, MerchantFeatures]:
    states: dict[str, MerchantState] = {}
    for e in sorted(events, key=lambda e: e.at_ns):
        if e.at_ns <= as_of_ns:
            states.setdefault(e.merchant_id, MerchantState()).apply(e)
    return {m: s.features(as_of_ns) for m, s in states.items()}


def batch_merchant_features(
    events: Sequence[MerchantEvent], as_of_ns: int
) -> dict[str, MerchantFeatures]:
    frame = pd.DataFrame([asdict(e) for e in events], columns=list(MerchantEvent.__slots__))
    frame = frame[frame["at_ns"] <= as_of_ns]
    if frame.empty:
        return {}
    counts = frame.pivot_table(
        index="merchant_id", columns="kind", values="at_ns", aggfunc="count", fill_value=0
    ).reindex(columns=list(KINDS), fill_value=0)
    sales = frame[frame["kind"] == "sale"]
    first_sale = sales.groupby("merchant_id")["at_ns"].min()
    last_sale = sales.groupby("merchant_id")["at_ns"].max()
    recent = sales[sales["at_ns"] > as_of_ns - WINDOW_NS].groupby("merchant_id")["amount_minor"]
    recent_count, recent_sum = recent.size(), recent.sum()
    shipped_s = frame[frame["kind"] == "shipped"].groupby("merchant_id")["fulfilment_s"].sum()
    ratings = frame[frame["kind"] == "review"].groupby("merchant_id")["amount_minor"].sum()
    out = {}
    for merchant in counts.index:
        n_sales, n_shipped = int(counts.at[merchant, "sale"]), int(counts.at[merchant, "shipped"])
        out[str(merchant)] = MerchantFeatures(
            tenure_days=0
            if merchant not in first_sale.index
            else int((as_of_ns - int(first_sale[merchant])) // DAY_NS),
            sales_30d=int(recent_count.get(merchant, 0)),
            sales_velocity_30d=round(int(recent_sum.get(merchant, 0)) / 30, 4),
            refund_rate=_ratio(int(counts.at[merchant, "refund"]), n_sales),
            dispute_rate=_ratio(int(counts.at[merchant, "dispute"]), n_sales),
            fulfilment_hours=round(int(shipped_s.get(merchant, 0)) / n_shipped / 3600, 4)
            if n_shipped
            else 0.0,
            days_since_last_sale=NO_ORDER_DAYS
            if merchant not in last_sale.index
            else int((as_of_ns - int(last_sale[merchant])) // DAY_NS),
            reviews=int(counts.at[merchant, "review"]),
            avg_rating=round(int(ratings.get(merchant, 0)) / int(counts.at[merchant, "review"]), 4)
            if int(counts.at[merchant, "review"])
            else 0.0,
        )
    return out
