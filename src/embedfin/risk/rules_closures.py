"""The closures a compiled rule expression is made of (see ``rules_lang``).

Each takes the request's feature values and returns the node's value, or ``None`` for unknown
(a missing feature somewhere below: SQL's three-valued logic). They are small and flat on
purpose: checking a rule set is a few of these calls per rule, with no tree walk and no ``eval``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from embedfin.risk.features import FeatureValue

#: The feature values a compiled expression reads: a name → value mapping (missing = absent).
Values = Mapping[str, FeatureValue]
#: A compiled node: the value, or ``None`` for unknown.
Evaluator = Callable[[Values], Any]
#: A binary operation on two known values (a comparison or arithmetic).
Operation = Callable[[Any, Any], Any]
#: A feature compared with a constant: (feature name, comparison, constant).
SimpleTest = tuple[str, Operation, object]


def constant(value: object) -> Evaluator:
    def fixed(_values: Values) -> object:
        return value

    return fixed


def read_feature(name: str) -> Evaluator:
    def read(values: Values) -> object:
        return values.get(name)

    return read


def divide(a: float, b: float) -> float | None:
    """Division by zero is unknown, not an error: the rule simply does not fire."""
    return None if b == 0 else a / b


def finite(value: Any) -> Any:
    """Arithmetic that overflowed a float (or met inf − inf) is unknown, not a number; so is
    any arithmetic that raises ``OverflowError`` (see :func:`binary`)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def all_of(parts: list[Evaluator]) -> Evaluator:
    """Kleene ``and``: false if any part is false, else unknown if any is unknown, else true."""
    if len(parts) == 2:
        first, second = parts

        def both(values: Values) -> object:
            a = first(values)
            if a is False:
                return False
            b = second(values)
            if b is False:
                return False
            return None if a is None or b is None else True

        return both

    def every(values: Values) -> object:
        unknown = False
        for part in parts:
            result = part(values)
            if result is False:
                return False
            unknown = unknown or result is None
        return None if unknown else True

    return every


def any_of(parts: list[Evaluator]) -> Evaluator:
    """Kleene ``or``: true if any part is true, else unknown if any is unknown, else false."""

    def some(values: Values) -> object:
        unknown = False
        for part in parts:
            result = part(values)
            if result is True:
                return True
            unknown = unknown or result is None
        return None if unknown else False

    return some


def all_tests(tests: tuple[SimpleTest, ...]) -> Evaluator:
    """Kleene ``and`` of feature-against-constant tests, in one closure."""

    def every(values: Values) -> object:
        unknown = False
        for name, function, constant in tests:
            value = values.get(name)
            if value is None:
                unknown = True
            elif not function(value, constant):
                return False
        return None if unknown else True

    return every


def any_test(tests: tuple[SimpleTest, ...]) -> Evaluator:
    """Kleene ``or`` of feature-against-constant tests, in one closure."""

    def some(values: Values) -> object:
        unknown = False
        for name, function, constant in tests:
            value = values.get(name)
            if value is None:
                unknown = True
            elif function(value, constant):
                return True
        return None if unknown else False

    return some


def negation(part: Evaluator) -> Evaluator:
    def negated(values: Values) -> object:
        result = part(values)
        return None if result is None else not result

    return negated


def minus(part: Evaluator) -> Evaluator:
    def negated(values: Values) -> object:
        value = part(values)
        return None if value is None else -value

    return negated


def binary(function: Operation, left: Evaluator, right: Evaluator) -> Evaluator:
    def arithmetic(values: Values) -> object:
        a = left(values)
        if a is None:
            return None
        b = right(values)
        if b is None:
            return None
        try:
            return finite(function(a, b))
        except OverflowError:  # a huge integer product meeting a float or a division
            return None

    return arithmetic


def feature_vs_constant(function: Operation, name: str, constant: object) -> Evaluator:
    """A feature compared with a constant — most rules — reads the value directly."""

    def compare(values: Values) -> object:
        value = values.get(name)
        return None if value is None else function(value, constant)

    return compare


def comparison(function: Operation, left: Evaluator, right: Evaluator) -> Evaluator:
    def compare(values: Values) -> object:
        a = left(values)
        if a is None:
            return None
        b = right(values)
        return None if b is None else function(a, b)

    return compare


def member_of(part: Evaluator, members: frozenset[object], negate: bool) -> Evaluator:
    def membership(values: Values) -> object:
        value = part(values)
        if value is None:
            return None
        return (value not in members) if negate else (value in members)

    return membership
