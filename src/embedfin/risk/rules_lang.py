"""The rule language: a small, safe expression over catalogue features, compiled to closures.

Risk officers write rules as text — ``buyer_orders_1h >= 5 and amount_to_buyer_median > 3``,
``ip_country != shipping_country``, ``payment_method in ("card", "bnpl")`` — and the text is data:
stored, versioned, backtested. It is never given to ``eval``. It is parsed with
``ast.parse(text, mode="eval")`` and every node is checked against a whitelist:

* ``and`` / ``or`` / ``not`` over conditions; unary ``-`` and ``+ - * /`` over numbers;
* comparisons ``== != < <= > >=`` (chains too) and ``in`` / ``not in`` a literal tuple or list;
* names of catalogue features, and int, float, str and bool constants.

Anything else — attribute access, calls, subscripts, lambdas, comprehensions, f-strings, the
walrus, ``is``, names outside the catalogue — is refused with
:class:`~embedfin.core.errors.InvalidInput` naming the problem and its column, and so are type
mismatches visible without data (a string ordered against a number, a number used as a
condition), expressions longer than :data:`MAX_EXPRESSION_LENGTH` characters or nested deeper
than :data:`MAX_DEPTH`, and expressions naming no feature (always or never true). A rule that
fails here is never stored.

The checked tree is compiled into nested closures, so a check costs a few Python calls per rule.

**Missing features.** A request may lack a feature (a guest has no account age). Every operation
on a missing value is *unknown*, as in SQL: a comparison with it is never true, arithmetic with it
is unknown, ``not unknown`` is unknown, ``unknown and false`` is false, ``unknown or true`` is
true. A rule fires only when its expression is true, so a comparison with a missing value counts
as false for the rule — and ``not (account_age_days > 30)`` does not fire for a guest either,
because ``not`` of an unknown stays unknown (it is the same rule as ``account_age_days <= 30``).
Division by zero, and arithmetic that overflows a float, are unknown too. Nothing raises at
decision time.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from embedfin.core.errors import InvalidInput
from embedfin.risk import rules_closures as run
from embedfin.risk.features import CATALOGUE, FeatureCatalogue, FeatureType
from embedfin.risk.rules_closures import Evaluator, Operation, Values
from embedfin.risk.text import REFUSED_CATEGORIES

MAX_EXPRESSION_LENGTH = 500
MAX_DEPTH = 40


class StaticType(StrEnum):
    NUMBER = "number"
    STRING = "string"
    CONDITION = "condition"


_FEATURE_TYPES = {
    FeatureType.INT: StaticType.NUMBER,
    FeatureType.FLOAT: StaticType.NUMBER,
    FeatureType.STR: StaticType.STRING,
    FeatureType.BOOL: StaticType.CONDITION,
}

_REFUSED = {
    ast.Attribute: "attribute access",
    ast.Call: "function calls",
    ast.Subscript: "subscripts",
    ast.Slice: "slices",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.IfExp: "conditional expressions (x if c else y)",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.Starred: "starred expressions",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}

_ORDERING: dict[type[ast.cmpop], Operation] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_EQUALITY: dict[type[ast.cmpop], Operation] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


_ARITHMETIC: dict[type[ast.operator], Operation] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: run.divide,
}
_OPERATOR_WORDS = {ast.Mod: "%", ast.Pow: "**", ast.FloorDiv: "//", ast.MatMult: "@"}


class _Missing:
    """Marks a node with no constant value (compile-time folding)."""


_NOT_CONSTANT = _Missing()


@dataclass(frozen=True, slots=True)
class _Node:
    type: StaticType
    evaluate: Evaluator
    constant: object = _NOT_CONSTANT
    feature: str | None = None  # set when the node reads one feature, for faster comparisons
    test: run.SimpleTest | None = None  # set for "feature op constant", fused by and / or

    @property
    def is_constant(self) -> bool:
        return self.constant is not _NOT_CONSTANT


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """A checked rule expression, ready to run.

    Attributes:
        text: the expression as written.
        features: the catalogue features it names, in order of first appearance.
        evaluate: the compiled closure: ``True``, ``False`` or ``None`` (unknown).
    """

    text: str
    features: tuple[str, ...]
    evaluate: Callable[[Values], object]

    def matches(self, values: Values) -> bool:
        """True only when the expression is true (false and unknown do not fire)."""
        return self.evaluate(values) is True


def refuse(node: ast.AST | None, problem: str) -> InvalidInput:
    """The error for ``problem``, located at ``node``'s column when there is one."""
    column = getattr(node, "col_offset", None)
    where = f" (at column {column + 1})" if column is not None else ""
    return InvalidInput(f"rule expression refused: {problem}{where}")


