"""Money: ISO 4217 exponents, parsing with explicit rounding, locale formatting, allocation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import (
    AmountOutOfRange,
    CurrencyMismatch,
    InvalidAmount,
    UnknownCurrency,
)
from embedfin.core.money import (
    MAX_AMOUNT_MINOR,
    Money,
    Rounding,
    allocate,
    currency,
    currency_by_numeric,
    format_money,
    parse_money,
)


@pytest.mark.parametrize(
    ("code", "numeric", "exponent"),
    # ISO 4217 list one (SIX): minor units and numeric codes.
    [
        ("JPY", 392, 0),
        ("USD", 840, 2),
        ("EUR", 978, 2),
        ("KWD", 414, 3),
        ("BHD", 48, 3),
        ("CLF", 990, 4),
        ("CNY", 156, 2),
        ("KRW", 410, 0),
    ],
)
def test_currency_exponents_come_from_the_iso_list(code: str, numeric: int, exponent: int) -> None:
    found = currency(code.lower())
    assert (found.code, found.numeric, found.exponent) == (code, numeric, exponent)
    assert currency_by_numeric(numeric) == found


@pytest.mark.parametrize("code", ["XXX", "ABC", "", "XAU"])
def test_unknown_or_unitless_currency_is_refused(code: str) -> None:
    with pytest.raises(UnknownCurrency):
        currency(code)


def test_parse_uses_the_currency_exponent() -> None:
    assert parse_money("12.34", "USD") == Money(1234, "USD")
    assert parse_money("1234", "JPY") == Money(1234, "JPY")
    assert parse_money("1.234", "KWD") == Money(1234, "KWD")
    assert parse_money("-0.01", "EUR") == Money(-1, "EUR")


def test_parse_refuses_extra_digits_unless_a_rounding_rule_is_named() -> None:
    with pytest.raises(InvalidAmount):
        parse_money("12.345", "USD")
    with pytest.raises(InvalidAmount):
        parse_money("1.5", "JPY")
    assert parse_money("12.345", "USD", Rounding.HALF_EVEN).amount_minor == 1234
    assert parse_money("12.355", "USD", Rounding.HALF_EVEN).amount_minor == 1236
    assert parse_money("12.345", "USD", Rounding.HALF_UP).amount_minor == 1235
    assert parse_money("-12.345", "USD", Rounding.FLOOR).amount_minor == -1235
    assert parse_money("1.5", "JPY", Rounding.DOWN).amount_minor == 1


@pytest.mark.parametrize("text", ["", "abc", "1e3", "NaN", "inf", "1,000.00", "0x10", "--1"])
def test_parse_refuses_anything_but_a_plain_decimal(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_money(text, "USD")


def test_parse_refuses_amounts_beyond_the_storable_range() -> None:
    with pytest.raises(AmountOutOfRange):
        parse_money("92233720368547758.08", "USD")
    assert parse_money("92233720368547758.07", "USD").amount_minor == MAX_AMOUNT_MINOR


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(InvalidAmount):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(CurrencyMismatch):
        _ = Money(1, "USD") + Money(1, "EUR")


def test_format_follows_the_locale_and_never_rounds_away_minor_units() -> None:
    assert format_money(Money(123456, "USD"), "en_US") == "$1,234.56"
    assert format_money(Money(123456, "EUR"), "de_DE") == "1.234,56\xa0€"
    assert format_money(Money(1234, "JPY"), "ja_JP") == "￥1,234"
    assert format_money(Money(1234567, "KWD"), "en_US").endswith("1,234.567")


def test_allocate_example() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(5, [0, 1]) == [0, 5]


def test_allocate_refuses_bad_ratios() -> None:
    for ratios in ([], [0, 0], [1, -1]):
        with pytest.raises(InvalidAmount):
            allocate(10, ratios)


@given(
    st.integers(-MAX_AMOUNT_MINOR, MAX_AMOUNT_MINOR),
    st.lists(st.integers(0, 10_000), min_size=1, max_size=12).filter(lambda r: sum(r) > 0),
)
def test_allocate_never_loses_or_invents_a_minor_unit(amount: int, ratios: list[int]) -> None:
    parts = allocate(amount, ratios)
    assert sum(parts) == amount
    total = sum(ratios)
    for part, ratio in zip(parts, ratios, strict=True):
        exact = abs(amount) * ratio / total  # only to bound the error, never to compute money
        assert abs(abs(part) - exact) < 1 + 1e-6 * abs(amount)
        if ratio == 0:
            assert part == 0


@given(st.integers(-(10**15), 10**15), st.sampled_from(["USD", "JPY", "KWD", "CLF"]))
def test_parse_and_str_round_trip(amount: int, code: str) -> None:
    money = Money(amount, code)
    text, _, unit = str(money).partition(" ")
    assert unit == code
    assert parse_money(text, code) == money
