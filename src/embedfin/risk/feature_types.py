"""The vocabulary of features: their types, families, counter keys and windows.

Split from ``features`` (which holds the catalogue itself and the checked vector) so the
catalogue's long table stays readable on its own. A feature's value is checked against its type
here: ``bool`` is never an ``int`` feature, a float feature holds a finite number, a string
feature a short code without control characters.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from embedfin.core.errors import InvalidInput
from embedfin.risk.text import checked_text

#: What a feature holds. ``bool`` is tested before ``int`` everywhere: in Python it is an int.
FeatureValue = int | float | bool | str

#: The largest integer a feature may hold: counters and sums are 64-bit in both databases.
MAX_INT_FEATURE = (1 << 63) - 1
#: Longest string feature (a country, a method, a kind): short codes, never free text.
MAX_STR_FEATURE = 64


class FeatureType(StrEnum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STR = "str"


class FeatureFamily(StrEnum):
    REQUEST = "request"
    VELOCITY = "velocity"
    FIRST_SEEN = "first_seen"
    AMOUNT_HISTORY = "amount_history"
    DECLINES = "declines"
    LINKED_ACCOUNTS = "linked_accounts"
    FUND_FLOW = "fund_flow"


class Entity(StrEnum):
    """What a velocity or linked-account counter is keyed by."""

    BUYER = "buyer"
    TOKEN = "token"
    DEVICE = "device"
    IP = "ip"
    ADDRESS = "address"
    MERCHANT = "merchant"
    PAYOUT_ACCOUNT = "payout_account"


class Window(StrEnum):
    """A sliding window a counter looks back over."""

    H1 = "1h"
    H24 = "24h"
    D7 = "7d"

    @property
    def seconds(self) -> int:
        return {"1h": 3_600, "24h": 86_400, "7d": 604_800}[self.value]


@dataclass(frozen=True, slots=True)
class Feature:
    """One named signal.

    Attributes:
        name: the identifier rules use (a Python identifier, not a keyword).
        type: what its value is.
        unit: what one unit of it means (``count``, ``days``, ``minor units``, ``ratio``, …).
        description: how it is computed, for the risk officer writing a rule.
        family: the issue's family it belongs to.
        entity: the key of a velocity or linked-account counter, else ``None``.
        window: the window such a counter looks back over, else ``None`` (all time or n/a).
    """

    name: str
    type: FeatureType
    unit: str
    description: str
    family: FeatureFamily
    entity: Entity | None = None
    window: Window | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or keyword.iskeyword(self.name):
            raise InvalidInput(f"feature name {self.name!r} is not a plain identifier")


class FeatureCatalogue(Mapping[str, Feature]):
    """The features by name; refuses duplicates."""

    __slots__ = ("_features",)

    def __init__(self, features: Iterable[Feature]) -> None:
        by_name: dict[str, Feature] = {}
        for feature in features:
            if feature.name in by_name:
                raise InvalidInput(f"feature {feature.name!r} is declared twice")
            by_name[feature.name] = feature
        self._features = MappingProxyType(by_name)

    def __getitem__(self, name: str) -> Feature:
        return self._features[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._features)

    def __len__(self) -> int:
        return len(self._features)

    def __repr__(self) -> str:
        return f"FeatureCatalogue({len(self)} features)"


def checked_value(feature: Feature, value: object) -> FeatureValue:
    """``value`` as ``feature``'s type, or :class:`InvalidInput` saying what is wrong."""
    kind = feature.type
    if kind is FeatureType.BOOL and isinstance(value, bool):
        return value
    if kind is FeatureType.STR:
        return checked_text(f"feature {feature.name}", value, MAX_STR_FEATURE)
    if isinstance(value, bool):
        pass
    elif kind is FeatureType.INT and isinstance(value, int):
        if abs(value) > MAX_INT_FEATURE:
            raise InvalidInput(f"feature {feature.name} = {value} exceeds a 64-bit integer")
        return value
    elif kind is FeatureType.FLOAT and isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidInput(f"feature {feature.name} is {value}; leave it out instead")
        return float(value)
    raise InvalidInput(
        f"feature {feature.name} is {kind.value}, got {type(value).__name__} {value!r}"
    )
