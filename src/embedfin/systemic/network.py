"""The networks the contagion models take, validated once: amounts finite and non-negative,
matrices square and the size of the node list, rates and shocks in [0, 1], node names known.

Two shapes, one per family of models:

* ``ClearingNetwork`` (Eisenberg–Noe, Rogers–Veraart): ``liabilities[i, j]`` is what node i
  owes node j; ``external_assets[i]`` what i holds outside the network; optional
  ``external_liabilities[i]`` what i owes outside it (paid pro rata with its interbank debts);
  ``alpha`` and ``beta`` the share of external assets and of interbank receipts a defaulting
  node realises (Rogers–Veraart; 1 and 1 is Eisenberg–Noe).
* ``ExposureNetwork`` (DebtRank): ``exposures[i, j]`` is i's asset on j (what i loses if j
  fails), ``capital[i]`` i's equity, ``weights`` each node's economic value (normalised to sum
  to 1), ``shock[i]`` the initial stress in [0, 1].

Matrices are sparse (``scipy.sparse`` CSR, float64). A network built from Python values also
keeps them as exact ``Fraction``s (``exact``), so the small published examples clear in exact
arithmetic; one built from arrays (the benchmark, an export of the books) is float only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]

from embedfin.core.errors import InvalidNetwork

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
#: A matrix as given: rows of numbers, or ``{row node: {column node: amount}}``.
MatrixInput = Sequence[Sequence[object]] | Mapping[str, Mapping[str, object]]
#: A vector as given: one number per node in order, or ``{node: amount}`` (missing nodes: 0).
VectorInput = Sequence[object] | Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ExactClearing:
    """A clearing network's terms as exact fractions.

    Attributes:
        liabilities: ``{(i, j): amount}`` for every non-zero amount i owes j.
        external_assets, external_liabilities: one per node.
        alpha, beta: the default costs' recovery rates.
    """

    liabilities: Mapping[tuple[int, int], Fraction]
    external_assets: tuple[Fraction, ...]
    external_liabilities: tuple[Fraction, ...]
    alpha: Fraction
    beta: Fraction


@dataclass(frozen=True, slots=True)
class ClearingNetwork:
    """Who owes whom, for the clearing models (the module docstring has each field)."""

    nodes: tuple[str, ...]
    liabilities: sp.csr_matrix
    external_assets: Floats
    external_liabilities: Floats
    alpha: float = 1.0
    beta: float = 1.0
    exact: ExactClearing | None = None

    @property
    def size(self) -> int:
        return len(self.nodes)


@dataclass(frozen=True, slots=True)
class ExactExposures:
    """An exposure network's terms as exact fractions (weights already normalised)."""

    exposures: Mapping[tuple[int, int], Fraction]
    capital: tuple[Fraction, ...]
    weights: tuple[Fraction, ...]
    shock: tuple[Fraction, ...]


@dataclass(frozen=True, slots=True)
class ExposureNetwork:
    """Who is exposed to whom, for DebtRank (the module docstring has each field)."""

    nodes: tuple[str, ...]
    exposures: sp.csr_matrix
    capital: Floats
    weights: Floats
    shock: Floats
    exact: ExactExposures | None = None

    @property
    def size(self) -> int:
        return len(self.nodes)


# --- from Python values (a JSON file, a test) -----------------------------------------------
def clearing_network(
    nodes: Sequence[str],
    liabilities: MatrixInput,
    external_assets: VectorInput,
    external_liabilities: VectorInput | None = None,
    alpha: object = 1,
    beta: object = 1,
) -> ClearingNetwork:
    """A clearing network from plain values; every amount kept exact as well."""
    names = _nodes(nodes)
    owed = _matrix("liabilities", names, liabilities)
    assets = _vector("external_assets", names, external_assets)
    outside = _vector("external_liabilities", names, external_liabilities or [0] * len(names))
    a, b = _rate("alpha", alpha), _rate("beta", beta)
    exact = ExactClearing(owed, assets, outside, a, b)
    return ClearingNetwork(
        names, _csr(owed, len(names)), _floats(assets), _floats(outside), float(a), float(b),
        exact,
    )  # fmt: skip


def exposure_network(
    nodes: Sequence[str],
    exposures: MatrixInput,
    capital: VectorInput,
    shock: VectorInput,
    weights: VectorInput | None = None,
) -> ExposureNetwork:
    """An exposure network from plain values; weights default to equal, and are normalised."""
    names = _nodes(nodes)
    held = _matrix("exposures", names, exposures)
    equity = _vector("capital", names, capital)
    stress = _vector("shock", names, shock)
    for name, level in zip(names, stress, strict=True):
        if level > 1:
            raise InvalidNetwork(f"shock of {name!r} is {level}: a stress level is in [0, 1]")
    raw = _vector("weights", names, weights if weights is not None else [1] * len(names))
    total = sum(raw, Fraction(0))
    if total == 0:
        raise InvalidNetwork("weights: at least one node must have a positive weight")
    shares = tuple(w / total for w in raw)
    exact = ExactExposures(held, equity, shares, stress)
    return ExposureNetwork(
        names, _csr(held, len(names)), _floats(equity), _floats(shares), _floats(stress), exact
    )


