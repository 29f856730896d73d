"""Plans, caps and offers: fee plans disclose their true rate and cannot beat the cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from embedfin.core.errors import InvalidAmount, InvalidInput, LimitExceeded
from embedfin.lending.apr import UnitPeriod
from embedfin.lending.products import (
    DEFAULT_PLANS,
    JURISDICTIONS,
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
    us = PlanCatalog(JURISDICTIONS["US"])
    assert Decimal("30") < us.register(greedy) <= Decimal("36")
    with pytest.raises(InvalidInput):
        us.register(greedy)  # registered once


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
