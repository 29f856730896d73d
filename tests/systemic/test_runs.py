"""A run on the fund pool, worked by hand: steady redemptions drain the cash on a known day; a
panic fed by others' withdrawals self-fulfils where the same depositors without it do not; a
T+0 cap and a buffer move the shortfall day; a fire sale costs its haircut; bad input refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import InvalidInput
from embedfin.systemic.runs import Asset, RunParams, compare, simulate


def test_steady_redemptions_drain_the_cash_on_day_six() -> None:
    # 10 % of what remains each day: 100, 90, 81, 72.9, 65.61, 59.05 (= 468.56) then 53.14 > 31.44
    found = simulate(RunParams(1_000, 500, 0, (), days=10, base=0.1))
    assert found.shortfall_day == 6
    assert [d.requested_minor for d in found.days[:3]] == [100, 90, 81]
    assert found.days[5].cash_minor == 31


def test_a_panic_fed_by_others_withdrawals_self_fulfils() -> None:
    calm = RunParams(1_000, 500, 0, (), days=30, base=0.01, panic=0.5)
    assert simulate(calm).shortfall_day is None  # 2 % a day at most: 39 % in a month
    spooked = RunParams(1_000, 500, 0, (), days=30, base=0.01, panic=1.5, news=0.05)
    run = simulate(spooked)
    # 6 % on the news day, then 1 % + 1.5 × yesterday's share: 60, 94, 128, 145 (427), then 130
    assert [d.requested_minor for d in run.days[:5]] == [60, 94, 128, 145, 130]
    assert run.shortfall_day == 4


def test_the_cap_and_the_buffer_move_the_shortfall_day() -> None:
    params = RunParams(1_000, 200, 0, (), days=40, base=0.02, panic=1.2, news=0.1)
    found = compare(params, cap=0.5, buffer_minor=300)
    days = {name: result.shortfall_day for name, result in found.items()}
    assert days == {"as_given": 1, "with_cap": 2, "with_buffer": 3}


def test_a_fire_sale_costs_its_haircut_and_a_maturity_pays_in_full() -> None:
    found = simulate(RunParams(1_000, 0, 0, (Asset(1_000, 5),), days=6, base=0.09, haircut=0.1))
    assert (found.days[0].sold_minor, found.days[0].fire_sale_loss_minor) == (100, 10)
    assert found.shortfall_day is None
    facility = simulate(RunParams(1_000, 0, 100, (Asset(1_000, 5),), days=1, base=0.09))
    assert (facility.days[0].facility_left_minor, facility.days[0].sold_minor) == (10, 0)


@pytest.mark.parametrize(
    "changes",
    [
        {"holdings_minor": -1},
        {"cash_minor": 1.5},
        {"base": 1.5},
        {"haircut": -0.1},
        {"fast_cap_share": 2},
        {"days": 0},
        {"panic": 11},
        {"assets": (Asset(-1, 0),)},
    ],  # fmt: skip
)
def test_bad_runs_are_refused(changes: dict[str, object]) -> None:
    base: dict[str, object] = {"holdings_minor": 1_000, "cash_minor": 100, "facility_minor": 0,
                               "assets": ()}  # fmt: skip
    with pytest.raises(InvalidInput):
        simulate(RunParams(**(base | changes)))  # type: ignore[arg-type]


@given(st.integers(1, 10**9), st.integers(0, 10**9), st.floats(0, 0.5), st.floats(0, 3))
def test_nothing_is_paid_beyond_what_was_asked(
    holdings: int, cash: int, base: float, panic: float
) -> None:
    run = simulate(RunParams(holdings, cash, 0, (), days=20, base=base, panic=panic))
    assert sum(d.requested_minor for d in run.days) <= holdings + 20
    assert all(d.paid_minor <= d.requested_minor + 1 for d in run.days)
    assert 0 <= run.redeemed_share <= 1
