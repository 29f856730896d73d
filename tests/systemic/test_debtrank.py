"""DebtRank (Battiston et al. 2012) on the published example, exact and float; the differential
variant; the properties: a value in [0, 1] that grows with the shock."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedfin.systemic.debtrank import State, debtrank, differential_debtrank
from embedfin.systemic.network import ExposureNetwork, exposure_network

# The example of the R package NetworkRiskMeasures (README "Example usage" and the
# ``debt_rank`` help page, https://github.com/carloscinelli/NetworkRiskMeasures, versions
# 0.1.x): ``assets_matrix <- matrix(c(0, 10, 3, 1, 0, 2, 0, 3, 0), ncol = 3)`` — filled by
# column, so the rows below (row i: i's assets on a, b, c) — buffers a = 2, b = 5, c = 2,
# weights 10, 100, 30. Its published output: a's default adds stress 0.9285714 and 2
# defaults, c's 0.6642857 and 0, b's 0.25 and 1; a 10% shock to every node adds 16.07%,
# taking a to 0.15 and b to 0.26.
NODES = ["a", "b", "c"]
ASSETS = [[0, 1, 0], [10, 0, 3], [3, 2, 0]]
CAPITAL = [2, 5, 2]
WEIGHTS = [10, 100, 30]


def example(shock: list[object]) -> ExposureNetwork:
    return exposure_network(NODES, ASSETS, CAPITAL, shock, WEIGHTS)


@pytest.mark.parametrize(
    ("failed", "debtrank_value", "defaults"),
    [
        ("a", Fraction(13, 14), ("b", "c")),  # 0.9285714
        ("b", Fraction(1, 4), ("c",)),  # 0.25
        ("c", Fraction(93, 140), ()),  # 0.6642857
    ],
)
def test_debtrank_of_each_nodes_default_matches_the_published_figures(
    failed: str, debtrank_value: Fraction, defaults: tuple[str, ...]
) -> None:
    shock: list[object] = [1 if n == failed else 0 for n in NODES]
    result = debtrank(example(shock), exact=True)
    assert result.debtrank == debtrank_value
    assert result.defaulted == defaults


def test_a_ten_percent_shock_everywhere_adds_sixteen_percent() -> None:
    tenth = Fraction(1, 10)
    result = debtrank(example([tenth, tenth, tenth]), exact=True)
    assert result.final == (Fraction(15, 100), Fraction(26, 100), Fraction(30, 100))
    assert round(float(result.debtrank), 4) == 0.1607
    assert result.states == (State.INACTIVE,) * 3
    assert result.rounds == 2


def test_an_inactive_node_still_takes_stress_but_passes_it_on_once() -> None:
    """c fails: b takes 3/5 and passes it on to a (½ of it); a passes 0.3 back to b, already
    inactive, whose stress rises to 0.9 but goes no further."""
    result = debtrank(example([0, 0, 1]), exact=True)
    assert result.final == (Fraction(3, 10), Fraction(9, 10), 1)
    assert result.rounds == 4


@pytest.mark.parametrize("shock", [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.1, 0.2, 0.05]])
def test_float_and_exact_agree(shock: list[object]) -> None:
    network = example(shock)
    exact, floating = debtrank(network, exact=True), debtrank(network)
    assert floating.defaulted == exact.defaulted
    assert floating.states == exact.states
    assert floating.debtrank == pytest.approx(float(exact.debtrank), abs=1e-12)
    assert np.allclose(
        [float(h) for h in exact.final], [float(h) for h in floating.final], atol=1e-12
    )


def test_differential_debtrank_passes_stress_on_until_it_settles() -> None:
    """Bardoscia et al. (2015): with no inactive state the 10% shock keeps travelling round
    the a–b cycle (a's exposure to b is half its capital, b's to a twice its capital), so it
    ends above the single-pass DebtRank."""
    network = example([0.1, 0.1, 0.1])
    result = differential_debtrank(network)
    assert result.model == "differential"
    assert result.debtrank > debtrank(network).debtrank
    assert all(0 <= h <= 1 for h in result.final)


# --- properties ---------------------------------------------------------------------------
@st.composite
def networks(draw: st.DrawFn) -> tuple[ExposureNetwork, list[Fraction]]:
    n = draw(st.integers(min_value=2, max_value=6))
    amounts = st.integers(min_value=0, max_value=30)
    rows = [[0 if i == j else draw(amounts) for j in range(n)] for i in range(n)]
    capital = draw(st.lists(st.integers(min_value=0, max_value=20), min_size=n, max_size=n))
    weights = draw(st.lists(st.integers(min_value=1, max_value=9), min_size=n, max_size=n))
    level = st.fractions(min_value=0, max_value=1, max_denominator=10)
    shock = draw(st.lists(level, min_size=n, max_size=n))
    nodes = [f"n{i}" for i in range(n)]
    return exposure_network(nodes, rows, capital, shock, weights), shock


@settings(max_examples=80, deadline=None)
@given(networks())
def test_debtrank_is_between_zero_and_one(drawn: tuple[ExposureNetwork, list[Fraction]]) -> None:
    network, _ = drawn
    result = debtrank(network, exact=True)
    assert 0 <= result.debtrank <= 1
    assert all(s <= h <= 1 for s, h in zip(result.initial, result.final, strict=True))


@settings(max_examples=80, deadline=None)
@given(networks(), st.data())
def test_a_larger_shock_on_the_same_nodes_never_leaves_less_stress(
    drawn: tuple[ExposureNetwork, list[Fraction]], data: st.DataObject
) -> None:
    """Monotone for the same shocked nodes: who is distressed when depends only on which
    nodes are shocked, and each round's update is monotone in the stress levels."""
    network, shock = drawn
    extra = st.fractions(0, 1, max_denominator=4)
    bigger = [min(Fraction(1), s + data.draw(extra)) if s else s for s in shock]
    before, after = debtrank(network, exact=True), debtrank(_reshocked(network, bigger), True)
    assert all(a >= b for a, b in zip(after.final, before.final, strict=True))
    assert _value(after) >= _value(before)


