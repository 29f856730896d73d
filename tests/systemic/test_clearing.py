"""Eisenberg–Noe and Rogers–Veraart clearing: worked examples, exact and float, and the
properties every clearing vector has."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedfin.systemic.clearing import Clearing, eisenberg_noe, rogers_veraart
from embedfin.systemic.network import ClearingNetwork, clearing_network

# Three banks in a ring (1 owes 2 four, 2 owes 3 three, 3 owes 1 two) with external assets
# 20, 20, 10 shocked by 10% and external liabilities 17, 18, 8: the network of "Big Data
# Finance" exercises 2 (Eisenberg–Noe) and 3 (Rogers–Veraart) in the reference implementations
# https://github.com/paolobarucca/eisenbergnoe (Exercise2.m) and
# https://github.com/paolobarucca/rogersveraart (Exercise3.m). Those pay external creditors
# first; here they are paid pro rata with the banks (Eisenberg and Noe 2001, §2), so the
# figures below are worked by hand in each test.
RING = {
    "nodes": ["b1", "b2", "b3"],
    "liabilities": [[0, 4, 0], [0, 0, 3], [2, 0, 0]],
    "external_assets": [18, 18, 9],
    "external_liabilities": [17, 18, 8],
}


def ring(alpha: object = 1, beta: object = 1) -> ClearingNetwork:
    return clearing_network(**RING, alpha=alpha, beta=beta)  # type: ignore[arg-type]


def test_eisenberg_noe_ring_one_bank_defaults_and_pays_what_it_has() -> None:
    """b1 owes 21 and has 18 + 2 = 20: it defaults and pays 20; b2 then receives 4·20/21 =
    80/21 and keeps 18 + 80/21 − 21 = 17/21; b3 keeps 9 + 3 − 10 = 2."""
    result = eisenberg_noe(ring(), exact=True)
    assert result.owed == (21, 21, 10)
    assert result.payments == (20, 21, 10)
    assert result.equity == (0, Fraction(17, 21), 2)
    assert result.defaulted == ("b1",)
    assert result.rounds == 2


def test_rogers_veraart_ring_default_costs_bring_a_second_bank_down() -> None:
    """α = β = ½: b1 realises ½·18 + ½·2 = 10; b2 receives 4·10/21 = 40/21 and has 18 + 40/21
    < 21, so it defaults too and pays ½·18 + ½·40/21 = 209/21; b3 receives 3/21 of that and
    keeps 9 + 209/147 − 10 = 62/147 (Rogers and Veraart 2013, the algorithm of §3)."""
    result = rogers_veraart(ring(Fraction(1, 2), Fraction(1, 2)), exact=True)
    assert result.payments == (10, Fraction(209, 21), 10)
    assert result.defaulted == ("b1", "b2")
    assert result.equity == (0, 0, Fraction(62, 147))
    assert result.rounds == 3


def test_rogers_veraart_without_costs_is_eisenberg_noe() -> None:
    assert rogers_veraart(ring(1, 1), exact=True) == eisenberg_noe(ring(), exact=True)


def test_eisenberg_noe_ignores_the_networks_default_costs() -> None:
    assert eisenberg_noe(ring(Fraction(1, 2), 0), exact=True).payments == (20, 21, 10)


def test_a_chain_of_defaults_clears_in_exact_fractions() -> None:
    """What the fictitious default algorithm is named for (Eisenberg and Noe 2001): c has
    nothing and owes b 10, b owes a 10 and has 3 — b defaults only once c's default is known
    (the second round), and the third round finds no one new."""
    network = clearing_network(
        ["a", "b", "c"], {"b": {"a": 10}, "c": {"b": 10}}, {"a": 0, "b": 3, "c": 0}
    )
    result = eisenberg_noe(network, exact=True)
    assert result.payments == (0, 3, 0)
    assert result.defaulted == ("b", "c")
    assert result.rounds == 3


@pytest.mark.parametrize("model", [eisenberg_noe, rogers_veraart])
def test_float_and_exact_agree(model: object) -> None:
    network = ring(Fraction(3, 4), Fraction(2, 3))
    exact, floating = model(network, exact=True), model(network)  # type: ignore[operator]
    assert floating.defaulted == exact.defaulted
    assert np.allclose([float(p) for p in exact.payments], _floats(floating.payments), rtol=1e-12)
    assert np.allclose([float(e) for e in exact.equity], _floats(floating.equity), atol=1e-9)


# --- properties ---------------------------------------------------------------------------
SIZE = st.integers(min_value=2, max_value=6)


@st.composite
def networks(draw: st.DrawFn) -> ClearingNetwork:
    n = draw(SIZE)
    amounts = st.integers(min_value=0, max_value=50)
    rows = [[0 if i == j else draw(amounts) for j in range(n)] for i in range(n)]
    nodes = [f"n{i}" for i in range(n)]
    assets = draw(st.lists(amounts, min_size=n, max_size=n))
    outside = draw(st.lists(amounts, min_size=n, max_size=n))
    rate = st.fractions(min_value=0, max_value=1, max_denominator=8)
    return clearing_network(nodes, rows, assets, outside, draw(rate), draw(rate))


def _is_fixed_point(network: ClearingNetwork, result: Clearing) -> bool:
    assert network.exact is not None
    terms, p, owed = network.exact, result.payments, result.owed
    received: list[Fraction | float] = [Fraction(0)] * network.size
    for (i, j), value in terms.liabilities.items():
        received[j] += value / owed[i] * p[i]
    for k in range(network.size):
        has = terms.external_assets[k] + received[k]
        expected: Fraction | float
        if has >= owed[k]:
            expected = owed[k]
        else:
            expected = terms.alpha * terms.external_assets[k] + terms.beta * received[k]
        if p[k] != expected:
            return False
    return True


@settings(max_examples=60, deadline=None)
@given(networks())
def test_payments_are_between_nothing_and_what_is_owed_and_a_fixed_point(
    network: ClearingNetwork,
) -> None:
    result = rogers_veraart(network, exact=True)
    assert all(0 <= p <= o for p, o in zip(result.payments, result.owed, strict=True))
    assert _is_fixed_point(network, result)


@settings(max_examples=60, deadline=None)
@given(networks())
def test_with_alpha_and_beta_one_rogers_veraart_is_eisenberg_noe(
    network: ClearingNetwork,
) -> None:
    assert network.exact is not None
    terms = network.exact
    plain = clearing_network(
        list(network.nodes), _rows(network), list(terms.external_assets),
        list(terms.external_liabilities),
    )  # fmt: skip
    assert rogers_veraart(plain, exact=True).payments == eisenberg_noe(network, exact=True).payments


@settings(max_examples=60, deadline=None)
@given(networks(), st.integers(min_value=0, max_value=20), st.data())
def test_more_external_assets_never_lower_a_payment(
    network: ClearingNetwork, extra: int, data: st.DataObject
) -> None:
    assert network.exact is not None
    terms = network.exact
    k = data.draw(st.integers(min_value=0, max_value=network.size - 1))
    richer = list(terms.external_assets)
    richer[k] += extra
    more = clearing_network(list(network.nodes), _rows(network), richer,
                            list(terms.external_liabilities), terms.alpha, terms.beta)  # fmt: skip
    before, after = rogers_veraart(network, exact=True), rogers_veraart(more, exact=True)
    assert all(a >= b for a, b in zip(after.payments, before.payments, strict=True))


@settings(max_examples=40, deadline=None)
@given(networks())
def test_the_float_path_agrees_with_the_exact_one(network: ClearingNetwork) -> None:
    exact, floating = rogers_veraart(network, exact=True), rogers_veraart(network)
    assert np.allclose([float(p) for p in exact.payments], _floats(floating.payments), rtol=1e-9,
                       atol=1e-9)  # fmt: skip


def _rows(network: ClearingNetwork) -> list[list[Fraction]]:
    assert network.exact is not None
    n = network.size
    rows = [[Fraction(0)] * n for _ in range(n)]
    for (i, j), value in network.exact.liabilities.items():
        rows[i][j] = value
    return rows


def test_the_iterative_solver_agrees_with_the_direct_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large rounds go to BiCGSTAB: forced on a seeded 400-node network, it finds the same
    clearing vector as the direct solver, and that vector is a fixed point."""
    import embedfin.systemic.clearing as clearing
    from embedfin.systemic.network import clearing_network_from_arrays

    rng = np.random.default_rng(3)
    n = 400
    debtors, creditors = rng.integers(0, n, 4000), rng.integers(0, n, 4000)
    keep = debtors != creditors
    debtors, creditors = debtors[keep], creditors[keep]
    amounts = rng.lognormal(2.0, 1.0, debtors.size)
    owed = np.bincount(debtors, weights=amounts, minlength=n)
    network = clearing_network_from_arrays(
        [f"n{i}" for i in range(n)], debtors, creditors, amounts,
        rng.uniform(0.1, 1.0, n) * owed, 0.3 * owed, alpha=0.9, beta=0.95,
    )  # fmt: skip
    direct = rogers_veraart(network)
    monkeypatch.setattr(clearing, "DIRECT_MAX", 0)
    iterative = rogers_veraart(network)
    assert direct.defaulted == iterative.defaulted
    assert np.allclose(_floats(direct.payments), _floats(iterative.payments), rtol=1e-8)
    p = _floats(iterative.payments)
    total = _floats(iterative.owed)
    received = (network.liabilities.multiply(1 / total[:, None]).T @ p).ravel()
    has = network.external_assets + received
    expected = np.where(has >= total * (1 - 1e-9), total, 0.9 * network.external_assets
                        + 0.95 * received)  # fmt: skip
    assert np.allclose(p, expected, rtol=1e-7)


def _floats(values: tuple[Fraction | float, ...]) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=np.float64)
