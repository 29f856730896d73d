"""Clearing a network of debts: Eisenberg–Noe, and Rogers–Veraart with default costs.

Node i owes ``p̄_i = Σ_j L_ij + L_i^ext`` in all and pays each creditor the same share of what it
pays (``Π_ij = L_ij / p̄_i``; its outside creditors get theirs pro rata too). With ``e_i`` its
external assets, a clearing vector ``p`` satisfies (Rogers and Veraart 2013, Management Science
59(4), eq. 3):

    p_i = p̄_i                              if e_i + Σ_j Π_ji p_j ≥ p̄_i   (solvent)
    p_i = α e_i + β Σ_j Π_ji p_j            otherwise                      (in default)

where a defaulting node realises only ``α`` of its external assets and ``β`` of what it is paid.
With ``α = β = 1`` this is Eisenberg and Noe (2001, Management Science 47(2)):
``p = min(p̄, e + Πᵀp)``.

Both clear by the same algorithm: Rogers and Veraart's Greatest Clearing Vector Algorithm, which
for ``α = β = 1`` is Eisenberg and Noe's fictitious default algorithm. Start from everyone paying
in full; find the nodes that cannot; solve the linear system in which they pay what they have
and the others pay in full; repeat until the set of defaulting nodes stops growing (at most n
rounds). The result is the greatest clearing vector.

``clear(network, exact=True)`` runs it in ``Fraction``s (dense Gaussian elimination: for the
small published examples); the default is float64 on the sparse matrix, where each round's system
is solved by a sparse direct solver when small and by BiCGSTAB, checked, when large.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]
import scipy.sparse.linalg as spla  # type: ignore[import-untyped]

from embedfin.core.errors import InvalidNetwork
from embedfin.systemic.network import ClearingNetwork, Floats

#: A round's system up to this many defaulting nodes goes to the direct solver.
DIRECT_MAX = 2_000
#: Relative tolerance of the float path (solvency tests and the iterative solver).
TOLERANCE = 1e-10


@dataclass(frozen=True, slots=True)
class Clearing:
    """The greatest clearing vector and what it means for each node.

    Attributes:
        nodes: the network's node names, in order.
        owed: ``p̄``, what each node owes in all (interbank and external).
        payments: ``p``, what each node pays in all.
        equity: what each node keeps once everyone has paid (0 for a node in default).
        defaulted: the nodes that pay less than they owe, in node order.
        rounds: how many times the algorithm determined the set of defaulting nodes.
        exact: whether the figures are exact fractions (else float64).
    """

    nodes: tuple[str, ...]
    owed: tuple[Fraction | float, ...]
    payments: tuple[Fraction | float, ...]
    equity: tuple[Fraction | float, ...]
    defaulted: tuple[str, ...]
    rounds: int
    exact: bool

    def payments_to(self, network: ClearingNetwork) -> dict[tuple[str, str], float]:
        """What each debtor pays each creditor (pro rata), for the edges of the network."""
        coo = network.liabilities.tocoo()
        paid = {}
        for i, j, owed_ij in zip(coo.row, coo.col, coo.data, strict=True):
            share = float(self.payments[i]) / float(self.owed[i]) if self.owed[i] else 0.0
            paid[self.nodes[i], self.nodes[j]] = owed_ij * share
        return paid


def eisenberg_noe(network: ClearingNetwork, exact: bool = False) -> Clearing:
    """Eisenberg–Noe: the network's own α and β ignored (no default costs)."""
    return _clear(network, exact, alpha=None, beta=None)


def rogers_veraart(network: ClearingNetwork, exact: bool = False) -> Clearing:
    """Rogers–Veraart with the network's ``alpha`` and ``beta``."""
    return _clear(network, exact, alpha=network.alpha, beta=network.beta)


def _clear(
    network: ClearingNetwork, exact: bool, alpha: float | None, beta: float | None
) -> Clearing:
    if exact:
        if network.exact is None:
            raise InvalidNetwork("exact clearing needs a network built from exact values")
        one = Fraction(1)
        a = one if alpha is None else network.exact.alpha
        b = one if beta is None else network.exact.beta
        return _clear_exact(network, a, b)
    return _clear_float(network, 1.0 if alpha is None else alpha, 1.0 if beta is None else beta)


# --- exact ----------------------------------------------------------------------------------
def _clear_exact(network: ClearingNetwork, alpha: Fraction, beta: Fraction) -> Clearing:
    assert network.exact is not None
    terms = network.exact
    n = network.size
    owed = [Fraction(v) for v in terms.external_liabilities]
    for (i, _), value in terms.liabilities.items():
        owed[i] += value
    # inflows[j] = [(i, Π_ij)]: who pays j, and which share of what it pays
    inflows: list[list[tuple[int, Fraction]]] = [[] for _ in range(n)]
    for (i, j), value in terms.liabilities.items():
        inflows[j].append((i, value / owed[i]))
    e = terms.external_assets
    payments = list(owed)
    defaulted: set[int] = set()
    rounds = 0
    while True:
        rounds += 1
        received = [sum((share * payments[i] for i, share in inflows[j]), Fraction(0))
                    for j in range(n)]  # fmt: skip
        now = defaulted | {j for j in range(n) if e[j] + received[j] < owed[j]}
        if now == defaulted:
            break
        defaulted = now
        payments = _solve_exact(sorted(defaulted), owed, inflows, e, alpha, beta)
    equity = tuple(
        Fraction(0) if j in defaulted else e[j] + received[j] - owed[j] for j in range(n)
    )
    names = network.nodes
    return Clearing(names, tuple(owed), tuple(payments), equity,
                    tuple(names[j] for j in sorted(defaulted)), rounds, True)  # fmt: skip


