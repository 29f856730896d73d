"""Rules as versioned data: each with an owner, a reason code and an action, live or shadow.

A :class:`Rule` is a record a risk officer writes; its expression is checked and compiled when
the record is built (``rules_lang``), so a rule that does not parse, names an unknown feature or
mixes types never exists, let alone gets stored. A :class:`RuleSet` is an immutable, versioned
collection: every change (a rule added, replaced, retired or promoted from shadow to live) is a
new set with a higher version, so each decision can say which set made it and a backtest can
replay exactly that set.

``RuleSet.evaluate`` runs every rule over one request's features. The action is the most severe
action among the **live** rules that fired (allow when none did). **Shadow** rules run on the
same requests and their hits are recorded for the backtest and the rule's hit rate, but they
never change the action: that is how a new rule proves itself before it goes live.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from embedfin.core.errors import InvalidInput, NotFound
from embedfin.risk.decision import Action, Reason, RiskDecision, RuleHit
from embedfin.risk.features import CATALOGUE, FeatureCatalogue, FeatureVector
from embedfin.risk.rules_closures import Evaluator, Values
from embedfin.risk.rules_lang import CompiledExpression, compile_expression
from embedfin.risk.text import checked_text

_RULE_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_REASON_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_E = TypeVar("_E", bound=StrEnum)


class RuleMode(StrEnum):
    LIVE = "live"
    SHADOW = "shadow"


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name} must be a positive integer, got {value!r}")
    return value


def _enum_member(kind: type[_E], name: str, value: object) -> _E:
    if isinstance(value, kind):
        return value
    if isinstance(value, str) and value in kind._value2member_map_:
        return kind(value)
    choices = ", ".join(member.value for member in kind)
    raise InvalidInput(f"{name} {value!r} is not one of {choices}")


@dataclass(frozen=True, slots=True)
class Rule:
    """One fraud rule.

    Attributes:
        id: stable id across versions (lower case, digits, ``_ . -``).
        version: this rule's version; a changed rule is a new version of the same id.
        owner: who answers for it (a team or role, not a person's name).
        reason_code: the code a hit puts in the decision's reasons (``velocity_buyer_1h``).
        description: what it catches and why, shown with the hit.
        action: what a hit asks for: challenge, review or block (allow asks for nothing).
        expression: the condition, in the rule language.
        mode: live rules decide; shadow rules are only recorded.
        catalogue: the features the expression may name.
        compiled: the checked, compiled expression (built from the above).
    """

    id: str
    version: int
    owner: str
    reason_code: str
    description: str
    action: Action
    expression: str
    mode: RuleMode = RuleMode.LIVE
    catalogue: FeatureCatalogue = field(
        default_factory=lambda: CATALOGUE, repr=False, compare=False
    )
    compiled: CompiledExpression = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _RULE_ID.fullmatch(self.id):
            raise InvalidInput(f"rule id {self.id!r}: lower-case letters, digits, _ . - (≤ 64)")
        _positive_int("rule version", self.version)
        checked_text("rule owner", self.owner, 128)
        if not isinstance(self.reason_code, str) or not _REASON_CODE.fullmatch(self.reason_code):
            raise InvalidInput(f"reason code {self.reason_code!r}: snake_case, at most 64")
        checked_text("rule description", self.description, 500)
        action = _enum_member(Action, "rule action", self.action)
        if action is Action.ALLOW:
            raise InvalidInput("a rule's action is challenge, review or block; allow is no rule")
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "mode", _enum_member(RuleMode, "rule mode", self.mode))
        compiled = compile_expression(self.expression, self.catalogue)
        object.__setattr__(self, "compiled", compiled)

    def to_record(self) -> dict[str, object]:
        """The rule as stored: plain values (enums as their text), the catalogue and the
        compiled form left out; :meth:`from_record` checks it all again."""
        return {
            "id": self.id,
            "version": self.version,
            "owner": self.owner,
            "reason_code": self.reason_code,
            "description": self.description,
            "action": self.action.value,
            "expression": self.expression,
            "mode": self.mode.value,
        }

    @classmethod
    def from_record(
        cls, record: Mapping[str, object], catalogue: FeatureCatalogue = CATALOGUE
    ) -> Rule:
        """A stored rule back, checked again; unknown or missing fields refused."""
        names = [f.name for f in dataclasses.fields(cls) if f.init and f.name != "catalogue"]
        unknown = sorted(set(record) - set(names))
        missing = sorted(set(names) - set(record) - {"mode"})
        if unknown or missing:
            raise InvalidInput(f"rule record: unknown fields {unknown}, missing fields {missing}")
        # The values are untyped here; __post_init__ checks every one of them.
        return cls(**record, catalogue=catalogue)  # type: ignore[arg-type]


class Evaluation(NamedTuple):
    """One request through a rule set: what fired, and the action the live hits ask for."""

    live_hits: tuple[RuleHit, ...]
    shadow_hits: tuple[RuleHit, ...]
    action: Action


_NOTHING_FIRED = Evaluation((), (), Action.ALLOW)


def hit_of(rule: Rule, values: Values) -> RuleHit:
    """The record of ``rule`` firing, with the values of the features it names."""
    seen = {name: values[name] for name in rule.compiled.features if name in values}
    return RuleHit(rule.id, rule.version, rule.reason_code, rule.action, MappingProxyType(seen))


@dataclass(frozen=True, slots=True)
class RuleSet:
    """An immutable, versioned collection of rules; each rule id at most once.

    Attributes:
        version: the set's version; every change makes a new set with a higher one.
        rules: the rules, in the order their hits are reported.
    """

    version: int
    rules: tuple[Rule, ...] = ()
    _live: tuple[tuple[Rule, Evaluator], ...] = field(init=False, repr=False, compare=False)
    _shadow: tuple[tuple[Rule, Evaluator], ...] = field(init=False, repr=False, compare=False)
    _descriptions: Mapping[str, str] = field(init=False, repr=False, compare=False)
    catalogue: FeatureCatalogue = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _positive_int("rule set version", self.version)
        rules = tuple(self.rules)
        if not all(isinstance(rule, Rule) for rule in rules):
            raise InvalidInput("a rule set holds Rule records")
        ids = [rule.id for rule in rules]
        twice = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
        if twice:
            raise InvalidInput(f"rule ids appear twice in the set: {', '.join(twice)}")
        catalogues = {id(rule.catalogue): rule.catalogue for rule in rules}
        if len(catalogues) > 1:
            raise InvalidInput("the rules of one set are compiled against one feature catalogue")
        object.__setattr__(self, "catalogue", next(iter(catalogues.values()), CATALOGUE))
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "_descriptions", {rule.id: rule.description for rule in rules})
        pairs = [(rule, rule.compiled.evaluate) for rule in rules]
        object.__setattr__(self, "_live", tuple(p for p in pairs if p[0].mode is RuleMode.LIVE))
        object.__setattr__(self, "_shadow", tuple(p for p in pairs if p[0].mode is RuleMode.SHADOW))

    def evaluate(self, features: FeatureVector) -> Evaluation:
        """Every rule over one request. Missing features make no hit; the only refusal is a
        vector checked against another catalogue than the rules' (a wiring mistake)."""
        if features.catalogue is not self.catalogue:
            raise InvalidInput("the features were checked against another catalogue")
        values = features.by_name
        # Plain list comprehensions and no hit records unless something fired: most requests
        # fire nothing, and this loop is the whole cost of a check.
        live = [rule for rule, check in self._live if check(values) is True]
        shadow = [rule for rule, check in self._shadow if check(values) is True]
        if not live and not shadow:
            return _NOTHING_FIRED
        return Evaluation(
            tuple([hit_of(rule, values) for rule in live]),
            tuple([hit_of(rule, values) for rule in shadow]),
            Action.max([rule.action for rule in live]),
        )

    def decide(self, features: FeatureVector, score: float | None = None) -> RiskDecision:
        """The decision for one request: the evaluation, with one reason per live hit, most
        severe first (rules of equal severity in the set's order). ``score`` is the model's,
        carried as it is (the model's thresholds come with the model)."""
        live, shadow, action = self.evaluate(features)
        reasons = tuple(
            Reason(hit.reason_code, self._descriptions[hit.rule_id], hit.features)
            for hit in sorted(live, key=lambda hit: -hit.action.severity)
        )
        return RiskDecision(action, score, reasons, live, shadow, self.version)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise NotFound(f"no rule {rule_id!r} in rule set version {self.version}")

    def with_rule(self, rule: Rule) -> RuleSet:
        """The next version with ``rule`` added, or replacing an older version of it."""
        current = next((r for r in self.rules if r.id == rule.id), None)
        if current is not None and rule.version <= current.version:
            raise InvalidInput(
                f"rule {rule.id} is at version {current.version}; a change needs a higher one"
            )
        kept = [r if r.id != rule.id else rule for r in self.rules]
        return RuleSet(self.version + 1, tuple(kept if current else [*kept, rule]))

    def without_rule(self, rule_id: str) -> RuleSet:
        """The next version with ``rule_id`` retired."""
        self.rule(rule_id)
        return RuleSet(self.version + 1, tuple(r for r in self.rules if r.id != rule_id))

    def promote(self, rule_id: str) -> RuleSet:
        """The next version with shadow rule ``rule_id`` live (a new version of the rule)."""
        rule = self.rule(rule_id)
        if rule.mode is RuleMode.LIVE:
            raise InvalidInput(f"rule {rule_id} is live already")
        promoted = dataclasses.replace(rule, mode=RuleMode.LIVE, version=rule.version + 1)
        return self.with_rule(promoted)
