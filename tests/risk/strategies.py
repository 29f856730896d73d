"""Hypothesis strategies for the risk tests: well-typed random rule expressions, rule sets and
feature vectors with some features missing, over a small corner of the catalogue."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from embedfin.risk.backtest import HistoryRow, Label
from embedfin.risk.decision import Action, RiskSubject, SubjectKind
from embedfin.risk.feature_types import Entity
from embedfin.risk.features import FeatureVector
from embedfin.risk.rules import Rule, RuleMode, RuleSet
from embedfin.risk.signals import (
    LINKED,
    NS_PER_S,
    OBSERVED,
    LinkRow,
    Observation,
    Reads,
    SignalRow,
    Status,
)

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


# --- a store's reads for one observation ------------------------------------------------------
NOW = 1_767_225_600 * NS_PER_S
_HOUR = 3_600 * NS_PER_S
#: Ages around every window's edge, and some far inside or past them.
_AGES = st.sampled_from(
    [1, _HOUR - 1, _HOUR, _HOUR + 1, 3 * _HOUR, 24 * _HOUR - 1, 24 * _HOUR, 24 * _HOUR + 1,
     7 * 24 * _HOUR - 1, 7 * 24 * _HOUR, 30 * 24 * _HOUR]
)  # fmt: skip
_signal_rows = st.builds(
    lambda age, *rest: SignalRow(NOW - age, *rest),
    _AGES,
    st.sampled_from(("checkout", "top_up", "withdrawal", "payout", "refund")),
    st.sampled_from(("card", "bnpl", "wallet", "credit_line")),
    st.integers(1, 5_000),
    st.sampled_from(("USD", "EUR")),
    st.sampled_from(Status),
    st.sampled_from((None, "t1", "t2", "t3")),
)
_link_rows = st.builds(
    lambda account, a, b: LinkRow(account, NOW - max(a, b), NOW - min(a, b)),
    st.sampled_from(("b:b1", "b:b2", "b:b3", "m:m1", "m:m2", "", "d1", "d2")),
    _AGES,
    _AGES,
)


@st.composite
def observed_reads(draw: st.DrawFn) -> tuple[RiskSubject, Observation, Reads]:
    """A subject at ``NOW``, its observation naming some entities, and reads of them."""
    kind = draw(st.sampled_from(SubjectKind))
    named = draw(st.sets(st.sampled_from(list(Entity))))
    buyer = "b1" if Entity.BUYER in named or Entity.MERCHANT not in named else None
    merchant = "m1" if Entity.MERCHANT in named or kind is SubjectKind.PAYOUT else None
    subject = RiskSubject(
        kind, "t1", draw(st.integers(1, 9_000)), "USD",
        draw(st.sampled_from(("card", "bnpl", "wallet"))), buyer, merchant,
    )  # fmt: skip
    obs = Observation.of(subject, "o-now", NOW)
    keys = {**obs.keys, **{e: f"k-{e.value}" for e in named if e not in obs.keys}}
    obs = dataclasses.replace(obs, keys=keys)
    rows = draw(st.lists(_signal_rows, max_size=30))
    links = draw(st.lists(_link_rows, max_size=6))
    reads = Reads(
        rows={e: sorted(rows, key=lambda r: -r.at) for e in keys if e in OBSERVED},
        history=draw(st.lists(st.integers(1, 9_000), max_size=5)),
        refunds=draw(st.lists(_signal_rows, max_size=4)),
        links={e: list(links) for e in keys if e in LINKED},
        account_links={Entity.DEVICE: list(links)} if obs.account else {},
    )
    return subject, obs, reads
