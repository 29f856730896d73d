"""Backtest: what a rule set would have done to stored, labelled history, before it goes live.

A rule (or a whole set) is run over rows of history — the feature vector the request had at the
time, its amount and what it turned out to be: ``fraud`` (a confirmed case, a fraud chargeback),
``good`` (settled and never disputed past the window) or ``unknown`` (too recent to say). The
report gives, per rule and for the set as a whole:

* **hits** and **hit rate** (hits / rows);
* **precision**: of the labelled rows it hit, the share that was fraud (unknown rows left out);
* **recall**: of the fraud rows, the share it hit; and the **fraud value caught** in minor units
  (the amounts of the fraud rows it hit) against the fraud value in the history;
* **friction**: good rows it hit — per rule, good hits / good rows; for the set, the issue's
  measure, good payments challenged or blocked / good rows (reviews counted apart: the buyer
  sees nothing, the merchant waits).

Overall figures come twice: with the live rules only (what the set decides), and with the shadow
rules promoted too (what going live would change). A challenged fraud row counts as caught:
history cannot say whether the fraudster would have passed the step-up, so value caught is an
upper bound for challenge rules.

The backtest runs rule by rule over the whole history (one pass per rule, as a replay job over an
export would) and then assembles each row's outcome; ``tests/risk/test_backtest.py`` checks by
hypothesis that every row's outcome equals checking that row online with ``RuleSet.evaluate``.
Amounts are integer minor units of one currency; a history mixing currencies is refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from embedfin.core.errors import CurrencyMismatch, InvalidAmount, InvalidInput
from embedfin.core.money import MAX_AMOUNT_MINOR, currency
from embedfin.risk.decision import Action
from embedfin.risk.features import FeatureVector
from embedfin.risk.rules import Rule, RuleMode, RuleSet


class Label(StrEnum):
    FRAUD = "fraud"
    GOOD = "good"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One past request, as the backtest replays it.

    Attributes:
        features: the feature vector the request had when it was checked.
        amount_minor: the amount it moved, in minor units of ``currency``.
        currency: ISO 4217 code.
        label: what it turned out to be.
    """

    features: FeatureVector
    amount_minor: int
    currency: str
    label: Label

    def __post_init__(self) -> None:
        if not isinstance(self.features, FeatureVector):
            raise InvalidInput("a history row's features are a FeatureVector")
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise InvalidAmount(f"amount_minor must be an int, got {self.amount_minor!r}")
        if not 0 <= self.amount_minor <= MAX_AMOUNT_MINOR:
            raise InvalidAmount(f"amount_minor {self.amount_minor} is out of range")
        object.__setattr__(self, "currency", currency(self.currency).code)
        try:
            object.__setattr__(self, "label", Label(self.label))
        except ValueError:
            raise InvalidInput(f"label {self.label!r} is not fraud, good or unknown") from None


def _rate(part: int, whole: int) -> float | None:
    """A share, or ``None`` when there is nothing to take a share of."""
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class RuleFigures:
    """One rule over the history.

    Attributes:
        rule_id: the rule.
        rule_version: its version.
        mode: live or shadow.
        action: what it asks for.
        hits: rows it fired on; ``fraud_hits``, ``good_hits``, ``unknown_hits`` split them.
        hit_rate: hits / rows.
        precision: fraud hits / labelled hits (``None`` without labelled hits).
        recall: fraud hits / fraud rows (``None`` without fraud rows).
        fraud_value_caught_minor: the amounts of the fraud rows it hit.
        friction_rate: good hits / good rows (``None`` without good rows).
    """

    rule_id: str
    rule_version: int
    mode: RuleMode
    action: Action
    hits: int
    fraud_hits: int
    good_hits: int
    unknown_hits: int
    hit_rate: float | None
    precision: float | None
    recall: float | None
    fraud_value_caught_minor: int
    friction_rate: float | None