def _solve_exact(
    defaulted: Sequence[int],
    owed: Sequence[Fraction],
    inflows: Sequence[Sequence[tuple[int, Fraction]]],
    e: Sequence[Fraction],
    alpha: Fraction,
    beta: Fraction,
) -> list[Fraction]:
    """Payments when the ``defaulted`` pay α e + β (what they receive) and the rest pay in full:
    ``(I − β Π_DDᵀ) x = α e_D + β Π_NDᵀ p̄_N``, by Gaussian elimination."""
    where = {j: k for k, j in enumerate(defaulted)}
    size = len(defaulted)
    rows = []
    for j in defaulted:
        row = [Fraction(0)] * size + [alpha * e[j]]
        row[where[j]] = Fraction(1)
        for i, share in inflows[j]:
            if i in where:
                row[where[i]] -= beta * share
            else:
                row[size] += beta * share * owed[i]
        rows.append(row)
    for col in range(size):
        pivot = next((r for r in range(col, size) if rows[r][col] != 0), None)
        if pivot is None:
            raise InvalidNetwork(
                "the defaulting nodes form a closed group with nothing coming in: their "
                "payments are not unique; clear without exact=True"
            )
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [v / lead for v in rows[col]]
        for r in range(size):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [v - factor * w for v, w in zip(rows[r], rows[col], strict=True)]
    payments = list(owed)
    for j, k in where.items():
        payments[j] = rows[k][size]
    return payments


# --- float ----------------------------------------------------------------------------------
def _clear_float(network: ClearingNetwork, alpha: float, beta: float) -> Clearing:
    owed = np.asarray(network.liabilities.sum(axis=1)).ravel() + network.external_liabilities
    scale = np.divide(1.0, owed, out=np.zeros_like(owed), where=owed > 0)
    shares_in = (sp.diags(scale) @ network.liabilities).T.tocsr()  # [j, i] = Π_ij
    e = network.external_assets
    slack = TOLERANCE * np.maximum(1.0, owed)
    payments = owed.copy()
    defaulted = np.zeros(network.size, dtype=bool)
    rounds = 0
    while True:
        rounds += 1
        received = shares_in @ payments
        now = defaulted | (e + received < owed - slack)
        if np.array_equal(now, defaulted):
            break
        defaulted = now
        payments = _solve_float(shares_in, owed, e, defaulted, alpha, beta, payments)
    equity = np.where(defaulted, 0.0, np.maximum(e + received - owed, 0.0))
    names = network.nodes
    return Clearing(names, tuple(owed.tolist()), tuple(payments.tolist()),
                    tuple(equity.tolist()), tuple(names[j] for j in np.flatnonzero(defaulted)),
                    rounds, False)  # fmt: skip


def _solve_float(
    shares_in: sp.csr_matrix,
    owed: Floats,
    e: Floats,
    defaulted: npt.NDArray[np.bool_],
    alpha: float,
    beta: float,
    start: Floats,
) -> Floats:
    d = np.flatnonzero(defaulted)
    s = np.flatnonzero(~defaulted)
    rows = shares_in[d]
    among = rows[:, d]
    rhs = alpha * e[d] + beta * (rows[:, s] @ owed[s])
    system = (sp.identity(d.size, format="csr") - beta * among).tocsc()
    x = _direct(system, rhs) if d.size <= DIRECT_MAX else _iterative(system, rhs, start[d])
    if x is None:
        x = _picard(among, rhs, beta, owed[d])
    payments = owed.copy()
    payments[d] = np.clip(x, 0.0, owed[d])
    return payments


def _direct(system: sp.csc_matrix, rhs: Floats) -> Floats | None:
    try:
        x = np.asarray(spla.spsolve(system, rhs), dtype=np.float64).reshape(-1)
    except RuntimeError:  # exactly singular
        return None
    return x if np.all(np.isfinite(x)) else None


def _iterative(system: sp.csc_matrix, rhs: Floats, start: Floats) -> Floats | None:
    x, info = spla.bicgstab(system.tocsr(), rhs, x0=start, rtol=TOLERANCE, atol=0.0)
    if info != 0 or not np.all(np.isfinite(x)):
        return None
    residual = np.abs(system @ x - rhs).max(initial=0.0)
    ok = residual <= 1e3 * TOLERANCE * max(1.0, float(np.abs(rhs).max(initial=0.0)))
    return np.asarray(x, dtype=np.float64) if ok else None


def _picard(among: sp.csr_matrix, rhs: Floats, beta: float, upper: Floats) -> Floats:
    """The greatest solution below ``upper`` by iterating from it (monotone decreasing): for a
    system the solvers cannot take (singular: a closed group of defaulting nodes)."""
    x = upper.copy()
    for _ in range(100_000):
        nxt: Floats = np.minimum(upper, rhs + beta * (among @ x))
        if np.abs(nxt - x).max(initial=0.0) <= TOLERANCE * max(1.0, float(upper.max())):
            return nxt
        x = nxt
    return x
