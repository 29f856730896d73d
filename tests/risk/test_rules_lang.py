"""The rule language: what it allows and computes, what it refuses and says, missing values."""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import InvalidInput
from embedfin.risk.features import FeatureVector
from embedfin.risk.rules_lang import MAX_DEPTH, MAX_EXPRESSION_LENGTH, compile_expression
from tests.risk.strategies import expressions, feature_vectors

REQUEST = {
    "buyer_orders_1h": 6,
    "amount_to_buyer_median": 3.5,
    "amount_minor": 48_000,
    "ip_country": "NL",
    "shipping_country": "DE",
    "payment_method": "card",
    "device_accounts_7d": 1,
    "declines_in_a_row": 4,
    "is_guest": False,
    "cash_out_after_credit_24h": True,
}


def _run(expression: str, values: dict[str, object] | None = None) -> object:
    compiled = compile_expression(expression)
    return compiled.evaluate(FeatureVector(REQUEST if values is None else values).by_name)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # the examples
        ("buyer_orders_1h >= 5 and amount_to_buyer_median > 3", True),
        ("(buyer_orders_1h >= 5\n    and amount_to_buyer_median > 3)", True),  # laid out
        ("ip_country != shipping_country", True),
        ("device_accounts_7d >= 3 or declines_in_a_row >= 4", True),
        ('payment_method in ("card", "bnpl")', True),
        # every comparison
        ("buyer_orders_1h == 6", True),
        ("buyer_orders_1h != 6", False),
        ("buyer_orders_1h < 6", False),
        ("buyer_orders_1h <= 6", True),
        ("buyer_orders_1h > 6", False),
        ("buyer_orders_1h >= 6", True),
        ("1 < buyer_orders_1h <= 6", True),  # chains
        ("1 < buyer_orders_1h < 6", False),
        ("5 < buyer_orders_1h", True),  # constant on the left
        ('ip_country == "NL"', True),
        ("is_guest == False", True),
        ("(buyer_orders_1h > 5) == cash_out_after_credit_24h", True),
        # membership: tuples and lists, numbers and strings, negated numbers
        ('payment_method not in ["wallet", "qr"]', True),
        ("buyer_orders_1h in (-1, 6, 9)", True),
        ("amount_to_buyer_median in (3.5,)", True),
        ("buyer_orders_1h in (6.0,)", True),  # numbers compare as numbers
        # boolean operators and bool features
        ("not is_guest", True),
        ("cash_out_after_credit_24h and not is_guest", True),
        ("is_guest or buyer_orders_1h > 100 or declines_in_a_row == 4", True),
        ("is_guest and buyer_orders_1h > 0", False),
        # arithmetic
        ("amount_minor / 100 > 479.99", True),
        ("amount_minor * 2 - 1 == 95999", True),
        ("buyer_orders_1h + declines_in_a_row == 10", True),
        ("-buyer_orders_1h < -5", True),
        ("amount_minor > 100 * 100 * 4", True),  # constants fold
        ("amount_minor / (declines_in_a_row - 4) > 1", None),  # division by zero: unknown
        ("amount_to_buyer_median * 1e308 * 10 > 0", None),  # float overflow: unknown
    ],
)
def test_allowed_constructs_compute_what_they_say(expression: str, expected: object) -> None:
    assert _run(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("amount_minor.real > 1", "not allowed in a rule: attribute access"),
        ("__import__('os').system('true')", "not allowed in a rule: function calls"),
        ("abs(amount_minor) > 1", "not allowed in a rule: function calls"),
        ("payment_method[0] == 'c'", "not allowed in a rule: subscripts"),
        ("(lambda: 1)() > 0", "not allowed in a rule: function calls"),
        ("(lambda: is_guest)", "not allowed in a rule: lambdas"),
        ("any([x > 1 for x in (1, 2)])", "not allowed in a rule: function calls"),
        ("[x for x in (1, 2)] == 1", "not allowed in a rule: comprehensions"),
        ("(x for x in (1,))", "not allowed in a rule: comprehensions"),
        ('f"{payment_method}" == "card"', "not allowed in a rule: f-strings"),
        ("(buyer_orders_1h := 5) > 1", "not allowed in a rule: assignment expressions"),
        ("buyer_orders_1h if is_guest else 1", "not allowed in a rule: conditional"),
        ("{'a': 1} == 1", "not allowed in a rule: dicts"),
        ("payment_method in {'card'}", "'in' takes a literal tuple or list"),
        ("buyer_orders_1h is 1", "'is' is not allowed"),
        ("buyer_orders_1h is not 1", "'is' is not allowed"),
        ("buyer_orders_1h ** 2 > 1", "the operator '**' is not allowed"),
        ("buyer_orders_1h % 2 == 1", "the operator '%' is not allowed"),
        ("buyer_orders_1h // 2 == 1", "the operator '//' is not allowed"),
        ("+buyer_orders_1h > 1", "unary '+' is not allowed"),
        ("~buyer_orders_1h > 1", "unary '~' is not allowed"),
        ("buyer_orders_1h > None", "None is not a value"),
        ("amount_minor > b'1'", "bytes constants are not allowed"),
        ("amount_minor > 1j", "complex constants are not allowed"),
        ("amount_minor > ...", "ellipsis constants are not allowed"),
        ("amount_minor > 1e999", "not finite"),
        ("amount_minor > 1 / 0", "divides by zero"),
        (f"amount_minor > {'9' * 400} / 3", "divides by zero or overflows"),
        ("(1, 2) == amount_minor", "a tuple or list may only follow 'in'"),
        ("buyer_orders_1h >", "does not parse"),
        ("buyer_orders_1h > 1; is_guest", "does not parse"),
        ("import os", "does not parse"),
        ("", "blank"),
        ("amount_minor > 1\x00", "control character U+0000"),
        ("amount_minor > 1\x7f", "control character U+007F"),
        ("ip_country == '\u202eED'", "control character U+202E"),  # bidi override in a string
        ("amount_minor > 1 " + " " * MAX_EXPRESSION_LENGTH, "at most 500"),
        ("not " * (MAX_DEPTH + 1) + "is_guest", f"nested more than {MAX_DEPTH} levels"),
        ("1 < 2", "names no feature"),
        ("True", "names no feature"),
    ],
)
def test_refused_constructs_say_why(expression: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        compile_expression(expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "buyer_orderz_1h > 5",
            "unknown feature 'buyer_orderz_1h'; did you mean 'buyer_orders_1h'",
        ),
        ("velocity > 5", "unknown feature 'velocity'"),
        ("\uff42uyer_orders_1h > 5", "plain ASCII"),  # fullwidth b: NFKC would read buyer_...
        ("payment_method > 1", "only numbers are ordered"),
        ("ip_country < shipping_country", "only numbers are ordered"),
        ("is_guest > 0", "only numbers are ordered"),
        ("payment_method == 1", "compare like with like: string vs number"),
        ("is_guest == 1", "compare like with like: condition vs number"),
        ("payment_method in ('card', 1)", "'in' compares a string with a number"),
        ("buyer_orders_1h in ('1',)", "'in' compares a number with a string"),
        ("is_guest in (True,)", "'in' tests a number or a string, not a condition"),
        ("payment_method in ()", "'in' needs at least one member"),
        ("buyer_orders_1h in (1,) in (2,)", "not chained"),
        ("payment_method in (ip_country,)", "members of an 'in' list are constants"),
        ("payment_method + 'x' == 'cardx'", "arithmetic works on numbers, this is a string"),
        ("not buyer_orders_1h", "'not' negates a condition, this is a number"),
        ("-is_guest", "'-' negates a number, this is a condition"),
        ("buyer_orders_1h and is_guest", "'and' joins conditions, this is a number"),
        ("is_guest or payment_method", "'or' joins conditions, this is a string"),
        ("buyer_orders_1h", "a rule is a condition, this expression is a number"),
        ("payment_method", "a rule is a condition, this expression is a string"),
    ],
)
def test_type_and_name_errors_are_caught_before_any_data(expression: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        compile_expression(expression)


def test_errors_point_at_the_column() -> None:
    with pytest.raises(InvalidInput, match=r"unknown feature 'nope' \(at column 25\)"):
        compile_expression("buyer_orders_1h > 1 and nope > 2")


def test_a_compiled_expression_lists_the_features_it_reads_once_in_order() -> None:
    compiled = compile_expression("amount_minor > 5 and (is_guest or amount_minor < 9)")
    assert compiled.features == ("amount_minor", "is_guest")


# --- missing features ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("account_age_days > 30", None),
        ("account_age_days <= 30", None),
        ("not (account_age_days > 30)", None),  # not unknown stays unknown: no surprise hit
        ("account_age_days != 30", None),
        ("ip_country in ('DE',)", None),
        ("ip_country not in ('DE',)", None),
        ("is_guest", None),
        ("not is_guest", None),
        ("account_age_days + 1 > 0", None),
        ("account_age_days > 30 and buyer_orders_1h > 100", False),  # false wins over unknown
        ("account_age_days > 30 or buyer_orders_1h > 1", True),  # true wins over unknown
        ("account_age_days > 30 or buyer_orders_1h > 100", None),
    ],
)
def test_missing_features_are_unknown_and_never_fire(expression: str, expected: object) -> None:
    compiled = compile_expression(expression)
    values = FeatureVector({"buyer_orders_1h": 6}).by_name
    assert compiled.evaluate(values) is expected
    assert compiled.matches(values) is (expected is True)


