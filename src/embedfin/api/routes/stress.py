"""``/v1/stress/…``: the tenant's exposure network and stress scenarios on it, read-only
(``systemic/scenarios.py``). Needs ``stress:read``: operators, risk officers and regulators;
never a merchant's key (the network names every party of the marketplace)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from embedfin.api.auth import Principal, Scope
from embedfin.api.deps import PlatformDep, require
from embedfin.api.routes.common import v1_router
from embedfin.api.schemas.common import Currency
from embedfin.api.schemas.stress import (
    EdgeKindOut,
    ExposuresOut,
    FundRunOut,
    RunArmOut,
    RunDayOut,
    StressOut,
)
from embedfin.systemic.runs import compare
from embedfin.systemic.scenarios import Scenario

router = v1_router()
Stress = Annotated[Principal, Depends(require(Scope.STRESS))]
BASELINE = (
    "every party but the platform holds just enough outside the network to pay its net debt"
    " at the baseline; the platform's outside assets are its books'"
)


@router.get("/stress/exposures", response_model=ExposuresOut, tags=["stress"])
def get_exposures(platform: PlatformDep, principal: Stress) -> Any:
    """Who owes whom on the books now: nodes by kind, edges by kind with their amounts."""
    found = platform.tenant(principal.tenant).stress.summary()
    return ExposuresOut(
        currencies=list(found.currencies), nodes_by_kind=found.nodes_by_kind,
        edges_by_kind={k: EdgeKindOut(edges=n, amount=a) for k, (n, a) in
                       found.edges_by_kind.items()},
    ).model_dump(mode="json")  # fmt: skip


@router.get("/stress/runs", response_model=StressOut, tags=["stress"])
def run_scenario(
    scenario: Annotated[Scenario, Query()],
    platform: PlatformDep,
    principal: Stress,
    currency: Currency,
    severity: Annotated[float, Query(ge=0, le=1, allow_inf_nan=False)] = 0.5,
    target: Annotated[str | None, Query(min_length=1, max_length=80)] = None,
) -> Any:
    """The scenario at ``severity`` on the books as they stand, and the smallest severity at
    which the platform itself defaults (``breaking_severity``; null: none does)."""
    result, breaking = platform.tenant(principal.tenant).stress.run(
        scenario, currency, severity, target
    )
    return StressOut(
        scenario=result.scenario, severity=result.severity, currency=result.currency,
        shocked=list(result.shocked), first_round=result.first_round_minor,
        second_round=result.second_round_minor, losses_by_sector=result.losses_by_sector,
        defaults_by_sector=result.defaults_by_sector,
        platform_shortfall=result.platform_shortfall_minor,
        platform_defaults=result.platform_defaults, rounds=result.rounds,
        breaking_severity=breaking, baseline=BASELINE,
    ).model_dump(mode="json")  # fmt: skip


Share = Annotated[float, Query(ge=0, le=1, allow_inf_nan=False)]


@router.get("/stress/fund_runs", response_model=FundRunOut, tags=["stress"])
def run_on_fund(
    fund: Annotated[str, Query(min_length=1, max_length=64)],
    platform: PlatformDep,
    principal: Stress,
    days: Annotated[int, Query(ge=1, le=3_650)] = 30,
    base: Share = 0.02,
    panic: Annotated[float, Query(ge=0, le=10, allow_inf_nan=False)] = 1.0,
    news: Share = 0.0,
    news_day: Annotated[int, Query(ge=0, le=3_650)] = 0,
    haircut: Share = 0.1,
    cap: Share = 0.5,
    buffer: Annotated[int, Query(ge=0, le=10**15)] = 0,
) -> Any:
    """A run on a live fund's books, day by day: as given, with ``cap`` of each day's
    redemptions paid at once (the rest T+1), and with ``buffer`` more cash."""
    tests = platform.tenant(principal.tenant).stress
    behaviour = {"days": days, "base": base, "panic": panic, "news": news,
                 "news_day": news_day, "haircut": haircut}  # fmt: skip
    params = tests.fund_run(fund, behaviour)
    arms = {
        name: RunArmOut(
            shortfall_day=r.shortfall_day, redeemed_share=r.redeemed_share,
            fire_sale_loss=r.fire_sale_loss_minor,
            days=[RunDayOut(day=d.day, requested=d.requested_minor, paid=d.paid_minor,
                            cash=d.cash_minor, facility_left=d.facility_left_minor,
                            sold=d.sold_minor) for d in r.days],
        )
        for name, r in compare(params, cap, buffer).items()
    }  # fmt: skip
    return FundRunOut(fund=fund, holdings=params.holdings_minor, cash=params.cash_minor,
                      facility=params.facility_minor, assets=len(params.assets),
                      arms=arms).model_dump(mode="json")  # fmt: skip
