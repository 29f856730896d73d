"""Receivable certificates' rules: terms by the April 2025 notice, exact splits, discount and
late interest in minor units — worked examples and properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.scf import certificates as c
from embedfin.scf.certificates import CertificateRefused

ISSUED = date(2026, 1, 15)


def test_the_term_is_one_year_at_most_and_six_months_in_principle() -> None:
    assert c.check_term(ISSUED, ISSUED + timedelta(days=365)) == 365
    assert c.term_note(90) is None
    assert "six months" in (c.term_note(200) or "")
    for days in (0, -3, 366):
        with pytest.raises(CertificateRefused):
            c.check_term(ISSUED, ISSUED + timedelta(days=days))


def test_a_worked_discount_at_360_and_365_days() -> None:
    """CNY 1,000,000.00 at 3.6% a year, 90 days to maturity: 100,000,000 × 0.036 × 90 / 360 =
    900,000 fen of interest (CNY 9,000.00) on the 360-day basis Chinese bill discounting uses."""
    on, matures = date(2026, 3, 1), date(2026, 3, 1) + timedelta(days=90)
    d = c.discount(100_000_000, Decimal("0.036"), on, matures)
    assert (d.days, d.interest_minor, d.price_minor) == (90, 900_000, 99_100_000)
    d365 = c.discount(100_000_000, Decimal("0.036"), on, matures, basis=365)
    assert d365.interest_minor == 887_671  # 887,671.23… rounded half-even
    assert c.discount(1, Decimal("0.01"), on, matures).price_minor == 1  # rounds to nothing


def test_splits_sum_exactly_or_are_refused() -> None:
    assert c.split(1_000, [600, 400]) == [600, 400]
    for parts in ([1_000], [600, 401], [600, 400, 0], [1_100, -100], [500.0, 500], [True, 999],
                  [1] * 1_000):  # fmt: skip
        with pytest.raises(CertificateRefused):
            c.split(1_000, parts)  # type: ignore[arg-type]


def test_bad_discounts_are_refused() -> None:
    on = date(2026, 3, 1)
    with pytest.raises(CertificateRefused, match="before its maturity"):
        c.discount(1_000, Decimal("0.03"), on, on)
    for rate in (Decimal("-0.01"), Decimal("0.5"), Decimal("NaN"), 0.03):
        with pytest.raises(CertificateRefused):
            c.discount(1_000, rate, on, on + timedelta(days=30))  # type: ignore[arg-type]
    with pytest.raises(CertificateRefused):
        c.discount(0, Decimal("0.03"), on, on + timedelta(days=30))
    with pytest.raises(CertificateRefused):
        c.discount(1_000, Decimal("0.03"), on, on + timedelta(days=30), basis=364)


def test_late_interest_runs_from_the_day_after_maturity() -> None:
    matures = date(2026, 6, 30)
    assert c.owed_at(3_600_000, matures, matures, Decimal("0.1")) == 3_600_000
    assert c.owed_at(3_600_000, matures, matures + timedelta(days=10), Decimal("0.1")) == 3_610_000


@given(
    face=st.integers(2, c.MAX_FACE_MINOR),
    cuts=st.lists(st.floats(0.01, 0.99), min_size=1, max_size=10),
)
def test_any_split_of_any_face_conserves_it(face: int, cuts: list[float]) -> None:
    points = sorted({max(1, min(face - 1, int(face * x))) for x in cuts})
    parts = [b - a for a, b in zip([0, *points], [*points, face], strict=True)]
    parts = [p for p in parts if p > 0]
    if len(parts) >= 2:
        assert sum(c.split(face, parts)) == face


@given(
    face=st.integers(1, c.MAX_FACE_MINOR),
    rate=st.decimals(min_value=0, max_value=c.MAX_RATE, places=4),
    days=st.integers(1, c.MAX_TERM_DAYS),
    basis=st.sampled_from(c.BASES),
)
def test_a_discount_never_pays_more_than_the_face_nor_less_than_nothing(
    face: int, rate: Decimal, days: int, basis: int
) -> None:
    on = date(2026, 1, 1)
    d = c.discount(face, rate, on, on + timedelta(days=days), basis)
    assert d.interest_minor + d.price_minor == face
    assert 0 <= d.interest_minor <= face
    exact = Decimal(face) * rate * days / basis
    assert abs(Decimal(d.interest_minor) - exact) <= Decimal("0.5")
