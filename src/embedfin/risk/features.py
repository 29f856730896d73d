"""The feature catalogue: every signal a risk rule or model may name, and the checked vector.

Rules are data written by risk officers, so the names they may use are fixed here, each with a
type, a unit and a meaning; a rule naming anything else is refused before it is stored, and a
feature vector carrying an unknown name or a value of the wrong type is refused before it is
scored. Velocity and linked-account features also say which entity and window they count over,
so the online counters (database or Redis) can derive their keys from the catalogue instead of
from a second hand-kept list.

Families (issue 13): the request itself; velocity per buyer, payment token, device, IP, shipping
address and merchant over 1 h, 24 h and 7 d; first-seen and account age; the amount against the
buyer's history; declines in a row and card testing; accounts linked by a shared device, address
or payout account; fund-flow signals (wallet cycling, cash-out after a credit purchase).

A value may be missing (a guest has no account age): the vector simply lacks it, and the rules
treat a comparison with it as unknown (see ``rules_lang``). ``None`` in the input means missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from embedfin.core.errors import InvalidInput
from embedfin.risk.feature_types import (
    Entity,
    Feature,
    FeatureCatalogue,
    FeatureFamily,
    FeatureType,
    FeatureValue,
    Window,
    checked_value,
)

__all__ = [
    "CATALOGUE",
    "Entity",
    "Feature",
    "FeatureCatalogue",
    "FeatureFamily",
    "FeatureType",
    "FeatureValue",
    "FeatureVector",
    "Window",
]


class FeatureVector(Mapping[str, FeatureValue]):
    """A request's feature values, checked against a catalogue when built.

    ``by_name`` is a read-only view the compiled rules read directly (one C-level lookup per
    name); a float feature given an int holds it as a float. ``catalogue`` is the one it was
    checked against: rules compiled against another refuse it (their types could differ).
    """

    __slots__ = ("by_name", "catalogue")

    by_name: Mapping[str, FeatureValue]
    catalogue: FeatureCatalogue

    def __init__(
        self, values: Mapping[str, object], catalogue: FeatureCatalogue | None = None
    ) -> None:
        known = CATALOGUE if catalogue is None else catalogue
        checked: dict[str, FeatureValue] = {}
        for name, value in values.items():
            feature = known.get(name) if isinstance(name, str) else None
            if feature is None:
                raise InvalidInput(f"unknown feature {name!r}: not in the catalogue")
            if value is not None:
                checked[name] = checked_value(feature, value)
        self.by_name = MappingProxyType(checked)
        self.catalogue = known

    @classmethod
    def computed(
        cls, values: Mapping[str, FeatureValue], catalogue: FeatureCatalogue | None = None
    ) -> FeatureVector:
        """A vector of values this package computed itself — a checked ``RiskSubject``'s
        request features and ``signals.features`` of a store's reads — taken as they are: their
        names come from the catalogue and their types are the catalogue's (floats as floats),
        which ``tests/risk/test_features.py`` holds against the checking constructor. Checking
        them again per check would cost more than the rules that read them; anything from
        outside (a rule's test vector, an API body, a stored row) goes through ``__init__``."""
        vector = cls.__new__(cls)
        vector.by_name = MappingProxyType({k: v for k, v in values.items() if v is not None})
        vector.catalogue = CATALOGUE if catalogue is None else catalogue
        return vector

    def __getitem__(self, name: str) -> FeatureValue:
        return self.by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_name)

    def __len__(self) -> int:
        return len(self.by_name)

    def __repr__(self) -> str:
        return f"FeatureVector({dict(self.by_name)!r})"


_ENTITY_WORDS = {
    Entity.BUYER: "by this buyer",
    Entity.TOKEN: "with this payment token (card or bank account)",
    Entity.DEVICE: "from this device",
    Entity.IP: "from this IP address",
    Entity.ADDRESS: "to this shipping address",
    Entity.MERCHANT: "at this merchant",
}


