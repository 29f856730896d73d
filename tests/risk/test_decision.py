"""Actions and their order, decisions, and the strict risk subject and context."""

from __future__ import annotations

import pytest

from embedfin.core.errors import InvalidAmount, InvalidInput, UnknownCurrency
from embedfin.risk.decision import (
    Action,
    Reason,
    RiskContext,
    RiskDecision,
    RiskSubject,
    RuleHit,
    SubjectKind,
)


def test_actions_order_by_severity_not_by_spelling() -> None:
    ordered = [Action.ALLOW, Action.CHALLENGE, Action.REVIEW, Action.BLOCK]
    assert [a.severity for a in ordered] == [0, 1, 2, 3]
    assert sorted(reversed(ordered), key=lambda a: a.severity) == ordered


def test_comparison_operators_follow_severity() -> None:
    assert Action.BLOCK > Action.CHALLENGE  # as strings, "block" < "challenge"
    assert Action.REVIEW >= Action.REVIEW
    assert Action.ALLOW < Action.BLOCK
    assert Action.CHALLENGE <= Action.REVIEW
    assert sorted([Action.REVIEW, Action.BLOCK, Action.ALLOW, Action.CHALLENGE]) == [
        Action.ALLOW,
        Action.CHALLENGE,
        Action.REVIEW,
        Action.BLOCK,
    ]
    assert max([Action.BLOCK, Action.REVIEW]) is Action.BLOCK


def test_an_action_is_not_ordered_against_a_plain_string() -> None:
    with pytest.raises(TypeError, match="another action"):
        assert Action.BLOCK > "challenge"


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ([], Action.ALLOW),
        ([Action.CHALLENGE], Action.CHALLENGE),
        ([Action.BLOCK, Action.CHALLENGE], Action.BLOCK),  # "block" < "challenge" as strings
        ([Action.CHALLENGE, Action.REVIEW, Action.ALLOW], Action.REVIEW),
    ],
)
def test_max_is_the_most_severe_action(actions: list[Action], expected: Action) -> None:
    assert Action.max(actions) is expected


def _hit(action: Action) -> RuleHit:
    return RuleHit("r1", 1, "velocity", action, {"buyer_orders_1h": 7})


def test_a_decision_carries_its_hits_reasons_and_rule_set_version() -> None:
    reason = Reason("velocity", "many orders", {"buyer_orders_1h": 7})
    decision = RiskDecision(Action.CHALLENGE, 0.2, (reason,), (_hit(Action.CHALLENGE),), (), 3)
    assert decision.rule_set_version == 3
    assert decision.reasons[0].features == {"buyer_orders_1h": 7}


@pytest.mark.parametrize("score", [-0.01, 1.01, float("nan")])
def test_a_score_outside_zero_to_one_is_refused(score: float) -> None:
    with pytest.raises(InvalidInput, match="probability"):
        RiskDecision(Action.ALLOW, score, (), (), (), 1)


def test_a_decision_cannot_be_milder_than_its_live_hits() -> None:
    with pytest.raises(InvalidInput, match="milder"):
        RiskDecision(Action.CHALLENGE, None, (), (_hit(Action.BLOCK),), (), 1)


def test_reason_and_hit_features_cannot_be_changed_afterwards() -> None:
    given = {"buyer_orders_1h": 7}
    hit = RuleHit("r1", 1, "velocity", Action.BLOCK, given)
    given["buyer_orders_1h"] = 0
    assert hit.features["buyer_orders_1h"] == 7
    with pytest.raises(TypeError):
        hit.features["buyer_orders_1h"] = 1  # type: ignore[index]


# --- RiskContext -----------------------------------------------------------------------------


def test_an_absent_context_is_fine() -> None:
    assert RiskContext.from_mapping(None) is None
    assert RiskContext.from_mapping({}) == RiskContext()
    assert RiskContext.from_mapping({"ip": None}) == RiskContext()


def test_a_full_context_is_kept() -> None:
    context = RiskContext.from_mapping(
        {
            "device_id": "dev-7f3a",
            "ip": "203.0.113.7",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
            "shipping_address": "Hauptstraße 5, 10115 Berlin",
        }
    )
    assert context is not None
    assert context.ip == "203.0.113.7"
    assert context.shipping_address == "Hauptstraße 5, 10115 Berlin"


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::ffff:198.51.100.4", "198.51.100.4"),  # IPv4-mapped: the same IP as its IPv4
        ("0.0.0.0", "0.0.0.0"),
    ],
)
def test_ips_are_kept_in_canonical_form(given: str, canonical: str) -> None:
    assert RiskContext(ip=given).ip == canonical


