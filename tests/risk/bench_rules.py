"""Microbenchmark (not a test): how long a 50-rule set takes to check one request.

    PYTHONPATH=src python -m tests.risk.bench_rules

Prints the fastest and the median of repeated runs of ``RuleSet.evaluate`` and
``RuleSet.decide`` per request, for a request that fires a dozen rules and one that fires none.
No timed assertion anywhere: the figure is for the report, the machine decides the rest.
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable
from functools import partial

from embedfin.risk.decision import Action
from embedfin.risk.features import FeatureVector
from embedfin.risk.rules import Rule, RuleMode, RuleSet

_SHAPES = (
    "buyer_orders_1h >= {n} and amount_to_buyer_median > 3",
    "device_accounts_7d >= {n} or declines_in_a_row >= 4",
    "ip_country != shipping_country and amount_minor > {n}00",
    'payment_method in ("card", "bnpl") and card_first_seen_days < {n}',
    "not (account_age_days > {n}) and amount_minor / 100 > 250",
    "token_declines_24h >= {n} and device_tokens_24h >= 3",
    "cash_out_after_credit_24h and credit_purchases_24h >= {n}",
    "1 < wallet_cycles_7d <= {n} or amount_buyer_zscore > 3.5",
    "buyer_amount_24h + amount_minor > {n}0000 and is_guest",
    'kind == "withdrawal" and days_since_profile_change < {n}',
)


def rule_set() -> RuleSet:
    rules = [
        Rule(
            f"r{i}",
            1,
            "risk-ops",
            f"reason_{i}",
            "benchmark rule",
            (Action.CHALLENGE, Action.REVIEW, Action.BLOCK)[i % 3],
            _SHAPES[i % len(_SHAPES)].format(n=2 + i // len(_SHAPES)),
            RuleMode.SHADOW if i % 5 == 4 else RuleMode.LIVE,
        )
        for i in range(50)
    ]
    return RuleSet(1, tuple(rules))


REQUEST = {
    "amount_minor": 48_000,
    "currency": "EUR",
    "kind": "checkout",
    "payment_method": "card",
    "ip_country": "NL",
    "shipping_country": "DE",
    "is_guest": False,
    "buyer_orders_1h": 3,
    "buyer_amount_24h": 12_000,
    "amount_to_buyer_median": 4.2,
    "amount_buyer_zscore": 1.1,
    "device_accounts_7d": 1,
    "declines_in_a_row": 0,
    "card_first_seen_days": 1,
    "account_age_days": 400,
    "token_declines_24h": 0,
    "device_tokens_24h": 1,
    "cash_out_after_credit_24h": False,
    "credit_purchases_24h": 0,
    "wallet_cycles_7d": 0,
    "days_since_profile_change": 90,
}
QUIET = {**REQUEST, "ip_country": "DE", "amount_to_buyer_median": 1.0, "card_first_seen_days": 99}


def _per_call_us(function: Callable[[], object], repeat: int = 9, number: int = 2_000) -> str:
    """Fastest and median run, per call: on a shared machine the fastest is the code's cost,
    the median what the neighbours leave of it."""
    runs = [run / number * 1e6 for run in timeit.repeat(function, repeat=repeat, number=number)]
    return f"{min(runs):.1f} µs (median {statistics.median(runs):.1f})"


def main() -> None:
    rules = rule_set()
    for label, values in (("hits", REQUEST), ("quiet", QUIET)):
        vector = FeatureVector(values)
        fired = rules.evaluate(vector)
        evaluate_us = _per_call_us(partial(rules.evaluate, vector))
        decide_us = _per_call_us(partial(rules.decide, vector))
        print(
            f"{label}: {len(rules.rules)} rules, {len(fired.live_hits)} live and "
            f"{len(fired.shadow_hits)} shadow hits: evaluate {evaluate_us}, "
            f"decide {decide_us} per request"
        )


if __name__ == "__main__":
    main()
