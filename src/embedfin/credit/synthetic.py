"""Seeded synthetic buyers with a known risk process: for tests, benchmarks and the first model
before the platform has loan outcomes of its own (never a stand-in for validation: that is
``embedfin credit evaluate`` on real data)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from embedfin.credit.features import FEATURES, NO_ORDER_DAYS


def buyers(n: int, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` buyers' features and whether each defaulted (1) under a fixed logistic process."""
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 200.0, n).astype(int)
    orders = rng.poisson(np.clip(tenure / 60, 0.2, 12), n)
    gmv = (orders * rng.lognormal(8.0, 0.8, n)).astype(int)
    categories = np.minimum(orders, rng.integers(1, 6, n))
    refund = np.round(rng.beta(1, 12, n), 4)
    dispute = np.round(rng.beta(1, 40, n), 4)
    on_time = np.round(rng.beta(12, 1.2, n), 4)
    inflow = (rng.lognormal(12.3, 0.8, n) * (rng.uniform(0, 1, n) < 0.8)).astype(int)
    since = np.where(orders > 0, rng.integers(0, 120, n), NO_ORDER_DAYS)
    logit = (
        -1.2
        - 0.0025 * np.minimum(tenure, 900)
        - 0.08 * np.minimum(orders, 15)
        + 4.0 * refund
        + 9.0 * dispute
        - 4.5 * (on_time - 0.85)
        - 0.25 * np.log1p(inflow / 100_000)
        + 0.004 * np.minimum(since, 365)
    )
    bad = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(
        {
            "tenure_days": tenure,
            "orders_90d": orders,
            "gmv_90d": gmv,
            "categories_90d": categories,
            "refund_rate": refund,
            "dispute_rate": dispute,
            "on_time_rate": on_time,
            "wallet_inflow_90d": inflow,
            "days_since_last_order": since,
        },
        columns=list(FEATURES),
    )
    return frame, bad
