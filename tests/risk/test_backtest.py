"""The backtest: hand-computed figures on a small history, and equality with online replay."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import CurrencyMismatch, InvalidAmount, InvalidInput
from embedfin.risk.backtest import HistoryRow, Label, backtest
from embedfin.risk.decision import Action
from embedfin.risk.features import (
    Feature,
    FeatureCatalogue,
    FeatureFamily,
    FeatureType,
    FeatureVector,
)
from embedfin.risk.rules import Rule, RuleMode, RuleSet
from tests.risk.strategies import history_rows, rule_sets

RULES = RuleSet(
    4,
    (
        Rule("velocity", 1, "risk-ops", "velocity_buyer_1h", "many orders in an hour",
             Action.CHALLENGE, "buyer_orders_1h >= 5"),
        Rule("shared_device", 2, "risk-ops", "shared_device", "one device, many accounts",
             Action.BLOCK, "device_accounts_7d >= 3"),
        Rule("new_card_big", 1, "risk-ops", "new_card_large_amount", "large on a new card",
             Action.REVIEW, "card_first_seen_days < 1 and amount_minor > 50000", RuleMode.SHADOW),
    ),
)  # fmt: skip


def _row(label: Label, amount: int, **features: object) -> HistoryRow:
    """A EUR row whose ``amount_minor`` feature is its amount, as a stored check's would be."""
    return HistoryRow(FeatureVector({"amount_minor": amount, **features}), amount, "EUR", label)


F, G, U = Label.FRAUD, Label.GOOD, Label.UNKNOWN
HISTORY = [
    _row(F, 10_000, buyer_orders_1h=6, device_accounts_7d=4),  # 1 velocity + device: block
    _row(F, 60_000, buyer_orders_1h=1, card_first_seen_days=0),  # 2 shadow
    _row(F, 5_000, buyer_orders_1h=5),  # 3 velocity: challenge
    _row(G, 2_000, buyer_orders_1h=7),  # 4 velocity: challenge
    _row(G, 3_000, device_accounts_7d=3),  # 5 device: block
    _row(G, 70_000, card_first_seen_days=0),  # 6 shadow
    _row(G, 1_000),  # 7 nothing
    _row(U, 4_000, buyer_orders_1h=9, device_accounts_7d=1),  # 8 velocity: challenge
    _row(G, 8_000, buyer_orders_1h=2, card_first_seen_days=30),  # 9 nothing
    _row(F, 20_000),  # 10 fraud with no features at all: nothing fires
]


def test_per_rule_figures_match_the_hand_count() -> None:
    velocity, device, new_card = backtest(RULES, HISTORY).rules
    # velocity hits rows 1, 3, 4, 8: fraud 1 and 3, good 4, unknown 8
    assert (velocity.hits, velocity.fraud_hits, velocity.good_hits, velocity.unknown_hits) == (
        4, 2, 1, 1,
    )  # fmt: skip
    assert velocity.hit_rate == pytest.approx(4 / 10)
    assert velocity.precision == pytest.approx(2 / 3)  # the unknown row is left out
    assert velocity.recall == pytest.approx(2 / 4)
    assert velocity.fraud_value_caught_minor == 10_000 + 5_000
    assert velocity.friction_rate == pytest.approx(1 / 5)
    # shared_device hits rows 1 (fraud) and 5 (good)
    assert (device.hits, device.precision, device.recall) == (2, 0.5, 0.25)
    assert (device.fraud_value_caught_minor, device.rule_version) == (10_000, 2)
    # the shadow rule hits rows 2 (fraud, 60,000) and 6 (good)
    assert (new_card.mode, new_card.hits, new_card.recall) == (RuleMode.SHADOW, 2, 0.25)
    assert new_card.fraud_value_caught_minor == 60_000
    assert new_card.friction_rate == pytest.approx(1 / 5)


def test_overall_live_figures_match_the_hand_count() -> None:
    live = backtest(RULES, HISTORY).live
    assert (live.rows, live.fraud_rows, live.good_rows, live.unknown_rows) == (10, 4, 5, 1)
    assert dict(live.actions) == {
        Action.ALLOW: 5,  # rows 2, 6, 7, 9, 10
        Action.CHALLENGE: 3,  # rows 3, 4, 8
        Action.REVIEW: 0,
        Action.BLOCK: 2,  # rows 1, 5
    }
    assert (live.stopped, live.hit_rate) == (5, 0.5)
    assert live.precision == pytest.approx(2 / 4)  # stopped: fraud 1, 3; good 4, 5
    assert live.recall == pytest.approx(2 / 4)
    assert live.fraud_value_minor == 10_000 + 60_000 + 5_000 + 20_000
    assert live.fraud_value_caught_minor == 15_000
    assert live.value_recall == pytest.approx(15_000 / 95_000)
    assert (live.good_challenged, live.good_reviewed, live.good_blocked) == (1, 0, 1)
    assert live.friction_rate == pytest.approx(2 / 5)


