"""A rule pack's same-day totals, one movement at a time: the streaming form of ``thresholds.py``.

For each movement, :func:`legs` says what it adds to which total — per rule, per side (``out``:
the payer; ``in``: the payee), per account, per business day of the pack's time zone — with the
same selection as the batch scan (channel, holder kind, cross-border, currency or conversion;
an ``external`` account is never reported) and the same arithmetic: a converted amount is
rounded to millionths of the rule's currency, half away from zero, at a rate kept to 12 places.
The service adds the legs up; :func:`crossed` says when a total reaches the rule's line. So the
totals the stream keeps are exactly the ones a batch scan of the same history finds. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from embedfin.compliance.aml.journal import Movement
from embedfin.compliance.aml.rulepacks import Rule, RulePack
from embedfin.compliance.aml.thresholds import MissingRate

MICRO = Decimal("0.000001")
RATE_PLACES = Decimal("0.000000000001")


class RateSource(Protocol):
    def __call__(self, base: str, quote: str, day: date) -> Decimal:
        """Units of ``quote`` per unit of ``base`` on ``day``."""
        ...


def flat_rates(rates: Mapping[str, Decimal]) -> RateSource:
    """The batch scan's ``--rates``: one rate per currency, to whatever the rule sums in."""
    table = {code.upper(): Decimal(rate) for code, rate in rates.items()}

    def rate(base: str, quote: str, day: date) -> Decimal:
        found = table.get(base)
        if found is None or not found > 0:
            raise MissingRate(f"no positive rate from {base} to {quote}")
        return found

    return rate


@dataclass(frozen=True, slots=True)
class Leg:
    rule: Rule
    side: str
    account: str
    day: date
    amount_micros: int
    report_key: str


def local_day(pack: RulePack, at: datetime) -> date:
    """The business day of ``at``: its calendar day in the pack's time zone."""
    return at.astimezone(ZoneInfo(pack.timezone)).date()


def day_of(pack: RulePack, movement: Movement) -> date:
    """The business day of a movement (whole seconds, as the batch scan's ``t``)."""
    return _day_of_quarter(pack.timezone, movement.occurred_at // 900_000_000_000)


@lru_cache(maxsize=8_192)
def _day_of_quarter(zone: str, quarter: int) -> date:
    """The local day of a quarter hour of UTC: every time zone's midnight falls on one (offsets
    have been whole quarter hours since standard time replaced local mean time, Nepal's +5:45
    and Eucla's +8:45 included), so all of a quarter's instants share its first one's day."""
    return datetime.fromtimestamp(quarter * 900, UTC).astimezone(ZoneInfo(zone)).date()


def day_bounds_ns(pack: RulePack, day: date) -> tuple[int, int]:
    """The business day's first and past-last instant, in nanoseconds UTC."""
    zone = ZoneInfo(pack.timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = datetime.fromordinal(day.toordinal() + 1).replace(tzinfo=zone)
    return int(start.timestamp()) * 1_000_000_000, int(end.timestamp()) * 1_000_000_000


def report_key(pack: RulePack, rule: Rule, side: str, account: str, day: date) -> str:
    return f"{pack.id}/{rule.id}/{side}/{account}/{day.isoformat()}"


def _selects(pack: RulePack, rule: Rule, movement: Movement, holder_kind: str) -> bool:
    if holder_kind == "external":
        return False
    if rule.channel != "any" and (movement.channel or pack.defaults.channel) != rule.channel:
        return False
    if rule.kind != "any" and (holder_kind or pack.defaults.kind) != rule.kind:
        return False
    if rule.cross_border != "any" and movement.cross_border != (rule.cross_border == "true"):
        return False
    if rule.convert == "none":
        return movement.currency == rule.currency
    if rule.convert == "foreign":
        return movement.currency != pack.home
    return True


def _amount(rule: Rule, movement: Movement, day: date, rates: RateSource) -> Decimal:
    if movement.currency == rule.currency:
        return movement.amount
    rate = rates(movement.currency, rule.currency, day).quantize(RATE_PLACES, ROUND_HALF_UP)
    if not rate > 0:
        raise MissingRate(f"rates must be positive: {movement.currency}")
    return (movement.amount * rate).quantize(MICRO, ROUND_HALF_UP)


#: (id of a pack, currency) → (the pack, its rules for that currency). Keyed by identity: a
#: pack's hash walks every rule, which costs more than the selection it would save.
_RULES: dict[tuple[int, str], tuple[RulePack, tuple[Rule, ...]]] = {}


def _rules_for(pack: RulePack, currency: str) -> tuple[Rule, ...]:
    """The pack's rules that can select a movement in ``currency`` (the currency test first:
    most rules of a pack sum one currency)."""
    found = _RULES.get((id(pack), currency))
    if found is not None and found[0] is pack:
        return found[1]
    rules = tuple(
        rule
        for rule in pack.rules
        if (rule.convert == "none" and rule.currency == currency)
        or (rule.convert == "foreign" and currency != pack.home)
        or rule.convert == "all"
    )
    if len(_RULES) > 1_024:
        _RULES.clear()
    _RULES[(id(pack), currency)] = (pack, rules)
    return rules


def legs(pack: RulePack, movement: Movement, rates: RateSource) -> list[Leg]:
    """What ``movement`` adds to the pack's same-day totals."""
    rules = _rules_for(pack, movement.currency)
    if not rules:
        return []
    day = day_of(pack, movement)
    iso = day.isoformat()
    native = None
    found = []
    for rule in rules:
        for side, account, kind in (
            ("out", movement.src, movement.src_kind),
            ("in", movement.dst, movement.dst_kind),
        ):
            if _selects(pack, rule, movement, kind):
                if movement.currency == rule.currency:
                    if native is None:
                        native = int(movement.amount.scaleb(6))
                    micros = native
                else:
                    micros = int(_amount(rule, movement, day, rates).scaleb(6))
                key = f"{pack.id}/{rule.id}/{side}/{account}/{iso}"
                found.append(Leg(rule, side, account, day, micros, key))
    return found


def crossed(rule: Rule, total_micros: int) -> bool:
    """Whether a same-day total reaches the rule's line (``at_least``) or passes it."""
    total = Decimal(total_micros).scaleb(-6)
    return total >= rule.line if rule.at_least is not None else total > rule.line
