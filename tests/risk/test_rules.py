"""Rules as versioned data: checked records, action precedence, shadow mode, versions."""

from __future__ import annotations

import pytest
from hypothesis import given

from embedfin.core.errors import InvalidInput, NotFound
from embedfin.risk.decision import Action
from embedfin.risk.features import (
    Feature,
    FeatureCatalogue,
    FeatureFamily,
    FeatureType,
    FeatureVector,
)
from embedfin.risk.rules import Rule, RuleMode, RuleSet
from embedfin.risk.rules_lang import compile_expression
from tests.risk.strategies import feature_vectors, rule_sets, rules


def _rule(
    rule_id: str = "velocity",
    expression: str = "buyer_orders_1h >= 5",
    action: Action = Action.CHALLENGE,
    mode: RuleMode = RuleMode.LIVE,
    version: int = 1,
) -> Rule:
    return Rule(
        rule_id, version, "risk-ops", f"{rule_id}_hit", f"{rule_id} fired", action, expression, mode
    )


def test_a_rule_compiles_its_expression_when_it_is_built() -> None:
    rule = _rule()
    assert rule.compiled.features == ("buyer_orders_1h",)
    assert rule.compiled.matches(FeatureVector({"buyer_orders_1h": 5}).by_name)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("buyer_orders_1h >=", "does not parse"),
        ("velocity_score > 5", "unknown feature 'velocity_score'"),
        ("payment_method > 5", "only numbers are ordered"),
        ("open('/etc/passwd')", "function calls"),
    ],
)
def test_a_bad_expression_is_refused_before_a_rule_exists(expression: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        _rule(expression=expression)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", "Velocity Rule", "rule id"),
        ("id", "", "rule id"),
        ("version", 0, "positive integer"),
        ("version", True, "positive integer"),
        ("owner", "", "blank"),
        ("reason_code", "Velocity-1h", "reason code"),
        ("description", "x\x1b[31m", "control character"),
        ("action", Action.ALLOW, "allow is no rule"),
        ("action", "deny", "not one of allow, challenge, review, block"),
        ("mode", "canary", "not one of live, shadow"),
    ],
)
def test_a_malformed_rule_record_is_refused(field: str, value: object, message: str) -> None:
    record = _rule().to_record() | {field: value}
    with pytest.raises(InvalidInput, match=message):
        Rule.from_record(record)


def test_a_rule_survives_its_stored_record() -> None:
    rule = _rule(mode=RuleMode.SHADOW, action=Action.REVIEW)
    record = rule.to_record()
    assert record["action"] == "review"
    assert record["mode"] == "shadow"
    assert Rule.from_record(record) == rule


def test_a_record_with_unknown_or_missing_fields_is_refused() -> None:
    record = _rule().to_record()
    with pytest.raises(InvalidInput, match=r"unknown fields \['priority'\]"):
        Rule.from_record(record | {"priority": 1})
    del record["expression"]
    with pytest.raises(InvalidInput, match=r"missing fields \['expression'\]"):
        Rule.from_record(record)


def test_a_rule_set_refuses_a_rule_id_twice() -> None:
    with pytest.raises(InvalidInput, match="appear twice in the set: velocity"):
        RuleSet(1, (_rule(), _rule(version=2)))


# --- evaluation ------------------------------------------------------------------------------

RULES = RuleSet(
    7,
    (
        _rule("velocity", "buyer_orders_1h >= 5", Action.CHALLENGE),
        _rule("card_testing", "declines_in_a_row >= 4", Action.BLOCK),
        _rule("geo", "ip_country != shipping_country", Action.REVIEW),
        _rule("new_device", "device_accounts_7d >= 3", Action.BLOCK, RuleMode.SHADOW),
    ),
)


def test_no_hit_allows_with_no_reasons() -> None:
    decision = RULES.decide(FeatureVector({"buyer_orders_1h": 1, "declines_in_a_row": 0}))
    assert decision.action is Action.ALLOW
    assert decision.reasons == ()
    assert decision.live_hits == ()
    assert decision.rule_set_version == 7


@pytest.mark.parametrize(
    ("values", "action"),
    [
        ({"buyer_orders_1h": 5}, Action.CHALLENGE),
        ({"buyer_orders_1h": 5, "ip_country": "NL", "shipping_country": "DE"}, Action.REVIEW),
        ({"buyer_orders_1h": 5, "declines_in_a_row": 4, "ip_country": "NL"}, Action.BLOCK),
        ({"ip_country": "NL", "shipping_country": "DE", "declines_in_a_row": 9}, Action.BLOCK),
    ],
)
def test_the_most_severe_live_hit_decides(values: dict[str, object], action: Action) -> None:
    assert RULES.evaluate(FeatureVector(values)).action is action


def test_reasons_come_most_severe_first_with_the_values_that_fired() -> None:
    vector = FeatureVector(
        {"buyer_orders_1h": 6, "ip_country": "NL", "shipping_country": "DE", "is_guest": True}
    )
    decision = RULES.decide(vector, score=0.4)
    assert [reason.code for reason in decision.reasons] == ["geo_hit", "velocity_hit"]
    assert decision.reasons[0].features == {"ip_country": "NL", "shipping_country": "DE"}
    assert decision.reasons[0].message == "geo fired"
    assert [hit.rule_id for hit in decision.live_hits] == ["velocity", "geo"]  # the set's order
    assert decision.score == 0.4