def compile_expression(text: str, catalogue: FeatureCatalogue = CATALOGUE) -> CompiledExpression:
    """Parse, check and compile ``text`` against ``catalogue``; :class:`InvalidInput` if it is
    not a safe, well-typed condition over known features."""
    tree = _parse(text)
    compiler = _Compiler(text, catalogue)
    node = compiler.compile(tree.body, 0)
    if node.type is not StaticType.CONDITION:
        raise refuse(tree.body, f"a rule is a condition, this expression is a {node.type}")
    if not compiler.names:
        raise refuse(None, "the expression names no feature, so it is always or never true")
    return CompiledExpression(text, tuple(compiler.names), node.evaluate)


def _parse(text: object) -> ast.Expression:
    if not isinstance(text, str):
        raise refuse(None, f"an expression is text, got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise refuse(None, f"{len(text)} characters long; at most {MAX_EXPRESSION_LENGTH}")
    if not text.strip():
        raise refuse(None, "the expression is blank")
    # Line breaks and tabs lay out a long rule; other controls, and format characters such as
    # a bidi override inside a string constant, would make the text read unlike what it does.
    refused = REFUSED_CATEGORIES
    bad = next((c for c in text if c not in "\n\t" and unicodedata.category(c) in refused), None)
    if bad is not None:
        raise refuse(None, f"control character U+{ord(bad):04X} in the expression")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise refuse(None, f"it does not parse: {error.msg} at column {error.offset}") from None
    except (ValueError, RecursionError, MemoryError):
        raise refuse(None, "it does not parse") from None


class _Compiler:
    """Walks a parsed expression once: checks each node, infers its type, builds its closure."""

    def __init__(self, text: str, catalogue: FeatureCatalogue) -> None:
        self.text = text
        self.catalogue = catalogue
        self.names: dict[str, None] = {}  # an ordered set

    def compile(self, node: ast.expr, depth: int) -> _Node:
        if depth > MAX_DEPTH:
            raise refuse(node, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Constant):
            return _constant(node)
        if isinstance(node, ast.BoolOp):
            return self._bool_op(node, depth + 1)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node, depth + 1)
        if isinstance(node, ast.BinOp):
            return self._arithmetic(node, depth + 1)
        if isinstance(node, ast.Compare):
            return self._compare(node, depth + 1)
        if isinstance(node, ast.Tuple | ast.List):
            raise refuse(node, "a tuple or list may only follow 'in' or 'not in'")
        words = _REFUSED.get(type(node), f"{type(node).__name__} expressions")
        raise refuse(node, f"not allowed in a rule: {words}")

    def _name(self, node: ast.Name) -> _Node:
        # The parser NFKC-normalises identifiers; insist the text says what the rule reads, so
        # a look-alike spelling cannot pass review as another name.
        written = ast.get_source_segment(self.text, node)
        if written != node.id:
            raise refuse(node, f"feature names are written in plain ASCII, not {written!r}")
        feature = self.catalogue.get(node.id)
        if feature is None:
            close = difflib.get_close_matches(node.id, list(self.catalogue), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise refuse(node, f"unknown feature {node.id!r}{hint}")
        self.names[node.id] = None
        return _Node(_FEATURE_TYPES[feature.type], run.read_feature(node.id), feature=node.id)

    def _bool_op(self, node: ast.BoolOp, depth: int) -> _Node:
        word = "and" if isinstance(node.op, ast.And) else "or"
        parts = [self.compile(value, depth) for value in node.values]
        for value, part in zip(node.values, parts, strict=True):
            if part.type is not StaticType.CONDITION:
                raise refuse(value, f"'{word}' joins conditions, this is a {part.type}")
        return _Node(StaticType.CONDITION, _joined(parts, word == "and"))

    def _unary(self, node: ast.UnaryOp, depth: int) -> _Node:
        operand = self.compile(node.operand, depth)
        if isinstance(node.op, ast.Not):
            if operand.type is not StaticType.CONDITION:
                raise refuse(node, f"'not' negates a condition, this is a {operand.type}")
            return _Node(StaticType.CONDITION, run.negation(operand.evaluate))
        if isinstance(node.op, ast.USub):
            if operand.type is not StaticType.NUMBER:
                raise refuse(node, f"'-' negates a number, this is a {operand.type}")
            if operand.is_constant:
                negated = -operand.constant  # type: ignore[operator]
                return _Node(StaticType.NUMBER, run.constant(negated), negated)
            return _Node(StaticType.NUMBER, run.minus(operand.evaluate))
        sign = "+" if isinstance(node.op, ast.UAdd) else "~"
        raise refuse(node, f"unary '{sign}' is not allowed")

    def _arithmetic(self, node: ast.BinOp, depth: int) -> _Node:
        function = _ARITHMETIC.get(type(node.op))
        if function is None:
            symbol = _OPERATOR_WORDS.get(type(node.op), type(node.op).__name__)
            raise refuse(node, f"the operator '{symbol}' is not allowed (only + - * /)")
        left = self.compile(node.left, depth)
        right = self.compile(node.right, depth)
        for side, part in ((node.left, left), (node.right, right)):
            if part.type is not StaticType.NUMBER:
                raise refuse(side, f"arithmetic works on numbers, this is a {part.type}")
        if left.is_constant and right.is_constant:
            try:
                value = run.finite(function(left.constant, right.constant))
            except OverflowError:
                value = None
            if value is None:
                raise refuse(node, "the constant arithmetic divides by zero or overflows")
            return _Node(StaticType.NUMBER, run.constant(value), value)
        return _Node(StaticType.NUMBER, run.binary(function, left.evaluate, right.evaluate))

    def _compare(self, node: ast.Compare, depth: int) -> _Node:
        left_node, left = node.left, self.compile(node.left, depth)
        if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
            if len(node.ops) > 1:
                raise refuse(node, "'in' and 'not in' are not chained with other comparisons")
            return _Node(
                StaticType.CONDITION, self._membership(left, node.ops[0], node.comparators[0])
            )
        pairs: list[_Node] = []
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.compile(right_node, depth)
            pairs.append(_comparison(op, left_node, left, right_node, right))
            left_node, left = right_node, right
        return pairs[0] if len(pairs) == 1 else _Node(StaticType.CONDITION, _joined(pairs, True))

    def _membership(self, left: _Node, op: ast.cmpop, right_node: ast.expr) -> Evaluator:
        word = "in" if isinstance(op, ast.In) else "not in"
        if not isinstance(right_node, ast.Tuple | ast.List):
            raise refuse(right_node, f"'{word}' takes a literal tuple or list of constants")
        if not right_node.elts:
            raise refuse(right_node, f"'{word}' needs at least one member")
        if left.type is StaticType.CONDITION:
            raise refuse(right_node, f"'{word}' tests a number or a string, not a condition")
        members = []
        for element in right_node.elts:
            member = _literal(element)
            if member.type is not left.type:
                raise refuse(element, f"'{word}' compares a {left.type} with a {member.type}")
            members.append(member.constant)
        return run.member_of(left.evaluate, frozenset(members), negate=word == "not in")


def _constant(node: ast.Constant) -> _Node:
    value = node.value
    if isinstance(value, bool):
        return _Node(StaticType.CONDITION, run.constant(value), value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise refuse(node, f"the number {value} is not finite")
        return _Node(StaticType.NUMBER, run.constant(value), value)
    if isinstance(value, str):
        return _Node(StaticType.STRING, run.constant(value), value)
    if value is None:
        raise refuse(node, "None is not a value; a missing feature never compares true anyway")
    raise refuse(node, f"{type(value).__name__} constants are not allowed")


def _literal(node: ast.expr) -> _Node:
    """A member of an ``in`` list: a constant, or a negated number."""
    if isinstance(node, ast.Constant):
        return _constant(node)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal(node.operand)
        if inner.type is StaticType.NUMBER:
            negated = -inner.constant  # type: ignore[operator]
            return _Node(StaticType.NUMBER, run.constant(negated), negated)
    raise refuse(node, "the members of an 'in' list are constants")


def _comparison(
    op: ast.cmpop, left_node: ast.expr, left: _Node, right_node: ast.expr, right: _Node
) -> _Node:
    if isinstance(op, ast.Is | ast.IsNot):
        raise refuse(right_node, "'is' is not allowed; use == or !=")
    ordering = _ORDERING.get(type(op))
    if ordering is not None:
        for side, part in ((left_node, left), (right_node, right)):
            if part.type is not StaticType.NUMBER:
                raise refuse(
                    side, f"only numbers are ordered with < <= > >=, this is a {part.type}"
                )
        return _pair(ordering, left, right)
    if left.type is not right.type:
        raise refuse(right_node, f"== and != compare like with like: {left.type} vs {right.type}")
    return _pair(_EQUALITY[type(op)], left, right)


def _pair(function: Operation, left: _Node, right: _Node) -> _Node:
    if left.feature is not None and right.is_constant:
        test = (left.feature, function, right.constant)
        compare = run.feature_vs_constant(function, left.feature, right.constant)
        return _Node(StaticType.CONDITION, compare, test=test)
    return _Node(StaticType.CONDITION, run.comparison(function, left.evaluate, right.evaluate))


def _joined(parts: list[_Node], conjunction: bool) -> Evaluator:
    """``and`` / ``or`` over ``parts``; when every part is a feature against a constant — the
    usual rule — one closure runs all the tests without a call per part."""
    tests = [part.test for part in parts]
    if all(test is not None for test in tests):
        simple = tuple(test for test in tests if test is not None)
        return run.all_tests(simple) if conjunction else run.any_test(simple)
    closures = [part.evaluate for part in parts]
    return run.all_of(closures) if conjunction else run.any_of(closures)