@settings(max_examples=60, deadline=None)
@given(networks(), st.data())
def test_differential_debtrank_is_monotone_in_any_shock(
    drawn: tuple[ExposureNetwork, list[Fraction]], data: st.DataObject
) -> None:
    network, shock = drawn
    extra = st.fractions(0, 1, max_denominator=4)
    bigger = [min(Fraction(1), s + data.draw(extra)) for s in shock]
    before = differential_debtrank(network)
    after = differential_debtrank(_reshocked(network, bigger))
    assert all(a >= b - 1e-9 for a, b in zip(after.final, before.final, strict=True))


def test_single_pass_debtrank_can_fall_when_a_second_node_is_shocked() -> None:
    """Why the differential variant exists: x, half-shocked, passes on ½ in the first round and
    is then inactive; unshocked, it would have taken y's full default first and passed on 1.
    z (wholly exposed to x) ends at ½ instead of 1."""
    nodes, capital = ["y", "x", "z"], [1, 1, 1]
    exposures = {"x": {"y": 1}, "z": {"x": 1}}
    alone = debtrank(exposure_network(nodes, exposures, capital, [1, 0, 0]), exact=True)
    both = debtrank(exposure_network(nodes, exposures, capital, [1, Fraction(1, 2), 0]), True)
    assert alone.final == (1, 1, 1)
    assert both.final == (1, 1, Fraction(1, 2))
    assert both.debtrank < alone.debtrank


def _reshocked(network: ExposureNetwork, shock: list[Fraction]) -> ExposureNetwork:
    assert network.exact is not None
    terms = network.exact
    n = network.size
    rows = [[terms.exposures.get((i, j), 0) for j in range(n)] for i in range(n)]
    return exposure_network(list(network.nodes), rows, list(terms.capital), shock,
                            list(terms.weights))  # fmt: skip


def _value(result: object) -> Fraction:
    return sum((Fraction(h) for h in result.final), Fraction(0))  # type: ignore[attr-defined]
