"""``embedfin bench systemic``: the contagion models on a large random sparse network.

A seeded random network of ``nodes`` nodes and ``edges`` debts (debtor and creditor drawn
uniformly, log-normal amounts, repeated pairs added up): each node owes half as much again
outside the network, and holds between 20% and 110% of all it owes in external assets, so
part of the network defaults. Eisenberg–Noe clears it (``clearing_seconds``, float64 on the
sparse matrix, from the network already built); DebtRank spreads a shock of 0.5 on 1% of the
nodes over the same debts seen as exposures (``debtrank_seconds``), capital half of each
node's interbank assets. Targets: under a second each at 10,000 nodes and 200,000 edges.

The fund pool's daily accrual for a million holders (``accrual_seconds_1m``, ``bench/fundpool.py``)
joins the same JSON line; ``--holders`` sizes it (0 leaves it out).
"""

from __future__ import annotations

import time

import numpy as np

from embedfin.systemic.clearing import eisenberg_noe
from embedfin.systemic.debtrank import debtrank
from embedfin.systemic.network import clearing_network_from_arrays, exposure_network_from_arrays

Figures = dict[str, float | int | str]


def run(
    nodes: int = 10_000, edges: int = 200_000, seed: int = 7, holders: int = 1_000_000
) -> Figures:
    """Every systemic figure, in one dict (the last line of ``embedfin bench systemic``): the
    contagion models, then one day of the fund pool's income accrued to ``holders`` holders on
    SQLite (``accrual_seconds_1m`` at the default million; target under 10 s), with a plain
    UPDATE of as many rows in the same run as its baseline."""
    figures = contagion_figures(nodes, edges, seed)
    if holders:
        from embedfin.bench.fundpool import accrual_run

        accrual = accrual_run(holders)
        key = "accrual_seconds_1m" if holders == 1_000_000 else "accrual_seconds"
        figures |= {
            "accrual_holders": holders,
            key: round(accrual.seconds, 3),
            "accrual_plain_update_seconds": round(accrual.plain_update_seconds, 3),
            "accrual_vs_plain_update": round(accrual.vs_plain_update, 3),
        }
    return figures


def contagion_figures(nodes: int, edges: int, seed: int) -> Figures:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    pairs = rng.choice(nodes * (nodes - 1), size=min(edges, nodes * (nodes - 1)), replace=False)
    debtors = pairs // (nodes - 1)
    creditors = pairs % (nodes - 1)
    creditors = creditors + (creditors >= debtors)  # skip the diagonal: no node owes itself
    amounts = rng.lognormal(mean=3.0, sigma=1.0, size=debtors.size)
    names = [f"n{i}" for i in range(nodes)]
    interbank = np.bincount(debtors, weights=amounts, minlength=nodes)
    outside = 0.5 * interbank
    assets = rng.uniform(0.2, 1.1, size=nodes) * (interbank + outside)
    network = clearing_network_from_arrays(names, debtors, creditors, amounts, assets, outside)
    build_seconds = time.perf_counter() - started

    started = time.perf_counter()
    cleared = eisenberg_noe(network)
    clearing_seconds = time.perf_counter() - started

    held = np.bincount(creditors, weights=amounts, minlength=nodes)
    shock = np.zeros(nodes)
    shock[rng.choice(nodes, size=max(1, nodes // 100), replace=False)] = 0.5
    exposures = exposure_network_from_arrays(
        names, creditors, debtors, amounts, 0.5 * held + 1.0, shock, weights=held + 1.0
    )
    started = time.perf_counter()
    spread = debtrank(exposures)
    debtrank_seconds = time.perf_counter() - started
    return {
        "nodes": nodes,
        "edges": int(network.liabilities.nnz),
        "build_seconds": round(build_seconds, 4),
        "clearing_seconds": round(clearing_seconds, 4),
        "clearing_rounds": cleared.rounds,
        "clearing_defaults": len(cleared.defaulted),
        "debtrank_seconds": round(debtrank_seconds, 4),
        "debtrank_rounds": spread.rounds,
        "debtrank": round(float(spread.debtrank), 6),
    }
