"""What a money-moving operation asks the risk context, and what it answers.

An operation (checkout by any method, top-up, withdrawal, payout, card authorisation, credit
decision) describes itself as a :class:`RiskSubject`, optionally with the :class:`RiskContext` the
client sent (device, IP, user agent, shipping address), and gets a :class:`RiskDecision`: one
:class:`Action` with the reasons behind it, the rule hits (live and shadow) and the rule-set
version that decided, so a case, a chargeback or an audit can replay why.

Actions are ordered by severity — allow < challenge < review < block — and several rules combine
by taking the most severe (:meth:`Action.max`). ``Action`` overrides the ordering operators it
inherits from ``str``, which would otherwise compare the spellings alphabetically.

The context arrives from browsers and SDKs, so it is checked strictly when built: an IP that is
not an IP, a field too long or carrying control characters, an unknown key — each is refused with
:class:`~embedfin.core.errors.InvalidInput` and nothing is scored. An absent context is fine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import MappingProxyType

from embedfin.core.errors import InvalidAmount, InvalidInput
from embedfin.core.money import MAX_AMOUNT_MINOR, currency
from embedfin.risk.features import FeatureValue
from embedfin.risk.text import checked_text


class Action(StrEnum):
    """What the operation does next: go on, step up, hold for a person, or refuse.

    ``<``, ``<=``, ``>``, ``>=`` (and so ``sorted``, ``max``) compare by severity, not by
    spelling: as plain strings ``"block" < "challenge"``, which would make
    ``action >= Action.REVIEW`` silently wrong. Comparing with anything that is not an action
    is a ``TypeError``.
    """

    ALLOW = "allow"
    CHALLENGE = "challenge"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        """0 for allow up to 3 for block: the order several rules' actions combine in."""
        return _SEVERITY[self.value]

    @classmethod
    def max(cls, actions: Iterable[Action]) -> Action:
        """The most severe of ``actions``; allow when there are none."""
        worst = Action.ALLOW
        for action in actions:
            if _SEVERITY[action] > _SEVERITY[worst]:
                worst = action
        return worst

    def __lt__(self, other: str) -> bool:
        return _SEVERITY[self.value] < _severity_of(other)

    def __le__(self, other: str) -> bool:
        return _SEVERITY[self.value] <= _severity_of(other)

    def __gt__(self, other: str) -> bool:
        return _SEVERITY[self.value] > _severity_of(other)

    def __ge__(self, other: str) -> bool:
        return _SEVERITY[self.value] >= _severity_of(other)


_SEVERITY = {"allow": 0, "challenge": 1, "review": 2, "block": 3}


def _severity_of(other: object) -> int:
    if isinstance(other, Action):
        return _SEVERITY[other.value]
    raise TypeError(f"an action is ordered against another action, not {other!r}")


def _frozen_features(values: Mapping[str, FeatureValue]) -> Mapping[str, FeatureValue]:
    """A read-only copy; a read-only view is kept as it is (the rule set builds its hits'
    values as fresh views, and a check should not copy them twice)."""
    if isinstance(values, MappingProxyType):
        return values
    return MappingProxyType(dict(values))


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a decision is not a plain allow, in words a risk officer and a case can use.

    Attributes:
        code: stable reason code (the rule's, or the model's ``model_score``).
        message: one sentence for people.
        features: the feature values that triggered it (those the rule names and the request
            had), read-only.
        explained_by: the fraud model whose reason this is, when its features (the model's
            top contributions) are left to be computed from the stored feature vector when
            the reason is read (``RiskService`` does it): they cost several times the score,
            and a check does not wait for what only a person reads later.
    """

    code: str
    message: str
    features: Mapping[str, FeatureValue] = field(default_factory=dict)
    explained_by: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", _frozen_features(self.features))


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule whose expression was true for the request.

    Attributes:
        rule_id: the rule's stable id.
        rule_version: the version of the rule that fired.
        reason_code: the rule's reason code.
        action: what the rule asks for (a shadow rule's is recorded, never applied).
        features: the values of the features the rule names, as the request had them.
    """

    rule_id: str
    rule_version: int
    reason_code: str
    action: Action
    features: Mapping[str, FeatureValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", _frozen_features(self.features))


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The risk context's answer to one request.

    Attributes:
        action: what happens next; the most severe over live rule hits (and the model, later).
        score: the model's fraud probability in [0, 1], ``None`` when no model scored.
        reasons: why, most severe first; empty for a plain allow.
        live_hits: live rules that fired; they decided ``action``.
        shadow_hits: shadow rules that fired; recorded for their backtest, never applied.
        rule_set_version: the version of the rule set that decided.
    """

    action: Action
    score: float | None
    reasons: tuple[Reason, ...]
    live_hits: tuple[RuleHit, ...]
    shadow_hits: tuple[RuleHit, ...]
    rule_set_version: int

    def __post_init__(self) -> None:
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise InvalidInput(f"a risk score is a probability in [0, 1], got {self.score}")
        floor = Action.max([hit.action for hit in self.live_hits]) if self.live_hits else None
        if floor is not None and self.action < floor:
            raise InvalidInput(f"a decision cannot be milder ({self.action}) than its live hits")


#: Longest accepted context fields. A user agent is rarely past 300 characters; an IP's text
#: form at most 45 (IPv6 with an IPv4 tail).
MAX_DEVICE_ID = 128
MAX_USER_AGENT = 512
MAX_SHIPPING_ADDRESS = 300
MAX_IP_TEXT = 45
MAX_ID = 128


def checked_ip(value: object) -> str:
    """The canonical text of an IPv4 or IPv6 address (an IPv4-mapped IPv6 address as the IPv4
    it carries, so both spellings count as one IP), or :class:`InvalidInput`."""
    if not isinstance(value, str):
        raise InvalidInput(f"ip must be a string, got {type(value).__name__}")
    if len(value) > MAX_IP_TEXT:
        raise InvalidInput(f"ip is {len(value)} characters long; an IP is at most {MAX_IP_TEXT}")
    if "%" in value:
        raise InvalidInput(f"ip {value!r} carries a zone id; send the address alone")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise InvalidInput(f"ip {value!r} is not an IPv4 or IPv6 address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the client knows about where a request comes from; every field optional.

    Attributes:
        device_id: the SDK's stable device identifier.
        ip: the client's IP address, canonical text (checked by :func:`checked_ip`).
        user_agent: the browser's or app's user agent.
        shipping_address: the shipping address as one line.
    """

    device_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    shipping_address: str | None = None

    def __post_init__(self) -> None:
        if self.device_id is not None:
            checked_text("device_id", self.device_id, MAX_DEVICE_ID)
        if self.ip is not None:
            object.__setattr__(self, "ip", checked_ip(self.ip))
        if self.user_agent is not None:
            checked_text("user_agent", self.user_agent, MAX_USER_AGENT)
        if self.shipping_address is not None:
            checked_text("shipping_address", self.shipping_address, MAX_SHIPPING_ADDRESS)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object] | None) -> RiskContext | None:
        """The context an API body or SDK call carried: ``None`` when absent; unknown keys,
        non-string values and malformed fields refused. A ``None`` value means absent."""
        if data is None:
            return None
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise InvalidInput(f"unknown risk context fields: {', '.join(unknown)}")
        given: dict[str, str] = {}
        for key, value in data.items():
            if value is None:
                continue
            if not isinstance(value, str):
                raise InvalidInput(f"{key} must be a string, got {type(value).__name__}")
            given[key] = value
        return cls(
            device_id=given.get("device_id"),
            ip=given.get("ip"),
            user_agent=given.get("user_agent"),
            shipping_address=given.get("shipping_address"),
        )

    @property
    def shipping_address_key(self) -> str | None:
        """The address as velocity counters key it: case and spacing do not make a new one."""
        if self.shipping_address is None:
            return None
        return " ".join(self.shipping_address.casefold().split())


