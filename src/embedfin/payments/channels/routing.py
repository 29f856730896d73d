"""Routing across channels by cost and live success rate, with a share of exploration.

Each channel's success rate is the Beta(1, 1)-smoothed share of approvals over its last
``window`` attempts. The router ranks the channels that accept the currency (and method, when
the buyer chose one) by expected cost per *successful* payment, ``fee / success_rate``; with
probability ``exploration`` it tries a random candidate first so that a recovered channel is
noticed (an epsilon-greedy bandit). Failover walks down the ranking.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence

from embedfin.core.errors import InvalidInput
from embedfin.core.money import Money
from embedfin.payments.channels.processors import ChannelKind, PaymentChannel


class Router:
    def __init__(
        self,
        channels: Sequence[PaymentChannel],
        *,
        window: int = 200,
        exploration: float = 0.05,
        seed: int = 0,
    ) -> None:
        if not channels:
            raise InvalidInput("a router needs at least one channel")
        if len({c.name for c in channels}) != len(channels):
            raise InvalidInput("channel names must be unique")
        self.channels = {c.name: c for c in channels}
        self.window = window
        self.exploration = exploration
        self.rng = random.Random(seed)
        self.outcomes: dict[str, deque[bool]] = {c.name: deque(maxlen=window) for c in channels}

    def success_rate(self, channel: str) -> float:
        seen = self.outcomes[channel]
        return (sum(seen) + 1) / (len(seen) + 2)

    def record(self, channel: str, approved: bool) -> None:
        self.outcomes[channel].append(approved)

    def rank(self, amount: Money, kind: ChannelKind | None = None) -> list[PaymentChannel]:
        candidates = [
            c
            for c in self.channels.values()
            if amount.currency in c.currencies and (kind is None or c.kind == kind)
        ]
        if not candidates:
            raise InvalidInput(
                f"no channel accepts {amount.currency}" + (f" by {kind}" if kind else "")
            )
        ranked = sorted(
            candidates,
            key=lambda c: (
                c.fees.fee_minor(amount.amount_minor) / self.success_rate(c.name),
                c.name,
            ),
        )
        if len(ranked) > 1 and self.rng.random() < self.exploration:
            pick = self.rng.randrange(1, len(ranked))
            ranked.insert(0, ranked.pop(pick))
        return ranked
