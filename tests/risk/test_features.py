"""The feature catalogue and the checked feature vector."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from embedfin.core.errors import InvalidInput
from embedfin.risk.decision import RiskSubject
from embedfin.risk.features import (
    CATALOGUE,
    Entity,
    Feature,
    FeatureCatalogue,
    FeatureFamily,
    FeatureType,
    FeatureVector,
    Window,
)
from embedfin.risk.signals import Observation, Reads, features
from tests.risk.strategies import observed_reads


@pytest.mark.parametrize(
    "name",
    [
        "buyer_orders_1h",
        "device_accounts_7d",
        "amount_to_buyer_median",
        "amount_buyer_zscore",
        "declines_in_a_row",
        "account_age_days",
        "card_first_seen_days",
        "cash_out_after_credit_24h",
        "wallet_cycles_7d",
        "ip_country",
        "shipping_country",
        "payment_method",
    ],
)
def test_the_catalogue_names_the_issues_features(name: str) -> None:
    assert name in CATALOGUE


def test_velocity_covers_every_entity_and_window() -> None:
    velocity = [f for f in CATALOGUE.values() if f.family is FeatureFamily.VELOCITY]
    keyed = {(f.entity, f.window) for f in velocity}
    entities = {Entity.BUYER, Entity.TOKEN, Entity.DEVICE, Entity.IP, Entity.ADDRESS}
    assert keyed == {(e, w) for e in entities | {Entity.MERCHANT} for w in Window}
    assert all(f.type is FeatureType.INT for f in velocity)


def test_every_family_has_features_and_every_feature_says_what_it_is() -> None:
    assert {f.family for f in CATALOGUE.values()} == set(FeatureFamily)
    for feature in CATALOGUE.values():
        assert feature.unit, feature.name
        assert len(feature.description) > 10, feature.name


def test_windows_know_their_length() -> None:
    assert [w.seconds for w in Window] == [3_600, 86_400, 604_800]


def test_a_catalogue_refuses_a_name_twice() -> None:
    twice = Feature("x", FeatureType.INT, "count", "a test feature", FeatureFamily.REQUEST)
    with pytest.raises(InvalidInput, match="declared twice"):
        FeatureCatalogue([twice, twice])


@pytest.mark.parametrize("name", ["not", "1h_orders", "buyer-orders", "a b", ""])
def test_a_feature_name_is_a_plain_identifier(name: str) -> None:
    with pytest.raises(InvalidInput, match="not a plain identifier"):
        Feature(name, FeatureType.INT, "count", "a test feature", FeatureFamily.REQUEST)


def test_a_vector_keeps_values_of_the_right_type() -> None:
    vector = FeatureVector(
        {
            "buyer_orders_1h": 3,
            "amount_to_buyer_median": 2,  # an int given for a float feature is a float
            "is_guest": False,
            "ip_country": "DE",
            "account_age_days": None,  # None is missing
        }
    )
    assert dict(vector) == {
        "buyer_orders_1h": 3,
        "amount_to_buyer_median": 2.0,
        "is_guest": False,
        "ip_country": "DE",
    }
    assert isinstance(vector["amount_to_buyer_median"], float)
    assert "account_age_days" not in vector


def test_a_vector_is_read_only() -> None:
    given: dict[str, object] = {"buyer_orders_1h": 3}
    vector = FeatureVector(given)
    given["buyer_orders_1h"] = 99
    assert vector["buyer_orders_1h"] == 3
    with pytest.raises(TypeError):
        vector.by_name["buyer_orders_1h"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"buyer_orderz_1h": 1}, "unknown feature 'buyer_orderz_1h'"),
        ({1: 1}, "unknown feature 1"),
        ({"buyer_orders_1h": True}, "is int, got bool"),
        ({"buyer_orders_1h": 1.5}, "is int, got float"),
        ({"buyer_orders_1h": "3"}, "is int, got str"),
        ({"buyer_orders_1h": 1 << 63}, "exceeds a 64-bit integer"),
        ({"amount_to_buyer_median": True}, "is float, got bool"),
        ({"amount_to_buyer_median": float("nan")}, "leave it out"),
        ({"amount_to_buyer_median": float("inf")}, "leave it out"),
        ({"is_guest": 1}, "is bool, got int"),
        ({"is_guest": "yes"}, "is bool, got str"),
        ({"ip_country": 49}, "must be a string"),
        ({"ip_country": "D\nE"}, "control character"),
        ({"ip_country": "x" * 65}, "at most 64"),
    ],
)
def test_a_vector_refuses_unknown_names_and_wrong_types(
    values: dict[object, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        FeatureVector(values)  # type: ignore[arg-type]


def test_a_vector_can_be_checked_against_another_catalogue() -> None:
    small = FeatureCatalogue(
        [Feature("score", FeatureType.FLOAT, "ratio", "a test feature", FeatureFamily.REQUEST)]
    )
    assert FeatureVector({"score": 0.5}, small)["score"] == 0.5
    with pytest.raises(InvalidInput, match="unknown feature"):
        FeatureVector({"buyer_orders_1h": 1}, small)


@settings(max_examples=300, deadline=None)
@given(observed_reads())
def test_a_computed_vector_holds_what_the_checking_constructor_holds(
    case: tuple[RiskSubject, Observation, Reads],
) -> None:
    subject, obs, reads = case
    values = {**subject.request_features(), **features(obs, reads)}
    checked = FeatureVector(values)
    computed = FeatureVector.computed(values)
    assert dict(computed.by_name) == dict(checked.by_name)
    assert [type(v) for v in computed.values()] == [type(v) for v in checked.values()]
    assert computed.catalogue is checked.catalogue