class SubjectKind(StrEnum):
    """The money-moving operations that ask for a risk decision."""

    CHECKOUT = "checkout"
    TOP_UP = "top_up"
    WITHDRAWAL = "withdrawal"
    PAYOUT = "payout"
    CARD_AUTHORISATION = "card_authorisation"
    CREDIT_DECISION = "credit_decision"


def _checked_method(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 32:
        raise InvalidInput(f"payment_method must be a short code, got {value!r}")
    if not (value[0].isascii() and value[0].islower()) or not all(
        c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in value
    ):
        raise InvalidInput(f"payment_method {value!r} is not a lower-case code (card, bnpl, …)")
    return value


@dataclass(frozen=True, slots=True)
class RiskSubject:
    """One money-moving operation, as it asks for a decision inside its unit of work.

    Attributes:
        kind: which operation.
        tenant: the tenant it runs for (rules, counters and cases never cross tenants).
        amount_minor: the amount it moves, positive, in minor units of ``currency``.
        currency: ISO 4217 code (normalised to upper case).
        payment_method: how it is paid or paid out: wallet, card, bank_transfer, ewallet, qr,
            bnpl, …
        buyer_id: the buyer's id; ``None`` for a guest checkout or a merchant's payout.
        merchant_id: the merchant's id; ``None`` for a top-up or a buyer's withdrawal.
        reference: the operation's own id (order, top-up, payout), so a case or a label finds it.
        context: what the client sent about the request's origin; ``None`` when it sent none.
    """

    kind: SubjectKind
    tenant: str
    amount_minor: int
    currency: str
    payment_method: str
    buyer_id: str | None = None
    merchant_id: str | None = None
    reference: str | None = None
    context: RiskContext | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", SubjectKind(self.kind))
        except ValueError:
            raise InvalidInput(f"unknown risk subject kind {self.kind!r}") from None
        checked_text("tenant", self.tenant, MAX_ID)
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise InvalidAmount(f"amount_minor must be an int, got {self.amount_minor!r}")
        if not 0 < self.amount_minor <= MAX_AMOUNT_MINOR:
            raise InvalidAmount(f"amount_minor must be positive, got {self.amount_minor}")
        object.__setattr__(self, "currency", currency(self.currency).code)
        _checked_method(self.payment_method)
        for name in ("buyer_id", "merchant_id", "reference"):
            value = getattr(self, name)
            if value is not None:
                checked_text(name, value, MAX_ID)
        if self.buyer_id is None and self.merchant_id is None:
            raise InvalidInput("a risk subject names a buyer, a merchant or both")
        if self.kind is SubjectKind.PAYOUT and self.merchant_id is None:
            raise InvalidInput("a payout's risk subject names the merchant paid out")
        if self.context is not None and not isinstance(self.context, RiskContext):
            raise InvalidInput("context must be a RiskContext (see RiskContext.from_mapping)")

    def request_features(self) -> dict[str, FeatureValue]:
        """The catalogue's request-family features this subject carries by itself."""
        return {
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "kind": self.kind.value,
            "payment_method": self.payment_method,
            "is_guest": self.buyer_id is None,
        }
