"""Hypothesis strategies for the risk tests: well-typed random rule expressions, rule sets and
feature vectors with some features missing, over a small corner of the catalogue."""

from __future__ import annotations

from hypothesis import strategies as st

from embedfin.risk.backtest import HistoryRow, Label
from embedfin.risk.decision import Action
from embedfin.risk.features import FeatureVector
from embedfin.risk.rules import Rule, RuleMode, RuleSet

INT_FEATURES = ("buyer_orders_1h", "device_accounts_7d", "declines_in_a_row", "amount_minor")
FLOAT_FEATURES = ("amount_to_buyer_median", "amount_buyer_zscore")
BOOL_FEATURES = ("is_guest", "cash_out_after_credit_24h")
STR_FEATURES = ("payment_method", "ip_country", "shipping_country")
WORDS = ("card", "bnpl", "wallet", "DE", "FR")

_numbers = st.one_of(
    st.integers(-3, 12).map(str),
    st.floats(-5, 5, allow_nan=False).map(lambda x: repr(round(x, 2))),
)
_feature_number = st.sampled_from(INT_FEATURES + FLOAT_FEATURES)
_number = st.recursive(
    st.one_of(_feature_number, _numbers),
    # a feature on the left: constant-only arithmetic (a division by zero) is refused at compile
    lambda inner: st.tuples(_feature_number, st.sampled_from("+-*/"), inner).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    ),
    max_leaves=3,
)
_ordering = st.sampled_from(("==", "!=", "<", "<=", ">", ">="))


def _quoted(words: list[str]) -> str:
    return "(" + ", ".join(repr(w) for w in words) + ",)"


_atom = st.one_of(
    st.tuples(_feature_number, _ordering, _number).map(" ".join),
    st.tuples(_number, _ordering, _feature_number).map(" ".join),
    st.sampled_from(BOOL_FEATURES),
    st.tuples(
        st.sampled_from(STR_FEATURES), st.sampled_from(("==", "!=")), st.sampled_from(WORDS)
    ).map(lambda t: f"{t[0]} {t[1]} {t[2]!r}"),
    st.tuples(
        st.sampled_from(STR_FEATURES),
        st.sampled_from(("in", "not in")),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    ).map(lambda t: f"{t[0]} {t[1]} {_quoted(t[2])}"),
    st.just("ip_country != shipping_country"),
)

#: A condition over features: atoms joined by and / or / not.
expressions = st.recursive(
    _atom,
    lambda inner: st.one_of(
        inner.map(lambda e: f"not ({e})"),
        st.tuples(inner, st.sampled_from(("and", "or")), inner).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        ),
    ),
    max_leaves=4,
)

_RULE_ACTIONS = (Action.CHALLENGE, Action.REVIEW, Action.BLOCK)


@st.composite
def rules(draw: st.DrawFn, prefix: str = "r", mode: RuleMode | None = None) -> list[Rule]:
    """Between 0 and 8 rules with distinct ids, random actions and (unless given) modes."""
    count = draw(st.integers(0, 8))
    return [
        Rule(
            f"{prefix}{i}",
            draw(st.integers(1, 3)),
            "risk-ops",
            f"reason_{i}",
            "a generated rule",
            draw(st.sampled_from(_RULE_ACTIONS)),
            draw(expressions),
            mode if mode is not None else draw(st.sampled_from(RuleMode)),
        )
        for i in range(count)
    ]


rule_sets = st.builds(RuleSet, st.integers(1, 100), rules().map(tuple))


def _maybe(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), values)


_values: dict[str, st.SearchStrategy[object]] = {
    **{name: _maybe(st.integers(0, 12)) for name in INT_FEATURES},
    "amount_minor": _maybe(st.integers(1, 100_000)),
    **{name: _maybe(st.floats(-5, 5, allow_nan=False)) for name in FLOAT_FEATURES},
    **{name: _maybe(st.booleans()) for name in BOOL_FEATURES},
    **{name: _maybe(st.sampled_from(WORDS)) for name in STR_FEATURES},
}

#: A feature vector over the features above, each one missing now and then.
feature_vectors = st.fixed_dictionaries(_values).map(FeatureVector)

history_rows = st.builds(
    HistoryRow,
    feature_vectors,
    st.integers(0, 1_000_000),
    st.just("EUR"),
    st.sampled_from(Label),
)
