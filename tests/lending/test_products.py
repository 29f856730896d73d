"""Plans, caps and offers: fee plans disclose their true rate and cannot beat the cap."""

from __future__ import annotations

import calendar
import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedfin.core.errors import InvalidAmount, InvalidInput, LimitExceeded
from embedfin.lending.apr import UnitPeriod, apr_percent
from embedfin.lending.products import (
    DEFAULT_PLANS,
    JURISDICTIONS,
    Caps,
    Plan,
    PlanCatalog,
    ProductKind,
    default_catalog,
)

START = date(2026, 3, 1)


def test_the_default_plans_fit_a_24_percent_cap() -> None:
    catalog = default_catalog(JURISDICTIONS["CN"])
    assert set(catalog.plans) == {p.code for p in DEFAULT_PLANS}


def test_a_cheap_looking_fee_plan_above_the_cap_is_refused() -> None:
    """A 6% flat fee over 3 months reads as '2% a month' but is an APR near 36%."""
    catalog = PlanCatalog(JURISDICTIONS["CN"])
    greedy = Plan("months_3_fee6", ProductKind.INSTALLMENTS, 3, UnitPeriod.MONTH, fee_bp=600)
    with pytest.raises(LimitExceeded, match="exceeds the CN cap of 24.00%"):
        catalog.register(greedy)
    assert "months_3_fee6" not in catalog.plans
    us = PlanCatalog(JURISDICTIONS["US"])  # 35.9% from the 1st, 36.48% from 31 January
    with pytest.raises(LimitExceeded, match="starting on 2025-01-31"):
        us.register(greedy)
    loose = PlanCatalog(dataclasses.replace(JURISDICTIONS["US"], max_apr=Decimal("0.40")))
    assert Decimal("36") < loose.register(greedy) <= Decimal("40")
    with pytest.raises(InvalidInput):
        loose.register(greedy)  # registered once


def test_offers_show_the_true_rate_and_respect_categories_and_amounts() -> None:
    catalog = default_catalog(JURISDICTIONS["CN"])
    offers = catalog.offers(60_000, "books", START, "EUR")
    codes = [o.plan.code for o in offers]
    assert "electronics_12_free" not in codes
    assert "pay_in_4" in codes  # 600.00 is within pay-in-4's 10-1,000
    fee = next(o for o in offers if o.plan.code == "months_3_fee")
    assert fee.total_cost_minor == 1_800  # 3% of 600.00
    assert fee.apr > Decimal("17")  # not the 12% a year the flat fee suggests
    assert offers[0].total_cost_minor == 0
    electronics = catalog.offers(60_000, "electronics", START, "EUR")
    assert any(o.plan.code == "electronics_12_free" and o.apr == 0 for o in electronics)
    assert catalog.offers(500, "books", START, "EUR") == []  # below every plan's minimum
    with pytest.raises(InvalidAmount):
        DEFAULT_PLANS[0].schedule(200_000, START)


CAP_16 = Caps("T16", Decimal("0.16"), 1_000, 1_000)
#: 2.65% over three months: 15.83% from the 1st of a month, but from 31 January the due dates
#: shift to 28 February, 28 March, 28 April (shorter periods): 16.19%.
FEE_265 = Plan(
    "months_3_fee265",
    ProductKind.INSTALLMENTS,
    3,
    UnitPeriod.MONTH,
    fee_bp=265,
    min_minor=10_000,
    max_minor=100_000,
)


def test_a_plan_above_the_cap_on_any_start_day_is_refused() -> None:
    assert FEE_265.schedule(100_000, date(2026, 1, 1)).apr(2, UnitPeriod.MONTH) < CAP_16.max_apr
    catalog = PlanCatalog(CAP_16)
    with pytest.raises(LimitExceeded, match=r"APR 16\.19% .*exceeds the T16 cap of 16\.00%"):
        catalog.register(FEE_265)
    assert FEE_265.code not in catalog.plans


def test_no_start_date_discloses_more_than_registration_found() -> None:
    """Registration's worst APR bounds every offer, whatever day the plan starts: every start
    on the 1st and the 28th-31st of each month of a leap cycle, the shapes month ends make."""
    plan = dataclasses.replace(FEE_265, fee_bp=255)
    worst = PlanCatalog(CAP_16).register(plan)
    starts = [
        date(year, month, day)
        for year in range(2024, 2028)
        for month in range(1, 13)
        for day in (1, 28, 29, 30, 31)
        if day <= calendar.monthrange(year, month)[1]
    ]
    disclosed = {apr_percent(plan.schedule(100_000, s).apr(2, plan.unit)) for s in starts}
    assert max(disclosed) == worst
    assert len(disclosed) > 1  # the start day matters: a check at one start is not enough


@settings(max_examples=40, deadline=None)
@given(
    start=st.dates(date(2000, 1, 1), date(2090, 12, 31)),
    amount=st.integers(10_000, 100_000),
)
def test_any_start_date_and_amount_stays_within_the_worst_registered(
    start: date, amount: int
) -> None:
    """Beyond the 1st and 28th-31st of 2024-2027 that registration times: any day, any year."""
    plan = dataclasses.replace(FEE_265, fee_bp=255)
    worst = PlanCatalog(CAP_16).register(plan)
    assert apr_percent(plan.schedule(amount, start).apr(2, plan.unit)) <= worst
