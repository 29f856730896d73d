"""Money: integer minor units plus an ISO 4217 currency.

The currency table (alphabetic code, numeric code, minor-unit exponent) comes from the ISO 4217
list shipped by the maintained ``iso4217`` package, never a hand-typed table. Decimal strings
are parsed with an explicit rounding rule; formatting is locale-aware through Babel (CLDR).
No floating point ever touches an amount.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache

import iso4217
from babel.numbers import format_currency

from embedfin.core.errors import (
    AmountOutOfRange,
    CurrencyMismatch,
    InvalidAmount,
    UnknownCurrency,
)

#: Largest amount the ledger stores: balances are signed 64-bit integers in both databases.
MAX_AMOUNT_MINOR = (1 << 63) - 1


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency that has minor units defined.

    Attributes:
        code: alphabetic code, e.g. ``"USD"``.
        numeric: numeric code, e.g. ``840``; embedfin uses it as the currency's ledger number.
        exponent: digits after the decimal point (JPY 0, USD 2, KWD 3).
        name: the English name from the ISO list.
    """

    code: str
    numeric: int
    exponent: int
    name: str


@cache
def currency(code: str) -> Currency:
    """Look up a currency by alphabetic code (case-insensitive)."""
    try:
        entry = iso4217.Currency(code.strip().upper())
    except (ValueError, AttributeError):
        raise UnknownCurrency(f"unknown ISO 4217 currency: {code!r}") from None
    if entry.exponent is None:
        raise UnknownCurrency(f"{entry.code} has no minor unit; it cannot hold money")
    return Currency(entry.code, entry.number, entry.exponent, entry.currency_name)


@cache
def currency_by_numeric(numeric: int) -> Currency:
    """Look up a currency by ISO numeric code (the embedfin ledger number of that currency)."""
    for entry in iso4217.Currency:
        if entry.number == numeric and entry.exponent is not None:
            return currency(entry.code)
    raise UnknownCurrency(f"no ISO 4217 currency with numeric code {numeric}")


class Rounding(StrEnum):
    """How to treat digits beyond the currency's minor unit when parsing."""

    REJECT = "reject"
    HALF_EVEN = decimal.ROUND_HALF_EVEN
    HALF_UP = decimal.ROUND_HALF_UP
    DOWN = decimal.ROUND_DOWN
    UP = decimal.ROUND_UP
    FLOOR = decimal.ROUND_FLOOR
    CEILING = decimal.ROUND_CEILING


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount of one currency in integer minor units.

    Attributes:
        amount_minor: signed integer count of minor units (cents, yen, fils).
        currency: ISO 4217 alphabetic code.
    """

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise InvalidAmount(f"amount_minor must be an int, got {type(self.amount_minor)}")
        if abs(self.amount_minor) > MAX_AMOUNT_MINOR:
            raise AmountOutOfRange(f"{self.amount_minor} exceeds the largest storable amount")
        object.__setattr__(self, "currency", currency(self.currency).code)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    @property
    def decimal(self) -> Decimal:
        """The amount in major units, exact."""
        return Decimal(self.amount_minor).scaleb(-currency(self.currency).exponent)

    def __str__(self) -> str:
        exponent = currency(self.currency).exponent
        return f"{self.decimal:.{exponent}f} {self.currency}"

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        return [Money(part, self.currency) for part in allocate(self.amount_minor, ratios)]


def parse_money(text: str, currency_code: str, rounding: Rounding = Rounding.REJECT) -> Money:
    """Parse a decimal string in major units (``"12.34"``) into ``Money``.

    Digits beyond the currency's exponent are rejected unless a rounding rule is given.
    Exponent notation, NaN and infinities are rejected.
    """
    unit = currency(currency_code)
    cleaned = text.strip().replace("_", "")
    if not cleaned or any(ch not in "+-0123456789." for ch in cleaned):
        raise InvalidAmount(f"not a plain decimal amount: {text!r}")
    try:
        value = Decimal(cleaned)
    except decimal.InvalidOperation:
        raise InvalidAmount(f"not a plain decimal amount: {text!r}") from None
    scaled = value.scaleb(unit.exponent)
    if scaled != scaled.to_integral_value():
        if rounding is Rounding.REJECT:
            raise InvalidAmount(
                f"{text!r} has more than {unit.exponent} decimal places for {unit.code}"
            )
        scaled = scaled.to_integral_value(rounding=rounding.value)
    minor = int(scaled)
    if abs(minor) > MAX_AMOUNT_MINOR:
        raise AmountOutOfRange(f"{text!r} {unit.code} exceeds the largest storable amount")
    return Money(minor, unit.code)


def format_money(money: Money, locale: str = "en_US") -> str:
    """Format for people in a locale (CLDR via Babel). Never rounds away a minor unit."""
    return str(
        format_currency(money.decimal, money.currency, locale=locale, decimal_quantization=False)
    )


def allocate(amount_minor: int, ratios: Sequence[int]) -> list[int]:
    """Split an amount by integer ratios with no minor unit lost or invented.

    Largest-remainder method: each part gets the floor of its exact share, then the leftover
    units go one each to the parts with the largest remainders (earlier parts win ties), so the
    result is deterministic and ``sum(parts) == amount_minor`` always.
    """
    if not ratios:
        raise InvalidAmount("allocate needs at least one ratio")
    if any(r < 0 for r in ratios) or sum(ratios) == 0:
        raise InvalidAmount("ratios must be non-negative with a positive sum")
    sign = -1 if amount_minor < 0 else 1
    whole = abs(amount_minor)
    total = sum(ratios)
    parts = [whole * r // total for r in ratios]
    remainders = [whole * r % total for r in ratios]
    leftover = whole - sum(parts)
    order = sorted(range(len(ratios)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        parts[i] += 1
    return [sign * p for p in parts]
