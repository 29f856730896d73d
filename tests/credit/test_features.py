"""Features: online (incremental) and batch (pandas) agree; no leakage from the future."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedfin.core.errors import InvalidInput
from embedfin.credit.features import (
    DAY_NS,
    NO_ORDER_DAYS,
    BuyerState,
    FeatureEvent,
    batch_features,
    from_event,
    online_features,
)

T0 = 1_767_225_600 * 10**9

events_strategy = st.lists(
    st.builds(
        FeatureEvent,
        buyer_id=st.sampled_from(["a", "b", "c"]),
        kind=st.sampled_from(["order", "paid", "refund", "dispute", "topup", "installment"]),
        at_ns=st.integers(T0, T0 + 400 * DAY_NS),
        amount_minor=st.integers(0, 10**7),
        category=st.sampled_from(["", "books", "toys", "electronics"]),
        on_time=st.booleans(),
    ),
    max_size=60,
)


@settings(max_examples=150)
@given(events=events_strategy, offset_days=st.integers(0, 500))
def test_batch_and_online_agree(events: list[FeatureEvent], offset_days: int) -> None:
    as_of = T0 + offset_days * DAY_NS
    assert batch_features(events, as_of) == online_features(events, as_of)


@settings(max_examples=100)
@given(events=events_strategy, cut_days=st.integers(0, 400), late=events_strategy)
def test_no_feature_sees_an_event_after_the_decision(
    events: list[FeatureEvent], cut_days: int, late: list[FeatureEvent]
) -> None:
    decided_at = T0 + cut_days * DAY_NS
    before = batch_features(events, decided_at)
    future = [e for e in late if e.at_ns > decided_at]
    assert batch_features([*events, *future], decided_at) == before
    assert online_features([*events, *future], decided_at) == before


def test_a_buyer_with_history() -> None:
    events = [
        FeatureEvent("a", "topup", T0, 50_000),
        FeatureEvent("a", "order", T0 + DAY_NS, category="books"),
        FeatureEvent("a", "paid", T0 + DAY_NS, 2_000),
        FeatureEvent("a", "order", T0 + 100 * DAY_NS, category="toys"),
        FeatureEvent("a", "paid", T0 + 100 * DAY_NS, 3_000),
        FeatureEvent("a", "refund", T0 + 101 * DAY_NS, 3_000),
        FeatureEvent("a", "installment", T0 + 120 * DAY_NS, on_time=True),
        FeatureEvent("a", "installment", T0 + 150 * DAY_NS, on_time=False),
    ]
    f = online_features(events, T0 + 160 * DAY_NS)["a"]
    assert (f.tenure_days, f.orders_90d, f.gmv_90d, f.categories_90d) == (160, 1, 3_000, 1)
    assert (f.refund_rate, f.on_time_rate, f.wallet_inflow_90d) == (0.5, 0.5, 0)
    assert f.days_since_last_order == 60
    fresh = online_features([FeatureEvent("n", "topup", T0, 100)], T0)["n"]
    assert (fresh.on_time_rate, fresh.days_since_last_order) == (1.0, NO_ORDER_DAYS)


def test_events_map_from_the_outbox_and_order_is_enforced() -> None:
    placed = from_event("order_placed", {"buyer_id": "a", "amount_minor": 10}, T0)
    assert placed == FeatureEvent("a", "order", T0, 10)
    assert from_event("shipped", {"buyer_id": "a"}, T0) is None
    assert from_event("merchant_registered", {}, T0) is None
    state = BuyerState()
    state.apply(FeatureEvent("a", "order", T0 + 10))
    with pytest.raises(InvalidInput):
        state.apply(FeatureEvent("a", "order", T0))
    with pytest.raises(InvalidInput):
        state.features(T0)