def _velocity() -> Iterator[Feature]:
    for entity, words in _ENTITY_WORDS.items():
        for window in Window:
            yield Feature(
                f"{entity.value}_orders_{window.value}",
                FeatureType.INT,
                "count",
                f"checkout attempts (paid or declined) {words} in the last {window.value}, "
                "this one excluded",
                FeatureFamily.VELOCITY,
                entity,
                window,
            )
            yield Feature(
                f"{entity.value}_amount_{window.value}",
                FeatureType.INT,
                "minor units",
                f"sum of the checkout attempts {words} in the last {window.value}, in minor "
                "units of this request's currency, this one excluded",
                FeatureFamily.VELOCITY,
                entity,
                window,
            )


_I, _F, _B, _S = FeatureType.INT, FeatureType.FLOAT, FeatureType.BOOL, FeatureType.STR
_REQ, _SEEN, _HIST = FeatureFamily.REQUEST, FeatureFamily.FIRST_SEEN, FeatureFamily.AMOUNT_HISTORY
_DEC, _LINK, _FLOW = FeatureFamily.DECLINES, FeatureFamily.LINKED_ACCOUNTS, FeatureFamily.FUND_FLOW


def _f(
    name: str,
    kind: FeatureType,
    unit: str,
    family: FeatureFamily,
    description: str,
    entity: Entity | None = None,
    window: Window | None = None,
) -> Feature:
    return Feature(name, kind, unit, description, family, entity, window)