_NEGATED = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!=", "!=": "=="}
_NUMBERS = st.one_of(st.integers(-50, 50), st.floats(-50, 50, allow_nan=False))


@given(
    op=st.sampled_from(sorted(_NEGATED)),
    constant=st.integers(-5, 5),
    value=st.one_of(st.none(), st.integers(-10, 10)),
    divisor=st.one_of(st.none(), st.integers(-2, 2)),
)
def test_not_of_a_comparison_is_the_negated_comparison(
    op: str, constant: int, value: int | None, divisor: int | None
) -> None:
    """Three-valued logic keeps ``not (x > c)`` the same rule as ``x <= c``, missing values and
    division by zero included (a two-valued 'missing is false' would make the first fire)."""
    left = "(buyer_orders_1h / declines_in_a_row)"
    values = FeatureVector({"buyer_orders_1h": value, "declines_in_a_row": divisor}).by_name
    negated = compile_expression(f"not ({left} {op} {constant})")
    direct = compile_expression(f"{left} {_NEGATED[op]} {constant}")
    assert negated.evaluate(values) == direct.evaluate(values)


@given(
    a=st.one_of(st.none(), st.booleans()),
    b=st.one_of(st.none(), st.booleans()),
)
def test_de_morgan_holds_with_unknowns(a: bool | None, b: bool | None) -> None:
    values = FeatureVector({"is_guest": a, "cash_out_after_credit_24h": b}).by_name
    for left, right in [
        (
            "not (is_guest and cash_out_after_credit_24h)",
            "not is_guest or not cash_out_after_credit_24h",
        ),
        (
            "not (is_guest or cash_out_after_credit_24h)",
            "not is_guest and not cash_out_after_credit_24h",
        ),
    ]:
        assert compile_expression(left).evaluate(values) == compile_expression(right).evaluate(
            values
        )


