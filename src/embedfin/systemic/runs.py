"""A run on the fund pool, day by day: depositors who redeem on what they see others do, a
portfolio whose assets mature later than redemptions fall due, and the day its liquidity runs
out (pure).

**Depositors** (Diamond and Dybvig 1983, in discrete days): each day a share ``base`` of the
remaining holdings is redeemed by depositors who need the money anyway; on top, a share
``panic`` × (the share of holdings redeemed the day before) by depositors who see the others
leave — so a run, once started, feeds itself; ``news`` adds a one-off share on ``news_day``.
A T+0 cap (``fast_cap_share``: the share of each day's redemptions that can be paid at once,
the rest waits a day as T+1) spreads the outflow.

**The fund** pays redemptions from cash, then from the liquidity facility, then by selling
assets before maturity at a ``haircut`` (a fire sale); assets that mature add their value to
cash on their day. The first day it cannot pay what is due is the **shortfall day**; the
haircuts paid on the way are the fire-sale loss. Compare the same depositors with and without
the cap, and with a larger buffer, to see what the cap and the buffer buy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from embedfin.core.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Asset:
    value_minor: int
    matures_in_days: int  # 0: cash-like today


@dataclass(frozen=True, slots=True)
class RunParams:
    holdings_minor: int
    cash_minor: int
    facility_minor: int
    assets: tuple[Asset, ...]
    days: int = 30
    base: float = 0.01
    panic: float = 0.0
    news: float = 0.0
    news_day: int = 0
    fast_cap_share: float = 1.0
    haircut: float = 0.1


@dataclass(frozen=True, slots=True)
class RunDay:
    day: int
    requested_minor: int
    paid_minor: int
    cash_minor: int
    facility_left_minor: int
    sold_minor: int
    fire_sale_loss_minor: int


@dataclass(frozen=True, slots=True)
class RunResult:
    days: tuple[RunDay, ...]
    shortfall_day: int | None
    redeemed_share: float
    fire_sale_loss_minor: int


def _share(name: str, value: object, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise InvalidInput(f"{name} must be a number from 0 to {high}")
    return float(value)


def check(params: RunParams) -> None:
    for name in ("holdings_minor", "cash_minor", "facility_minor"):
        value = getattr(params, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(f"{name} must be a whole number of minor units, 0 or more")
    for n, asset in enumerate(params.assets, 1):
        if asset.value_minor < 0 or asset.matures_in_days < 0:
            raise InvalidInput(f"asset {n}: value and days to maturity must be 0 or more")
    for name, high in (("days", 3_650), ("news_day", 3_650)):
        value = getattr(params, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            raise InvalidInput(f"{name} must be a whole number from 0 to {high:,}")
    if params.days < 1:
        raise InvalidInput("days must be from 1 to 3,650")
    _share("base", params.base)
    _share("panic", params.panic, 10.0)
    _share("news", params.news)
    _share("fast_cap_share", params.fast_cap_share)
    _share("haircut", params.haircut)


def simulate(params: RunParams) -> RunResult:
    """The run, day by day (see the module)."""
    check(params)
    remaining = float(params.holdings_minor)
    cash = float(params.cash_minor)
    facility = float(params.facility_minor)
    book: list[list[float]] = [[a.value_minor, a.matures_in_days] for a in params.assets]
    waiting = 0.0  # T+1 redemptions from yesterday
    last_share = 0.0
    days: list[RunDay] = []
    shortfall: int | None = None
    loss_total = 0.0
    for day in range(params.days):
        for asset in book:  # what matures today is cash
            if asset[1] <= day and asset[0] > 0:
                cash += asset[0]
                asset[0] = 0.0
        share = params.base + params.panic * last_share
        if day == params.news_day:
            share += params.news
        asked = min(remaining, remaining * min(1.0, share))
        remaining -= asked
        last_share = asked / params.holdings_minor if params.holdings_minor else 0.0
        due = waiting + asked * params.fast_cap_share
        waiting = asked * (1 - params.fast_cap_share)
        paid = min(due, cash)
        cash -= paid
        use = min(due - paid, facility)
        facility -= use
        paid += use
        sold = lost = 0.0
        for asset in sorted(book, key=lambda a: a[1]):  # sell the nearest maturities first
            if paid >= due - 1e-9:
                break
            if asset[0] <= 0:
                continue
            gross = min(asset[0], (due - paid) / (1 - params.haircut)) if params.haircut < 1 else 0
            asset[0] -= gross
            sold += gross
            lost += gross * params.haircut
            paid += gross * (1 - params.haircut)
        loss_total += lost
        if paid < due - 0.5 and shortfall is None:
            shortfall = day
        days.append(RunDay(day, round(asked), round(paid), round(cash), round(facility),
                           round(sold), round(lost)))  # fmt: skip
    redeemed = 1 - remaining / params.holdings_minor if params.holdings_minor else 0.0
    return RunResult(tuple(days), shortfall, round(redeemed, 6), round(loss_total))


def compare(params: RunParams, cap: float, buffer_minor: int) -> dict[str, RunResult]:
    """The same depositors as given, with the T+0 cap ``cap``, and with ``buffer_minor`` more
    cash: what the cap and the buffer buy."""
    return {
        "as_given": simulate(params),
        "with_cap": simulate(replace(params, fast_cap_share=_share("cap", cap))),
        "with_buffer": simulate(replace(params, cash_minor=params.cash_minor + buffer_minor)),
    }


def params_of(data: Mapping[str, Any]) -> RunParams:
    """A run's parameters from a JSON object: ``holdings``, ``cash``, ``facility`` (minor
    units), ``assets`` as ``[value, days to maturity]`` pairs, and the optional behaviour."""
    if not isinstance(data, Mapping):
        raise InvalidInput("a run is a JSON object")
    known = {"holdings", "cash", "facility", "assets", "days", "base", "panic", "news",
             "news_day", "fast_cap_share", "haircut", "compare"}  # fmt: skip
    if unknown := sorted(set(data) - known):
        raise InvalidInput(f"unknown fields {unknown}; a run has {sorted(known)}")
    try:
        assets = tuple(Asset(int(v), int(d)) for v, d in data.get("assets", []))
    except (TypeError, ValueError):
        raise InvalidInput("assets are [value in minor units, days to maturity] pairs") from None
    behaviour: dict[str, Any] = {k: float(data[k]) if isinstance(data[k], Decimal) else data[k]
                 for k in ("days", "base", "panic", "news", "news_day", "fast_cap_share",
                           "haircut") if k in data}  # fmt: skip
    holdings: Any = data.get("holdings")
    cash: Any = data.get("cash")
    facility: Any = data.get("facility", 0)
    params = RunParams(holdings, cash, facility, assets, **behaviour)
    check(params)
    return params
