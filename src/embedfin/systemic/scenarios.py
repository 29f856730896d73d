"""Stress scenarios on a tenant's exposure network: a shock to one sector's means, cleared by
Eisenberg–Noe, and what it costs everyone else (pure).

**Baseline (an assumption, stated in every result).** The books say who owes whom inside the
platform, not what anyone holds outside it. So every party but the platform is given just
enough outside the network to pay what it owes net of what it is owed: at the baseline nobody
defaults and everyone pays in full. The platform's own outside assets are its books' (the
client reserve and its operating cash), its outside debts the escrow it holds for buyers.

**A scenario** takes ``severity`` (0–1) of that outside money away from a sector:

=====================  ==================================================================
scenario               whose outside money is cut by ``severity``
=====================  ==================================================================
merchant_failure       one merchant, core enterprise or distributor (``target``; by
                       default the one that owes most in the network)
consumer_defaults      every consumer (a default wave: their loans go unpaid in part)
supplier_failure       every supplier and distributor (their advances and inventory loans)
channel_outage         every channel (money in transit does not arrive)
=====================  ==================================================================

The clearing then says who still pays what. **First round**: the outside money destroyed.
**Second round**: what creditors do not receive — by the creditor's sector — including the
shortfall of parties the shock never touched, which is contagion. **The platform's
shortfall** is what it cannot pay its customers and funders: safeguarded money lost. The
**reverse stress** is the smallest severity at which the platform itself defaults (found by
bisection to 1/1024), or ``None`` if even the whole shock leaves it whole.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from embedfin.core.errors import InvalidInput
from embedfin.systemic.clearing import eisenberg_noe
from embedfin.systemic.exposures import PLATFORM, Exposures
from embedfin.systemic.network import clearing_network_from_arrays

BISECTIONS = 10


class Scenario(enum.StrEnum):
    MERCHANT_FAILURE = "merchant_failure"
    CONSUMER_DEFAULTS = "consumer_defaults"
    SUPPLIER_FAILURE = "supplier_failure"
    CHANNEL_OUTAGE = "channel_outage"


_SECTORS = {
    Scenario.CONSUMER_DEFAULTS: {"consumer"},
    Scenario.SUPPLIER_FAILURE: {"supplier", "distributor"},
    Scenario.CHANNEL_OUTAGE: {"channel"},
}
_MERCHANTS = {"merchant", "core", "distributor", "supplier"}


@dataclass(frozen=True, slots=True)
class StressResult:
    scenario: str
    severity: float
    currency: str
    shocked: tuple[str, ...]
    first_round_minor: int
    second_round_minor: int  # creditors' shortfalls on parties the shock did not touch
    losses_by_sector: dict[str, int]  # what creditors of each sector did not receive
    defaults_by_sector: dict[str, int]
    platform_shortfall_minor: int
    platform_defaults: bool
    rounds: int


@dataclass(frozen=True, slots=True)
class _Book:
    names: list[str]
    kinds: list[str]
    debtors: np.ndarray
    creditors: np.ndarray
    amounts: np.ndarray
    assets: np.ndarray  # the baseline's outside assets
    outside: np.ndarray


def _book(exposures: Exposures, currency: str) -> _Book:
    nodes = [n for n in exposures.nodes if n.currency == currency]
    if not nodes:
        found = sorted({n.currency for n in exposures.nodes})
        raise InvalidInput(f"the books hold nothing in {currency} (they hold {found})")
    index = {n.node_id: i for i, n in enumerate(nodes)}
    edges = [e for e in exposures.edges if e.currency == currency]
    debtors = np.array([index[e.debtor] for e in edges], dtype=np.int64)
    creditors = np.array([index[e.creditor] for e in edges], dtype=np.int64)
    amounts = np.array([e.amount_minor for e in edges], dtype=np.float64)
    n = len(nodes)
    owes = np.bincount(debtors, weights=amounts, minlength=n)
    owed = np.bincount(creditors, weights=amounts, minlength=n)
    outside = np.array([x.external_liabilities_minor for x in nodes], dtype=np.float64)
    assets = np.array([x.external_assets_minor for x in nodes], dtype=np.float64)
    others = np.array([x.node_id != PLATFORM for x in nodes])
    # the stated assumption: everyone but the platform can pay its net debt at the baseline
    assets = np.where(others, np.maximum(assets, owes + outside - owed), assets)
    return _Book([x.node_id for x in nodes], [x.kind for x in nodes], debtors, creditors,
                 amounts, assets, outside)  # fmt: skip


def _shocked(book: _Book, scenario: Scenario, target: str | None) -> list[int]:
    if scenario is Scenario.MERCHANT_FAILURE:
        if target is None:
            owes = np.bincount(book.debtors, weights=book.amounts, minlength=len(book.names))
            merchants = [i for i, k in enumerate(book.kinds) if k in _MERCHANTS and owes[i] > 0]
            if not merchants:
                raise InvalidInput("no merchant owes anything in the network: nothing to fail")
            return [max(merchants, key=lambda i: (owes[i], book.names[i]))]
        name = target if ":" in target else f"merchant:{target}"
        if name not in book.names or book.kinds[book.names.index(name)] not in _MERCHANTS:
            raise InvalidInput(f"no merchant {target} in the network")
        return [book.names.index(name)]
    if target is not None:
        raise InvalidInput(f"{scenario} shocks a whole sector: it takes no target")
    return [i for i, kind in enumerate(book.kinds) if kind in _SECTORS[scenario]]


def stress(
    exposures: Exposures,
    currency: str,
    scenario: Scenario | str,
    severity: float,
    target: str | None = None,
) -> StressResult:
    """The scenario at ``severity`` (see the module), cleared."""
    if isinstance(severity, bool) or not isinstance(severity, int | float):
        raise InvalidInput("severity is a number from 0 to 1")
    if not 0 <= severity <= 1:  # also refuses NaN
        raise InvalidInput(f"severity must be from 0 to 1, got {severity}")
    book, kind, hit = _prepared(exposures, currency, scenario, target)
    return _run(book, kind, float(severity), hit, currency)


def _prepared(
    exposures: Exposures, currency: str, scenario: Scenario | str, target: str | None
) -> tuple[_Book, Scenario, list[int]]:
    """The scenario checked, the book in ``currency`` and the nodes it shocks."""
    try:
        kind = Scenario(scenario)
    except ValueError:
        raise InvalidInput(f"scenario is one of {', '.join(s.value for s in Scenario)}") from None
    book = _book(exposures, currency)
    return book, kind, _shocked(book, kind, target)


def _run(
    book: _Book, kind: Scenario, severity: float, hit: list[int], currency: str
) -> StressResult:
    assets = book.assets.copy()
    assets[hit] *= 1 - severity
    network = clearing_network_from_arrays(book.names, book.debtors, book.creditors,
                                           book.amounts, assets, book.outside)  # fmt: skip
    cleared = eisenberg_noe(network)
    n = len(book.names)
    owed = np.array([float(x) for x in cleared.owed])
    paid = np.array([float(x) for x in cleared.payments])
    share = np.divide(paid, owed, out=np.ones(n), where=owed > 0)
    unpaid = book.amounts * (1 - share[book.debtors])
    lost_by = np.bincount(book.creditors, weights=unpaid, minlength=n)
    losses: dict[str, int] = defaultdict(int)
    for i in range(n):
        if lost_by[i] > 0.5:
            losses[book.kinds[i]] += round(lost_by[i])
    defaults: dict[str, int] = defaultdict(int)
    for name in cleared.defaulted:
        defaults[book.kinds[book.names.index(name)]] += 1
    untouched = np.ones(n, dtype=bool)
    untouched[hit] = False
    platform = book.names.index(PLATFORM) if PLATFORM in book.names else None
    shortfall = 0 if platform is None else round(owed[platform] - paid[platform])
    return StressResult(
        scenario=kind.value, severity=severity, currency=currency,
        shocked=tuple(book.names[i] for i in hit),
        first_round_minor=round(float((book.assets[hit] - assets[hit]).sum())),
        second_round_minor=round(float(lost_by[untouched].sum())),
        losses_by_sector=dict(sorted(losses.items())),
        defaults_by_sector=dict(sorted(defaults.items())),
        platform_shortfall_minor=max(0, shortfall),
        platform_defaults=PLATFORM in cleared.defaulted,
        rounds=cleared.rounds,
    )  # fmt: skip


def reverse(
    exposures: Exposures, currency: str, scenario: Scenario | str, target: str | None = None
) -> float | None:
    """The smallest severity (to 1/1024) at which the platform defaults, or ``None``."""
    book, kind, hit = _prepared(exposures, currency, scenario, target)
    if not _run(book, kind, 1.0, hit, currency).platform_defaults:
        return None
    low, high = 0.0, 1.0
    for _ in range(BISECTIONS):
        middle = (low + high) / 2
        if _run(book, kind, middle, hit, currency).platform_defaults:
            high = middle
        else:
            low = middle
    return high