@dataclass(frozen=True, slots=True)
class OverallFigures:
    """A set of rules applied together over the history.

    Attributes:
        rows: rows replayed; ``fraud_rows``, ``good_rows``, ``unknown_rows`` split them.
        actions: how many rows got each action (every action listed, zeros included).
        stopped: rows not allowed (challenged, held for review or blocked).
        hit_rate: stopped / rows.
        precision: fraud among stopped labelled rows.
        recall: stopped fraud rows / fraud rows.
        fraud_value_minor: the amounts of all fraud rows.
        fraud_value_caught_minor: the amounts of the stopped fraud rows.
        value_recall: fraud value caught / fraud value.
        good_challenged, good_reviewed, good_blocked: good rows by the action they got.
        friction_rate: (good challenged + good blocked) / good rows.
    """

    rows: int
    fraud_rows: int
    good_rows: int
    unknown_rows: int
    actions: Mapping[Action, int]
    stopped: int
    hit_rate: float | None
    precision: float | None
    recall: float | None
    fraud_value_minor: int
    fraud_value_caught_minor: int
    value_recall: float | None
    good_challenged: int
    good_reviewed: int
    good_blocked: int
    friction_rate: float | None


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What the rule set did to one row: the ids of the rules that fired, in the set's order,
    the action the live ones decide, and the action if the shadow ones were live too."""

    live_rule_ids: tuple[str, ...]
    shadow_rule_ids: tuple[str, ...]
    action: Action
    action_with_shadow: Action


@dataclass(frozen=True, slots=True)
class BacktestReport:
    """The rule set over the history: per rule, overall (live; live + shadow), per row.

    Attributes:
        rule_set_version: the set replayed.
        currency: the one currency of the history's amounts.
        rules: figures per rule, in the set's order.
        live: the set as it decides (live rules only).
        with_shadow: the set with its shadow rules promoted.
        outcomes: per row, in the history's order.
    """

    rule_set_version: int
    currency: str
    rules: tuple[RuleFigures, ...]
    live: OverallFigures
    with_shadow: OverallFigures
    outcomes: tuple[RowOutcome, ...] = field(repr=False)


def backtest(rule_set: RuleSet, history: Iterable[HistoryRow]) -> BacktestReport:
    """Replay ``rule_set`` over ``history``; :class:`InvalidInput` for an empty history and
    :class:`CurrencyMismatch` for one mixing currencies."""
    rows = tuple(history)
    if not rows:
        raise InvalidInput("nothing to backtest: the history is empty")
    if any(row.features.catalogue is not rule_set.catalogue for row in rows):
        raise InvalidInput("the history's features were checked against another catalogue")
    currencies = sorted({row.currency for row in rows})
    if len(currencies) > 1:
        raise CurrencyMismatch(f"a backtest sums one currency; the history has {currencies}")
    fired = {rule.id: _fire(rule, rows) for rule in rule_set.rules}
    outcomes = tuple(_outcome(rule_set.rules, fired, index) for index in range(len(rows)))
    return BacktestReport(
        rule_set.version,
        currencies[0],
        tuple(_rule_figures(rule, fired[rule.id], rows) for rule in rule_set.rules),
        _overall([outcome.action for outcome in outcomes], rows),
        _overall([outcome.action_with_shadow for outcome in outcomes], rows),
        outcomes,
    )


def _fire(rule: Rule, rows: Sequence[HistoryRow]) -> list[bool]:
    """One pass of one rule over the whole history."""
    check = rule.compiled.evaluate
    return [check(row.features.by_name) is True for row in rows]


def _outcome(rules: Sequence[Rule], fired: Mapping[str, list[bool]], index: int) -> RowOutcome:
    hit = [rule for rule in rules if fired[rule.id][index]]
    live = [rule for rule in hit if rule.mode is RuleMode.LIVE]
    return RowOutcome(
        tuple(rule.id for rule in live),
        tuple(rule.id for rule in hit if rule.mode is RuleMode.SHADOW),
        Action.max(rule.action for rule in live),
        Action.max(rule.action for rule in hit),
    )


def _rule_figures(rule: Rule, fired: Sequence[bool], rows: Sequence[HistoryRow]) -> RuleFigures:
    labels = Counter(row.label for row in rows)
    hit_labels = Counter(row.label for row, hit in zip(rows, fired, strict=True) if hit)
    fraud, good = hit_labels[Label.FRAUD], hit_labels[Label.GOOD]
    caught = sum(
        row.amount_minor
        for row, hit in zip(rows, fired, strict=True)
        if hit and row.label is Label.FRAUD
    )
    hits = sum(hit_labels.values())
    return RuleFigures(
        rule.id,
        rule.version,
        rule.mode,
        rule.action,
        hits,
        fraud,
        good,
        hit_labels[Label.UNKNOWN],
        _rate(hits, len(rows)),
        _rate(fraud, fraud + good),
        _rate(fraud, labels[Label.FRAUD]),
        caught,
        _rate(good, labels[Label.GOOD]),
    )


def _overall(actions: Sequence[Action], rows: Sequence[HistoryRow]) -> OverallFigures:
    labels = Counter(row.label for row in rows)
    by_label = Counter((row.label, action) for row, action in zip(rows, actions, strict=True))
    stopped = [action is not Action.ALLOW for action in actions]
    stopped_fraud = labels[Label.FRAUD] - by_label[Label.FRAUD, Action.ALLOW]
    stopped_good = labels[Label.GOOD] - by_label[Label.GOOD, Action.ALLOW]
    fraud_value = sum(row.amount_minor for row in rows if row.label is Label.FRAUD)
    caught = sum(
        row.amount_minor
        for row, stop in zip(rows, stopped, strict=True)
        if stop and row.label is Label.FRAUD
    )
    counts = Counter(actions)
    good_challenged = by_label[Label.GOOD, Action.CHALLENGE]
    good_blocked = by_label[Label.GOOD, Action.BLOCK]
    return OverallFigures(
        len(rows),
        labels[Label.FRAUD],
        labels[Label.GOOD],
        labels[Label.UNKNOWN],
        MappingProxyType({action: counts[action] for action in Action}),
        sum(stopped),
        _rate(sum(stopped), len(rows)),
        _rate(stopped_fraud, stopped_fraud + stopped_good),
        _rate(stopped_fraud, labels[Label.FRAUD]),
        fraud_value,
        caught,
        _rate(caught, fraud_value),
        good_challenged,
        by_label[Label.GOOD, Action.REVIEW],
        good_blocked,
        _rate(good_challenged + good_blocked, labels[Label.GOOD]),
    )