# --- from arrays (the benchmark, the export of the books) -----------------------------------
def clearing_network_from_arrays(
    nodes: Sequence[str],
    debtors: npt.ArrayLike,
    creditors: npt.ArrayLike,
    amounts: npt.ArrayLike,
    external_assets: npt.ArrayLike,
    external_liabilities: npt.ArrayLike | None = None,
    alpha: float = 1.0,
    beta: float = 1.0,
) -> ClearingNetwork:
    """A clearing network from edge arrays (debtor i owes creditor j ``amounts[k]``); repeated
    edges add up. Float only."""
    names = _nodes(nodes)
    n = len(names)
    matrix = _edges_csr("liabilities", n, debtors, creditors, amounts)
    assets = _array("external_assets", n, external_assets)
    given = np.zeros(n) if external_liabilities is None else external_liabilities
    outside = _array("external_liabilities", n, given)
    a, b = float(_rate("alpha", alpha)), float(_rate("beta", beta))
    return ClearingNetwork(names, matrix, assets, outside, a, b)


def exposure_network_from_arrays(
    nodes: Sequence[str],
    holders: npt.ArrayLike,
    obligors: npt.ArrayLike,
    amounts: npt.ArrayLike,
    capital: npt.ArrayLike,
    shock: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> ExposureNetwork:
    """An exposure network from edge arrays (holder i has ``amounts[k]`` on obligor j). Float
    only."""
    names = _nodes(nodes)
    n = len(names)
    matrix = _edges_csr("exposures", n, holders, obligors, amounts)
    equity = _array("capital", n, capital)
    stress = _array("shock", n, shock)
    if np.any(stress > 1):
        raise InvalidNetwork("shock: a stress level is in [0, 1]")
    raw = _array("weights", n, np.ones(n) if weights is None else weights)
    if raw.sum() <= 0:
        raise InvalidNetwork("weights: at least one node must have a positive weight")
    return ExposureNetwork(names, matrix, equity, raw / raw.sum(), stress)


# --- checks ---------------------------------------------------------------------------------
def _nodes(nodes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(nodes, str | bytes) or not isinstance(nodes, Sequence):
        raise InvalidNetwork("nodes: a list of node names")
    names = tuple(nodes)
    if not names:
        raise InvalidNetwork("nodes: the network has no nodes")
    for name in names:
        if not isinstance(name, str) or not name:
            raise InvalidNetwork(f"nodes: {name!r} is not a non-empty name")
    if len(set(names)) != len(names):
        seen = sorted({n for n in names if names.count(n) > 1})
        raise InvalidNetwork(f"nodes: {seen} appear more than once")
    return names


def amount(what: str, value: object) -> Fraction:
    """A finite, non-negative number, exactly (a float is taken at its binary value)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
        raise InvalidNetwork(f"{what}: {value!r} is not a number")
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise InvalidNetwork(f"{what}: {value} is not a finite number")
    exact = Fraction(value)
    if exact < 0:
        raise InvalidNetwork(f"{what}: {value} is negative")
    return exact


def _rate(what: str, value: object) -> Fraction:
    rate = amount(what, value)
    if rate > 1:
        raise InvalidNetwork(f"{what}: {value} is outside [0, 1]")
    return rate


def _matrix(what: str, names: tuple[str, ...], given: object) -> dict[tuple[int, int], Fraction]:
    n = len(names)
    entries: dict[tuple[int, int], Fraction] = {}
    if isinstance(given, Mapping):
        index = {name: i for i, name in enumerate(names)}
        for row_name, row in given.items():
            i = _known(what, index, row_name)
            if not isinstance(row, Mapping):
                raise InvalidNetwork(f"{what}[{row_name!r}]: an object of amounts by node")
            for column_name, value in row.items():
                j = _known(what, index, column_name)
                entries[i, j] = amount(f"{what}[{row_name!r}][{column_name!r}]", value)
    elif isinstance(given, Sequence) and not isinstance(given, str | bytes):
        if len(given) != n:
            raise InvalidNetwork(f"{what}: {len(given)} rows for {n} nodes (square, n × n)")
        for i, row in enumerate(given):
            if not isinstance(row, Sequence) or isinstance(row, str | bytes) or len(row) != n:
                raise InvalidNetwork(f"{what}: row {i} does not have {n} columns (square, n × n)")
            for j, value in enumerate(row):
                entries[i, j] = amount(f"{what}[{i}][{j}]", value)
    else:
        raise InvalidNetwork(f"{what}: a list of rows or an object of rows by node")
    for (i, j), value in entries.items():
        if i == j and value:
            raise InvalidNetwork(f"{what}: {names[i]!r} cannot owe or hold a claim on itself")
    return {key: value for key, value in entries.items() if value}


def _vector(what: str, names: tuple[str, ...], given: object) -> tuple[Fraction, ...]:
    n = len(names)
    if isinstance(given, Mapping):
        index = {name: i for i, name in enumerate(names)}
        values = [Fraction(0)] * n
        for name, value in given.items():
            values[_known(what, index, name)] = amount(f"{what}[{name!r}]", value)
        return tuple(values)
    if isinstance(given, Sequence) and not isinstance(given, str | bytes):
        if len(given) != n:
            raise InvalidNetwork(f"{what}: {len(given)} values for {n} nodes")
        return tuple(amount(f"{what}[{i}]", v) for i, v in enumerate(given))
    raise InvalidNetwork(f"{what}: a list of numbers or an object of numbers by node")


def _known(what: str, index: Mapping[str, int], name: object) -> int:
    if not isinstance(name, str) or name not in index:
        raise InvalidNetwork(f"{what}: {name!r} is not one of the nodes")
    return index[name]


def _array(what: str, n: int, values: npt.ArrayLike) -> Floats:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n,):
        raise InvalidNetwork(f"{what}: {array.shape} values for {n} nodes")
    if not np.all(np.isfinite(array)):
        raise InvalidNetwork(f"{what}: NaN or infinite values")
    if np.any(array < 0):
        raise InvalidNetwork(f"{what}: negative values")
    return array


def _edges_csr(
    what: str, n: int, debtors: npt.ArrayLike, creditors: npt.ArrayLike, amounts: npt.ArrayLike
) -> sp.csr_matrix:
    rows, columns = np.asarray(debtors, dtype=np.int64), np.asarray(creditors, dtype=np.int64)
    values = np.asarray(amounts, dtype=np.float64)
    if not rows.shape == columns.shape == values.shape or rows.ndim != 1:
        raise InvalidNetwork(f"{what}: edge arrays of different lengths")
    if rows.size and (min(rows.min(), columns.min()) < 0 or max(rows.max(), columns.max()) >= n):
        raise InvalidNetwork(f"{what}: an edge names a node that is not in the network")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise InvalidNetwork(f"{what}: amounts must be finite and non-negative")
    if np.any((rows == columns) & (values > 0)):
        raise InvalidNetwork(f"{what}: a node cannot owe or hold a claim on itself")
    matrix = sp.csr_matrix((values, (rows, columns)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def _csr(entries: Mapping[tuple[int, int], Fraction], n: int) -> sp.csr_matrix:
    rows = np.fromiter((i for i, _ in entries), dtype=np.int64, count=len(entries))
    columns = np.fromiter((j for _, j in entries), dtype=np.int64, count=len(entries))
    values = np.fromiter((float(v) for v in entries.values()), dtype=np.float64,
                         count=len(entries))  # fmt: skip
    return sp.csr_matrix((values, (rows, columns)), shape=(n, n))


def _floats(values: Sequence[Fraction]) -> Floats:
    return np.array([float(v) for v in values], dtype=np.float64)


# --- a network file --------------------------------------------------------------------------
CLEARING_KEYS = {"nodes", "liabilities", "external_assets", "external_liabilities", "alpha",
                 "beta"}  # fmt: skip
EXPOSURE_KEYS = {"nodes", "exposures", "capital", "weights", "shock"}


def clearing_from_mapping(data: Mapping[str, object]) -> ClearingNetwork:
    """The clearing network of a network file's object (other keys are the other model's)."""
    _require(data, ("nodes", "liabilities", "external_assets"))
    return clearing_network(
        data["nodes"],  # type: ignore[arg-type]
        data["liabilities"],  # type: ignore[arg-type]
        data["external_assets"],  # type: ignore[arg-type]
        data.get("external_liabilities"),  # type: ignore[arg-type]
        data.get("alpha", 1),
        data.get("beta", 1),
    )


def exposures_from_mapping(data: Mapping[str, object]) -> ExposureNetwork:
    """The exposure network of a network file's object, for DebtRank."""
    _require(data, ("nodes", "exposures", "capital", "shock"))
    return exposure_network(
        data["nodes"],  # type: ignore[arg-type]
        data["exposures"],  # type: ignore[arg-type]
        data["capital"],  # type: ignore[arg-type]
        data["shock"],  # type: ignore[arg-type]
        data.get("weights"),  # type: ignore[arg-type]
    )


def _require(data: Mapping[str, object], keys: Sequence[str]) -> None:
    if not isinstance(data, Mapping):
        raise InvalidNetwork("a network is a JSON object")
    unknown = sorted(set(data) - CLEARING_KEYS - EXPOSURE_KEYS)
    if unknown:
        raise InvalidNetwork(f"unknown keys {unknown}")
    missing = [k for k in keys if k not in data]
    if missing:
        raise InvalidNetwork(f"missing {missing}")
