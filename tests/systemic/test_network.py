"""A network the models cannot take is refused with ``invalid_network``, saying why."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from embedfin.core.errors import InvalidInput, InvalidNetwork
from embedfin.systemic.network import (
    clearing_from_mapping,
    clearing_network,
    clearing_network_from_arrays,
    exposure_network,
    exposures_from_mapping,
)

NODES = ["a", "b"]


@pytest.mark.parametrize(
    ("liabilities", "why"),
    [
        ([[0, -1], [0, 0]], "negative"),
        ([[0, 1], [0]], "columns"),
        ([[0, 1]], "rows"),
        ([[0, math.nan], [0, 0]], "finite"),
        ([[0, math.inf], [0, 0]], "finite"),
        ([[0, Decimal("NaN")], [0, 0]], "finite"),
        ([[0, True], [0, 0]], "not a number"),
        ([[0, "3"], [0, 0]], "not a number"),
        ({"a": {"z": 1}}, "not one of the nodes"),
        ({"q": {"a": 1}}, "not one of the nodes"),
        ([[1, 0], [0, 0]], "itself"),
        ("ab", "rows"),
    ],
)
def test_bad_liabilities_are_refused(liabilities: object, why: str) -> None:
    with pytest.raises(InvalidNetwork, match=why):
        clearing_network(NODES, liabilities, [1, 1])  # type: ignore[arg-type]


@pytest.mark.parametrize(("alpha", "beta"), [(-0.1, 1), (1.5, 1), (1, 2), (1, -1)])
def test_default_costs_outside_zero_one_are_refused(alpha: float, beta: float) -> None:
    with pytest.raises(InvalidNetwork, match="alpha|beta"):
        clearing_network(NODES, [[0, 1], [0, 0]], [1, 1], alpha=alpha, beta=beta)


def test_a_vector_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(InvalidNetwork, match="3 values for 2 nodes"):
        clearing_network(NODES, [[0, 1], [0, 0]], [1, 1, 1])


def test_duplicate_or_missing_nodes_are_refused() -> None:
    with pytest.raises(InvalidNetwork, match="more than once"):
        clearing_network(["a", "a"], [[0, 1], [0, 0]], [1, 1])
    with pytest.raises(InvalidNetwork, match="no nodes"):
        clearing_network([], [], [])


@pytest.mark.parametrize("shock", [[1.5, 0], [-0.1, 0], [math.nan, 0]])
def test_a_shock_outside_zero_one_is_refused(shock: list[float]) -> None:
    with pytest.raises(InvalidNetwork):
        exposure_network(NODES, [[0, 1], [0, 0]], [1, 1], shock)


def test_weights_must_not_all_be_zero() -> None:
    with pytest.raises(InvalidNetwork, match="weights"):
        exposure_network(NODES, [[0, 1], [0, 0]], [1, 1], [1, 0], [0, 0])


def test_arrays_naming_an_unknown_node_or_negative_amount_are_refused() -> None:
    ones = np.ones(2)
    with pytest.raises(InvalidNetwork, match="not in the network"):
        clearing_network_from_arrays(NODES, np.array([0]), np.array([2]), np.array([1.0]), ones)
    with pytest.raises(InvalidNetwork, match="non-negative"):
        clearing_network_from_arrays(NODES, np.array([0]), np.array([1]), np.array([-1.0]), ones)


def test_a_file_with_an_unknown_or_missing_key_is_refused() -> None:
    with pytest.raises(InvalidNetwork, match="unknown keys"):
        clearing_from_mapping({"nodes": NODES, "liabilities": [], "external_asets": []})
    with pytest.raises(InvalidNetwork, match="missing"):
        exposures_from_mapping({"nodes": NODES, "exposures": [[0, 0], [0, 0]]})


def test_invalid_network_is_invalid_input_with_its_own_code() -> None:
    assert issubclass(InvalidNetwork, InvalidInput)
    assert InvalidNetwork.code == "invalid_network"


def test_repeated_edges_add_up() -> None:
    network = clearing_network_from_arrays(
        NODES, np.array([0, 0]), np.array([1, 1]), np.array([2.0, 3.0]), np.ones(2)
    )
    assert network.liabilities[0, 1] == 5.0