def test_integer_arithmetic_too_large_for_a_float_is_unknown_not_an_error() -> None:
    big = "amount_minor * amount_minor * amount_minor"
    compiled = compile_expression(" * ".join([big] * 6) + " / 3 > 1")  # (2**63)**18 / 3
    values = FeatureVector({"amount_minor": (1 << 63) - 1}).by_name
    assert compiled.evaluate(values) is None


@given(x=_NUMBERS, y=_NUMBERS)
def test_arithmetic_is_python_arithmetic_on_known_values(x: float, y: float) -> None:
    values = FeatureVector({"amount_to_buyer_median": x, "amount_buyer_zscore": y}).by_name
    compiled = compile_expression("amount_to_buyer_median * 2 - amount_buyer_zscore > 1.5")
    assert compiled.evaluate(values) == (float(x) * 2 - float(y) > 1.5)


# --- the compiled closures against a plain tree-walking reference ----------------------------

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def _kleene(values: list[object], conjunction: bool) -> object:
    decisive = not conjunction  # False decides an 'and', True an 'or'
    if decisive in values:
        return decisive
    return None if None in values else conjunction


def _reference(node: ast.expr, values: Mapping[str, object]) -> object:
    """The language's meaning, written the slow and obvious way (unknown is ``None``)."""
    if isinstance(node, ast.Name):
        return values.get(node.id)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BoolOp):
        parts = [_reference(value, values) for value in node.values]
        return _kleene(parts, isinstance(node.op, ast.And))
    if isinstance(node, ast.UnaryOp):
        inner = _reference(node.operand, values)
        if inner is None:
            return None
        return (not inner) if isinstance(node.op, ast.Not) else -inner  # type: ignore[operator]
    if isinstance(node, ast.BinOp):
        a, b = _reference(node.left, values), _reference(node.right, values)
        if a is None or b is None or (isinstance(node.op, ast.Div) and b == 0):
            return None
        function = operator.truediv if isinstance(node.op, ast.Div) else _ARITH[type(node.op)]
        result = function(a, b)
        return None if isinstance(result, float) and not math.isfinite(result) else result
    assert isinstance(node, ast.Compare)
    left = _reference(node.left, values)
    if isinstance(node.ops[0], ast.In | ast.NotIn):
        members = ast.literal_eval(node.comparators[0])
        if left is None:
            return None
        return (left in members) is isinstance(node.ops[0], ast.In)
    results = []
    for op, comparator in zip(node.ops, node.comparators, strict=True):
        right = _reference(comparator, values)
        results.append(None if left is None or right is None else _COMPARE[type(op)](left, right))
        left = right
    return _kleene(results, True)


@given(expression=expressions, vector=feature_vectors)
def test_compiled_expressions_agree_with_a_tree_walking_reference(
    expression: str, vector: FeatureVector
) -> None:
    compiled = compile_expression(expression)
    expected = _reference(ast.parse(expression, mode="eval").body, vector.by_name)
    assert compiled.evaluate(vector.by_name) == expected
