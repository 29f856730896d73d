"""Merchant features: online and batch agree; the future never leaks; mapped from events."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from embedfin.credit.features import DAY_NS
from embedfin.credit.merchant_features import (
    MerchantEvent,
    batch_merchant_features,
    merchant_event,
    online_merchant_features,
)

T0 = 1_767_225_600 * 10**9

events = st.lists(
    st.builds(
        MerchantEvent,
        merchant_id=st.sampled_from(["m1", "m2"]),
        kind=st.sampled_from(["sale", "refund", "dispute", "shipped", "review"]),
        at_ns=st.integers(T0, T0 + 120 * DAY_NS),
        amount_minor=st.integers(0, 10**7),
        fulfilment_s=st.integers(0, 10 * 86_400),
    ),
    max_size=50,
)


@settings(max_examples=150)
@given(history=events, offset_days=st.integers(0, 150), late=events)
def test_batch_and_online_agree_and_nothing_leaks(
    history: list[MerchantEvent], offset_days: int, late: list[MerchantEvent]
) -> None:
    as_of = T0 + offset_days * DAY_NS
    online = online_merchant_features(history, as_of)
    assert batch_merchant_features(history, as_of) == online
    future = [e for e in late if e.at_ns > as_of]
    assert batch_merchant_features([*history, *future], as_of) == online


def test_events_carry_the_merchant() -> None:
    paid = merchant_event("order_paid", {"merchant_id": "m1", "amount_minor": 500}, T0)
    assert paid == MerchantEvent("m1", "sale", T0, 500)
    shipped = merchant_event("shipped", {"merchant_id": "m1", "fulfilment_s": 7200}, T0)
    assert shipped is not None
    assert shipped.fulfilment_s == 7200
    assert paid is not None
    features = online_merchant_features([paid, shipped], T0 + DAY_NS)["m1"]
    assert (features.sales_30d, features.fulfilment_hours) == (1, 2.0)
    assert merchant_event("order_paid", {"buyer_id": "b"}, T0) is None
    review = merchant_event("review_posted", {"merchant_id": "m1", "rating": 4}, T0 + 10)
    assert review is not None
    rated = online_merchant_features([paid, shipped, review], T0 + DAY_NS)["m1"]
    assert (rated.reviews, rated.avg_rating) == (1, 4.0)
