"""The world a seed draws: the same people and shops in every mode."""

from __future__ import annotations

import random

from embedfin.sim.agents import Consumer, Merchant, by_category, open_merchants, recruit_consumers
from embedfin.sim.scenario import load


def _world(mode: str) -> tuple[list[Merchant], list[Consumer]]:
    scenario = load(mode).scaled(consumers=50, seed=3)
    rng = random.Random(scenario.seed)
    return open_merchants(scenario, rng), recruit_consumers(scenario, rng)


def test_every_mode_of_one_seed_draws_the_same_world() -> None:
    (gateway_shops, gateway_buyers), (fused_shops, fused_buyers) = (
        _world("gateway"),
        _world("fused"),
    )
    assert gateway_shops == fused_shops
    assert [(c.rate, c.budget) for c in gateway_buyers] == [
        (c.rate, c.budget) for c in fused_buyers
    ]


def test_shops_are_shelved_by_their_category() -> None:
    merchants, _ = _world("fused")
    shelves = by_category(merchants)
    assert sum(len(shelf) for shelf in shelves.values()) == len(merchants)
    assert all(m.category == name for name, shelf in shelves.items() for m in shelf)