def test_overall_with_shadow_shows_what_promotion_would_change() -> None:
    with_shadow = backtest(RULES, HISTORY).with_shadow
    assert dict(with_shadow.actions) == {
        Action.ALLOW: 3,
        Action.CHALLENGE: 3,
        Action.REVIEW: 2,  # rows 2 and 6
        Action.BLOCK: 2,
    }
    assert with_shadow.recall == pytest.approx(3 / 4)
    assert with_shadow.fraud_value_caught_minor == 75_000
    assert (with_shadow.good_challenged, with_shadow.good_reviewed) == (1, 1)
    assert with_shadow.friction_rate == pytest.approx(2 / 5)  # a review is not friction


def test_row_outcomes_name_the_rules_that_fired() -> None:
    report = backtest(RULES, HISTORY)
    first, second = report.outcomes[:2]
    assert first.live_rule_ids == ("velocity", "shared_device")
    assert (first.action, first.action_with_shadow) == (Action.BLOCK, Action.BLOCK)
    assert (second.live_rule_ids, second.shadow_rule_ids) == ((), ("new_card_big",))
    assert (second.action, second.action_with_shadow) == (Action.ALLOW, Action.REVIEW)
    assert (report.rule_set_version, report.currency) == (4, "EUR")


def test_rates_without_a_denominator_are_none() -> None:
    report = backtest(RULES, [_row(U, 100, buyer_orders_1h=9)])
    velocity = report.rules[0]
    assert (velocity.precision, velocity.recall, velocity.friction_rate) == (None, None, None)
    assert report.live.value_recall is None


def test_an_empty_history_is_refused() -> None:
    with pytest.raises(InvalidInput, match="history is empty"):
        backtest(RULES, [])


def test_a_history_checked_against_another_catalogue_is_refused() -> None:
    small = FeatureCatalogue(
        [Feature("buyer_orders_1h", FeatureType.STR, "code", "a feature", FeatureFamily.REQUEST)]
    )
    row = HistoryRow(FeatureVector({"buyer_orders_1h": "9"}, small), 100, "EUR", Label.GOOD)
    with pytest.raises(InvalidInput, match="another catalogue"):
        backtest(RULES, [row])


def test_a_history_mixing_currencies_is_refused() -> None:
    dollars = HistoryRow(FeatureVector({}), 100, "usd", Label.GOOD)
    with pytest.raises(CurrencyMismatch, match="EUR', 'USD"):
        backtest(RULES, [*HISTORY, dollars])


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"amount_minor": -1}, InvalidAmount, "out of range"),
        ({"amount_minor": 1.5}, InvalidAmount, "must be an int"),
        ({"label": "chargeback"}, InvalidInput, "not fraud, good or unknown"),
        ({"features": {"buyer_orders_1h": 1}}, InvalidInput, "FeatureVector"),
    ],
)
def test_a_malformed_history_row_is_refused(
    changes: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        dataclasses.replace(HISTORY[0], **changes)  # type: ignore[arg-type]


@given(rule_set=rule_sets, rows=st.lists(history_rows, min_size=1, max_size=25))
def test_the_backtest_equals_replaying_the_rules_online_row_by_row(
    rule_set: RuleSet, rows: list[HistoryRow]
) -> None:
    """The issue's property: a backtest over stored history decides every row exactly as the
    online check would, live and shadow hits included, and promoting the shadow rules gives
    the backtest's 'with shadow' action."""
    report = backtest(rule_set, rows)
    promoted = RuleSet(
        rule_set.version,
        tuple(dataclasses.replace(rule, mode=RuleMode.LIVE) for rule in rule_set.rules),
    )
    for row, outcome in zip(rows, report.outcomes, strict=True):
        online = rule_set.evaluate(row.features)
        assert outcome.live_rule_ids == tuple(hit.rule_id for hit in online.live_hits)
        assert outcome.shadow_rule_ids == tuple(hit.rule_id for hit in online.shadow_hits)
        assert outcome.action is online.action
        assert outcome.action_with_shadow is promoted.evaluate(row.features).action


@given(rule_set=rule_sets, rows=st.lists(history_rows, min_size=1, max_size=25))
def test_fraud_value_caught_adds_up_in_minor_units(
    rule_set: RuleSet, rows: list[HistoryRow]
) -> None:
    report = backtest(rule_set, rows)
    fraud = [row for row in rows if row.label is Label.FRAUD]
    assert report.live.fraud_value_minor == sum(row.amount_minor for row in fraud)
    for overall, attribute in ((report.live, "action"), (report.with_shadow, "action_with_shadow")):
        stopped = [
            row.amount_minor
            for row, outcome in zip(rows, report.outcomes, strict=True)
            if row.label is Label.FRAUD and getattr(outcome, attribute) is not Action.ALLOW
        ]
        assert overall.fraud_value_caught_minor == sum(stopped)
        assert 0 <= overall.fraud_value_caught_minor <= overall.fraud_value_minor
        assert sum(overall.actions.values()) == len(rows)
    for figures in report.rules:
        # a live rule's catch is part of the live catch; any rule's is part of the shadow one
        if figures.mode is RuleMode.LIVE:
            assert figures.fraud_value_caught_minor <= report.live.fraud_value_caught_minor
        assert figures.fraud_value_caught_minor <= report.with_shadow.fraud_value_caught_minor