@pytest.mark.parametrize(
    ("ip", "message"),
    [
        ("1.2.3", "not an IPv4 or IPv6 address"),
        ("256.1.1.1", "not an IPv4 or IPv6 address"),
        ("01.2.3.4", "not an IPv4 or IPv6 address"),  # leading zeros: octal in some parsers
        (" 1.2.3.4", "not an IPv4 or IPv6 address"),
        ("1.2.3.4\n", "not an IPv4 or IPv6 address"),
        ("localhost", "not an IPv4 or IPv6 address"),
        ("2001:db8::1::2", "not an IPv4 or IPv6 address"),
        ("fe80::1%eth0", "zone id"),
        ("1" * 46, "at most 45"),
        ("", "not an IPv4 or IPv6 address"),
    ],
)
def test_a_malformed_ip_is_refused(ip: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        RiskContext(ip=ip)


def test_an_ip_given_as_a_number_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must be a string"):
        RiskContext.from_mapping({"ip": 3232235777})


@pytest.mark.parametrize(
    "text",
    ["dev\x00ice", "line\nbreak", "tab\there", "bell\x07", "del\x7f", "bidi\u202eevil", "zw\u200b"],
)
@pytest.mark.parametrize("field", ["device_id", "user_agent", "shipping_address"])
def test_control_and_format_characters_are_refused(field: str, text: str) -> None:
    with pytest.raises(InvalidInput, match=f"{field} contains the control character"):
        RiskContext.from_mapping({field: text})


@pytest.mark.parametrize(
    ("field", "limit"), [("device_id", 128), ("user_agent", 512), ("shipping_address", 300)]
)
def test_over_long_fields_are_refused_and_the_limit_itself_is_fine(field: str, limit: int) -> None:
    assert RiskContext.from_mapping({field: "x" * limit}) is not None
    with pytest.raises(InvalidInput, match=f"at most {limit}"):
        RiskContext.from_mapping({field: "x" * (limit + 1)})


def test_blank_fields_are_refused() -> None:
    with pytest.raises(InvalidInput, match="blank"):
        RiskContext(device_id="   ")


def test_unknown_context_keys_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="unknown risk context fields: cookie, fingerprint"):
        RiskContext.from_mapping({"ip": "192.0.2.1", "fingerprint": "x", "cookie": "y"})


def test_a_non_string_field_is_refused() -> None:
    with pytest.raises(InvalidInput, match="device_id must be a string"):
        RiskContext.from_mapping({"device_id": ["a"]})


def test_the_address_key_ignores_case_and_spacing() -> None:
    one = RiskContext(shipping_address="Hauptstraße 5,  10115 BERLIN")
    other = RiskContext(shipping_address="hauptstraße 5, 10115 berlin ")
    assert one.shipping_address_key == other.shipping_address_key


# --- RiskSubject -----------------------------------------------------------------------------


def _subject(**changes: object) -> RiskSubject:
    given: dict[str, object] = {
        "kind": "checkout",
        "tenant": "t1",
        "amount_minor": 12_500,
        "currency": "eur",
        "payment_method": "card",
        "buyer_id": "b1",
        "merchant_id": "m1",
    }
    given.update(changes)
    return RiskSubject(**given)  # type: ignore[arg-type]


def test_a_subject_normalises_kind_and_currency() -> None:
    subject = _subject(context=RiskContext(ip="192.0.2.1"))
    assert subject.kind is SubjectKind.CHECKOUT
    assert subject.currency == "EUR"


def test_every_money_moving_operation_is_a_subject_kind() -> None:
    assert {kind.value for kind in SubjectKind} == {
        "checkout",
        "top_up",
        "withdrawal",
        "payout",
        "card_authorisation",
        "credit_decision",
    }


def test_a_guest_checkout_has_no_buyer_and_says_so_in_its_features() -> None:
    features = _subject(buyer_id=None).request_features()
    assert features == {
        "amount_minor": 12_500,
        "currency": "EUR",
        "kind": "checkout",
        "payment_method": "card",
        "is_guest": True,
    }


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"kind": "refund"}, InvalidInput, "unknown risk subject kind"),
        ({"amount_minor": 0}, InvalidAmount, "positive"),
        ({"amount_minor": -5}, InvalidAmount, "positive"),
        ({"amount_minor": 12.5}, InvalidAmount, "must be an int"),
        ({"amount_minor": True}, InvalidAmount, "must be an int"),
        ({"currency": "XYZ"}, UnknownCurrency, "XYZ"),
        ({"payment_method": "Card"}, InvalidInput, "lower-case code"),
        ({"payment_method": "card; drop"}, InvalidInput, "lower-case code"),
        ({"payment_method": ""}, InvalidInput, "short code"),
        ({"tenant": "t\n1"}, InvalidInput, "tenant contains the control character"),
        ({"buyer_id": None, "merchant_id": None}, InvalidInput, "names a buyer, a merchant"),
        ({"kind": "payout", "merchant_id": None}, InvalidInput, "payout"),
        ({"context": {"ip": "1.2.3.4"}}, InvalidInput, "RiskContext"),
    ],
)
def test_a_malformed_subject_is_refused(
    changes: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _subject(**changes)