#: Every feature but the velocity grid, in the order the catalogue lists them.
_TABLE = (
    _f("amount_minor", _I, "minor units", _REQ, "the amount this operation moves"),
    _f("currency", _S, "ISO 4217 code", _REQ, "the currency of the amount"),
    _f("kind", _S, "subject kind", _REQ, "checkout, top_up, withdrawal, payout, … (RiskSubject)"),
    _f("payment_method", _S, "method code", _REQ, "wallet, card, bank_transfer, ewallet, qr, bnpl"),
    _f("ip_country", _S, "ISO 3166-1 alpha-2", _REQ, "country the request's IP address maps to"),
    _f("shipping_country", _S, "ISO 3166-1 alpha-2", _REQ, "country of the shipping address"),
    _f("card_country", _S, "ISO 3166-1 alpha-2", _REQ, "issuing country of the card (BIN table)"),
    _f("is_guest", _B, "flag", _REQ, "no buyer account: a guest checkout"),
    _f("account_age_days", _I, "days", _SEEN, "days since the buyer's account was opened"),
    _f("card_first_seen_days", _I, "days", _SEEN, "days since the platform first saw this token"),
    _f("device_first_seen_days", _I, "days", _SEEN, "days since the platform first saw the device"),
    _f("ip_first_seen_days", _I, "days", _SEEN, "days since the platform first saw the IP"),
    _f(
        "address_first_seen_days",
        _I,
        "days",
        _SEEN,
        "days since the platform first saw the address",
    ),
    _f("merchant_age_days", _I, "days", _SEEN, "days since the merchant was onboarded"),
    _f("device_new_for_buyer", _B, "flag", _SEEN, "the buyer never used this device before"),
    _f("card_new_for_buyer", _B, "flag", _SEEN, "the buyer never used this payment token before"),
    _f(
        "address_new_for_buyer", _B, "flag", _SEEN, "the buyer never shipped to this address before"
    ),
    _f(
        "days_since_profile_change",
        _I,
        "days",
        _SEEN,
        "days since the buyer changed email, phone "
        "or address (account takeover changes them before cashing out)",
    ),
    _f(
        "amount_to_buyer_median",
        _F,
        "ratio",
        _HIST,
        "amount over the median of the buyer's paid orders in 90 days (missing without history)",
    ),
    _f(
        "amount_buyer_zscore",
        _F,
        "standard deviations",
        _HIST,
        "(log amount − mean) / standard "
        "deviation of the log amounts of the buyer's paid orders in 90 days",
    ),
    _f(
        "buyer_paid_orders_90d",
        _I,
        "count",
        _HIST,
        "paid orders of the buyer in 90 days: how much history the two ratios above rest on",
    ),
    _f(
        "declines_in_a_row",
        _I,
        "count",
        _DEC,
        "consecutive declined attempts on this buyer's (for "
        "a guest, this device's) latest attempts: card testing and stolen-card trial and error",
    ),
    _f(
        "token_declines_24h",
        _I,
        "count",
        _DEC,
        "declined attempts with this token in 24 h",
        Entity.TOKEN,
        Window.H24,
    ),
    _f(
        "device_declines_1h",
        _I,
        "count",
        _DEC,
        "declined attempts from this device in 1 h",
        Entity.DEVICE,
        Window.H1,
    ),
    _f(
        "device_tokens_24h",
        _I,
        "count",
        _DEC,
        "distinct payment tokens tried from this device in "
        "24 h (many cards, one device: card testing)",
        Entity.DEVICE,
        Window.H24,
    ),
    _f(
        "merchant_decline_rate_1h",
        _F,
        "share 0..1",
        _DEC,
        "share of this merchant's attempts declined in 1 h",
        Entity.MERCHANT,
        Window.H1,
    ),
    _f(
        "device_accounts_24h",
        _I,
        "count",
        _LINK,
        "distinct buyer accounts seen on this device in 24 h, this request's included",
        Entity.DEVICE,
        Window.H24,
    ),
    _f(
        "device_accounts_7d",
        _I,
        "count",
        _LINK,
        "distinct buyer accounts seen on this device in 7 d, this request's included "
        "(multi-accounting, promo abuse)",
        Entity.DEVICE,
        Window.D7,
    ),
    _f(
        "ip_accounts_24h",
        _I,
        "count",
        _LINK,
        "distinct buyer accounts seen from this IP in 24 h, this request's included",
        Entity.IP,
        Window.H24,
    ),
    _f(
        "address_accounts_7d",
        _I,
        "count",
        _LINK,
        "distinct buyer accounts shipping to this address in 7 d, this request's included",
        Entity.ADDRESS,
        Window.D7,
    ),
    _f(
        "token_accounts_7d",
        _I,
        "count",
        _LINK,
        "distinct buyer accounts using this payment token in 7 d, this request's included",
        Entity.TOKEN,
        Window.D7,
    ),
    _f(
        "buyer_devices_7d",
        _I,
        "count",
        _LINK,
        "distinct devices this buyer used in 7 d, this request's included",
        Entity.BUYER,
        Window.D7,
    ),
    _f(
        "payout_account_merchants",
        _I,
        "count",
        _LINK,
        "merchants paying out to the same bank account as this merchant",
        Entity.PAYOUT_ACCOUNT,
    ),
    _f(
        "linked_accounts",
        _I,
        "count",
        _LINK,
        "other accounts sharing a device, shipping address "
        "or payout account with this one in 90 days",
    ),
    _f(
        "self_purchase",
        _B,
        "flag",
        _LINK,
        "buyer and merchant share a device, IP or shipping "
        "address: a merchant buying from itself (fake orders)",
    ),
    _f(
        "wallet_cycles_7d",
        _I,
        "count",
        _FLOW,
        "top-ups of the buyer's wallet in 7 d withdrawn "
        "(at least 90%) within 24 h: money passed through, not spent",
    ),
    _f(
        "cash_out_after_credit_24h",
        _B,
        "flag",
        _FLOW,
        "a withdrawal or payout within 24 h of a "
        "purchase paid on credit (credit cash-out through fake orders)",
    ),
    _f("credit_purchases_24h", _I, "count", _FLOW, "purchases of the buyer paid on credit in 24 h"),
    _f(
        "buyer_refunds_7d",
        _I,
        "count",
        _FLOW,
        "money given back to the buyer in 7 d — refunds, returns, disputes and chargebacks "
        "(a serial refunder keeps the goods and claims the money back)",
        Entity.BUYER,
        Window.D7,
    ),
    _f(
        "buyer_refunded_amount_7d",
        _I,
        "minor units",
        _FLOW,
        "sum of what was given back to the buyer in 7 d, in this request's currency",
        Entity.BUYER,
        Window.D7,
    ),
    _f("credit_utilisation", _F, "share 0..1", _FLOW, "share of the buyer's credit limit in use"),
)


def _catalogue() -> FeatureCatalogue:
    return FeatureCatalogue([*_TABLE[:8], *_velocity(), *_TABLE[8:]])


#: The catalogue rules and models name by default.
CATALOGUE = _catalogue()