def test_a_shadow_hit_is_recorded_and_changes_nothing() -> None:
    live, shadow, action = RULES.evaluate(FeatureVector({"device_accounts_7d": 5}))
    assert live == ()
    assert [hit.rule_id for hit in shadow] == ["new_device"]
    assert shadow[0].action is Action.BLOCK
    assert action is Action.ALLOW


def test_missing_features_make_no_hit_and_no_error() -> None:
    assert RULES.evaluate(FeatureVector({})).action is Action.ALLOW
    guests = RuleSet(1, (_rule("young", "not (account_age_days > 30)", Action.REVIEW),))
    assert guests.evaluate(FeatureVector({"is_guest": True})).live_hits == ()


@given(
    live=rules(prefix="live", mode=RuleMode.LIVE),
    shadow=rules(prefix="shadow", mode=RuleMode.SHADOW),
    vector=feature_vectors,
)
def test_shadow_rules_never_change_the_action_or_the_live_hits(
    live: list[Rule], shadow: list[Rule], vector: FeatureVector
) -> None:
    alone = RuleSet(1, tuple(live)).evaluate(vector)
    together = RuleSet(2, tuple(live + shadow)).evaluate(vector)
    assert together.action is alone.action
    assert together.live_hits == alone.live_hits


@given(rule_set=rule_sets, vector=feature_vectors)
def test_the_action_is_the_max_over_exactly_the_live_rules_that_match(
    rule_set: RuleSet, vector: FeatureVector
) -> None:
    live, shadow, action = rule_set.evaluate(vector)
    matching = [r for r in rule_set.rules if compile_expression(r.expression).matches(vector)]
    assert [h.rule_id for h in live] == [r.id for r in matching if r.mode is RuleMode.LIVE]
    assert [h.rule_id for h in shadow] == [r.id for r in matching if r.mode is RuleMode.SHADOW]
    assert action is Action.max(r.action for r in matching if r.mode is RuleMode.LIVE)


# --- versions --------------------------------------------------------------------------------


def test_every_change_is_a_new_version_of_the_set() -> None:
    first = RuleSet(1, (_rule(),))
    added = first.with_rule(_rule("geo", "ip_country != shipping_country"))
    changed = added.with_rule(_rule(expression="buyer_orders_1h >= 8", version=2))
    retired = changed.without_rule("geo")
    assert [s.version for s in (first, added, changed, retired)] == [1, 2, 3, 4]
    assert [r.id for r in added.rules] == ["velocity", "geo"]
    assert changed.rule("velocity").expression == "buyer_orders_1h >= 8"
    assert [r.id for r in retired.rules] == ["velocity"]
    assert first.rules == (_rule(),)  # the old set is untouched


def test_a_changed_rule_needs_a_higher_version() -> None:
    with pytest.raises(InvalidInput, match="needs a higher one"):
        RuleSet(1, (_rule(),)).with_rule(_rule(expression="buyer_orders_1h >= 8"))


def test_promoting_a_shadow_rule_makes_it_live_as_a_new_version() -> None:
    promoted = RULES.promote("new_device")
    rule = promoted.rule("new_device")
    assert (rule.mode, rule.version, promoted.version) == (RuleMode.LIVE, 2, 8)
    assert promoted.evaluate(FeatureVector({"device_accounts_7d": 5})).action is Action.BLOCK
    with pytest.raises(InvalidInput, match="live already"):
        promoted.promote("new_device")


def test_an_unknown_rule_id_is_refused() -> None:
    with pytest.raises(NotFound, match="no rule 'nope' in rule set version 7"):
        RULES.without_rule("nope")


# --- catalogues ------------------------------------------------------------------------------

SMALL = FeatureCatalogue(
    [Feature("buyer_orders_1h", FeatureType.STR, "code", "a test feature", FeatureFamily.REQUEST)]
)


def test_a_rule_is_checked_against_its_own_catalogue() -> None:
    with pytest.raises(InvalidInput, match="only numbers are ordered"):
        Rule("x", 1, "risk-ops", "x", "test", Action.BLOCK, "buyer_orders_1h > 5", catalogue=SMALL)
    rule = Rule(
        "x", 1, "risk-ops", "x", "test", Action.BLOCK, "buyer_orders_1h == 'a'", catalogue=SMALL
    )
    assert RuleSet(1, (rule,)).evaluate(FeatureVector({"buyer_orders_1h": "a"}, SMALL)).action is (
        Action.BLOCK
    )


def test_a_vector_from_another_catalogue_is_refused_not_misread() -> None:
    """Same name, other type: the compiled comparison would meet a str where it expects a
    number, so the set refuses the vector up front instead of failing mid-check."""
    with pytest.raises(InvalidInput, match="another catalogue"):
        RULES.evaluate(FeatureVector({"buyer_orders_1h": "5"}, SMALL))


def test_a_rule_set_does_not_mix_catalogues() -> None:
    other = Rule(
        "x", 1, "risk-ops", "x", "test", Action.BLOCK, "buyer_orders_1h == 'a'", catalogue=SMALL
    )
    with pytest.raises(InvalidInput, match="one feature catalogue"):
        RuleSet(1, (_rule(), other))
