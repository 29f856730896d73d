"""DebtRank: how much of the network's economic value a shock puts in distress.

``debtrank`` is the measure of Battiston, Puliga, Kaushik, Tasca and Caldarelli (2012),
"DebtRank: too central to fail?", Scientific Reports 2:541. With ``A_ij`` node i's asset on j
and ``E_i`` i's capital, the impact of j's distress on i is

    W_ji = min(1, A_ij / E_i)

(a loss on j passes to i in proportion to i's exposure to j, relative to i's capital, and
never more than all of it; a node without capital is wiped out by any exposure that fails).
Each node has a stress ``h_i`` in [0, 1] and a state: undistressed, distressed or inactive.
At t = 1 the shocked nodes (``h_i(1) = shock_i > 0``) are distressed; then

    h_i(t) = min(1, h_i(t−1) + Σ_{j distressed at t−1} W_ji h_j(t−1))
    s_i(t) = inactive      if s_i(t−1) = distressed
             distressed    if h_i(t) > 0 and s_i(t−1) ≠ inactive
             s_i(t−1)      otherwise

so each node passes its distress on once, the round after it became distressed. It stops when
nobody is distressed (at most n + 1 rounds), and the DebtRank is the value put in distress
beyond the initial shock: ``R = Σ_j h_j(T) v_j − Σ_j h_j(1) v_j`` with ``v`` the economic
weights (summing to 1). A node is in default when its stress reaches 1.

``differential_debtrank`` is the variant of Bardoscia, Battiston, Caccioli and Caldarelli
(2015), "DebtRank: a microscopic foundation for shock propagation", PLoS ONE 10(6): e0130406,
which the R package NetworkRiskMeasures' ``contagion(method = "debtrank")`` implements: no
inactive state, and each round passes on only the *increase* of stress of the round before,
``h(t+1) = min(1, h(t) + Λ (h(t) − h(t−1)))`` with ``Λ_ij = A_ij / E_i`` (uncapped), until the
increase is below a tolerance. Float only (it converges, it need not stop).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]

from embedfin.core.errors import InvalidNetwork
from embedfin.systemic.network import ExposureNetwork, Floats

#: Differential DebtRank stops when no node's stress grew by more than this in a round.
TOLERANCE = 1e-12
MAX_ROUNDS = 10_000


class State(enum.StrEnum):
    UNDISTRESSED = "undistressed"
    DISTRESSED = "distressed"
    INACTIVE = "inactive"


@dataclass(frozen=True, slots=True)
class DebtRank:
    """Where the distress ended.

    Attributes:
        nodes: the node names, in order.
        initial: ``h(1)``, the shock.
        final: ``h(T)``, each node's stress at the end.
        states: each node's state at the end (``differential_debtrank``: distressed if its
            stress is positive).
        debtrank: ``R``, the economic value put in distress beyond the shock, in [0, 1].
        defaulted: the nodes whose stress reached 1 and was below 1 before the shock spread.
        rounds: how many rounds the distress took to settle.
        exact: whether the figures are exact fractions.
        model: ``debtrank`` or ``differential``.
    """

    nodes: tuple[str, ...]
    initial: tuple[Fraction | float, ...]
    final: tuple[Fraction | float, ...]
    states: tuple[State, ...]
    debtrank: Fraction | float
    defaulted: tuple[str, ...]
    rounds: int
    exact: bool
    model: str = "debtrank"


def debtrank(network: ExposureNetwork, exact: bool = False) -> DebtRank:
    """Battiston et al. (2012) DebtRank of the network's shock."""
    if exact:
        return _debtrank_exact(network)
    impact = impact_matrix(network)
    h = network.shock.copy()
    states = np.where(h > 0, 1, 0).astype(np.int8)  # 0 undistressed, 1 distressed, 2 inactive
    rounds = 1
    while np.any(states == 1):
        rounds += 1
        distressed = states == 1
        h = np.minimum(1.0, h + impact @ np.where(distressed, h, 0.0))
        states = np.where(distressed, 2, np.where((h > 0) & (states == 0), 1, states))
        states = states.astype(np.int8)
    return _result(network, h, states, rounds, "debtrank")


def differential_debtrank(network: ExposureNetwork) -> DebtRank:
    """Bardoscia et al. (2015) DebtRank: increments pass on, round after round."""
    scale = np.divide(1.0, network.capital, out=np.full(network.size, np.inf),
                      where=network.capital > 0)  # fmt: skip
    leverage = sp.diags(scale) @ network.exposures  # Λ_ij = A_ij / E_i
    leverage.data = np.nan_to_num(leverage.data, posinf=np.finfo(np.float64).max)
    h = network.shock.copy()
    step = h.copy()
    rounds = 1
    while step.max(initial=0.0) > TOLERANCE and rounds < MAX_ROUNDS:
        rounds += 1
        nxt = np.minimum(1.0, h + leverage @ step)
        step, h = nxt - h, nxt
    states = np.where(h > 0, 1, 0).astype(np.int8)
    return _result(network, h, states, rounds, "differential")


def impact_matrix(network: ExposureNetwork) -> sp.csr_matrix:
    """``[i, j] = W_ji = min(1, A_ij / E_i)``: the share of i's capital j's failure takes."""
    exposures = network.exposures.tocsr(copy=True)
    rows = np.repeat(np.arange(network.size), np.diff(exposures.indptr))
    capital = network.capital[rows]
    exposures.data = np.where(
        capital > 0, np.minimum(1.0, exposures.data / np.where(capital > 0, capital, 1.0)), 1.0
    )
    return exposures


def _result(
    network: ExposureNetwork, h: Floats, states: npt.NDArray[np.int8], rounds: int, model: str
) -> DebtRank:
    v = network.weights
    value = float(np.clip(h @ v - network.shock @ v, 0.0, 1.0))
    names = network.nodes
    fell = np.flatnonzero((h >= 1.0) & (network.shock < 1.0))
    by_code = (State.UNDISTRESSED, State.DISTRESSED, State.INACTIVE)
    return DebtRank(names, tuple(network.shock.tolist()), tuple(h.tolist()),
                    tuple(by_code[s] for s in states), value, tuple(names[j] for j in fell),
                    rounds, False, model)  # fmt: skip


def _debtrank_exact(network: ExposureNetwork) -> DebtRank:
    terms = network.exact
    if terms is None:
        raise InvalidNetwork("exact DebtRank needs a network built from exact values")
    n = network.size
    one = Fraction(1)
    # impacts[j] = [(i, W_ji)]: whom j's distress reaches, and how hard
    impacts: list[list[tuple[int, Fraction]]] = [[] for _ in range(n)]
    for (i, j), held in terms.exposures.items():
        capital = terms.capital[i]
        impacts[j].append((i, min(one, held / capital) if capital else one))
    h = list(terms.shock)
    states = [State.DISTRESSED if level > 0 else State.UNDISTRESSED for level in h]
    rounds = 1
    while State.DISTRESSED in states:
        rounds += 1
        nxt = list(h)
        for j in (j for j in range(n) if states[j] is State.DISTRESSED):
            for i, weight in impacts[j]:
                nxt[i] += weight * h[j]
        h = [min(one, level) for level in nxt]
        states = [
            State.INACTIVE if s is State.DISTRESSED
            else State.DISTRESSED if h[k] > 0 and s is State.UNDISTRESSED
            else s
            for k, s in enumerate(states)
        ]  # fmt: skip
    v = terms.weights
    value = sum((a * w for a, w in zip(h, v, strict=True)), Fraction(0)) - sum(
        (a * w for a, w in zip(terms.shock, v, strict=True)), Fraction(0)
    )
    names = network.nodes
    fell = tuple(names[k] for k in range(n) if h[k] == 1 and terms.shock[k] < 1)
    return DebtRank(names, terms.shock, tuple(h), tuple(states), value, fell, rounds, True)
