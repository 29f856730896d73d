"""A realistic, seeded transfer workload for one currency ledger of a marketplace.

~90% single-phase transfers (top-ups, payments, payouts), ~10% two-phase (escrow holds later
posted or voided, some left to expire), and some linked pairs (payment + commission).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from embedfin.core.ids import new_id
from embedfin.ledger.types import AMOUNT_MAX, Account, AccountFlags, Transfer, TransferFlags

USD = 840
CODE_TOP_UP, CODE_PAYMENT, CODE_COMMISSION, CODE_PAYOUT, CODE_HOLD = 1, 2, 3, 4, 5


@dataclass(frozen=True, slots=True)
class Chart:
    clearing: int
    commission: int
    escrow: int
    buyers: list[int]
    merchants: list[int]

    def accounts(self, limits: bool = True) -> list[Account]:
        """The chart's accounts; ``limits=False`` drops the overdraft flags (raw baseline)."""
        limited = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS if limits else AccountFlags.NONE
        out = [
            Account(self.clearing, USD, 10),
            Account(self.commission, USD, 20, flags=limited),
            Account(self.escrow, USD, 30, flags=limited | AccountFlags.HISTORY),
        ]
        out += [Account(b, USD, 100, flags=limited) for b in self.buyers]
        out += [Account(m, USD, 200, flags=limited) for m in self.merchants]
        return out


def make_chart(buyers: int = 9_000, merchants: int = 1_000, seed: int = 7) -> Chart:
    rng = random.Random(seed)
    ids = sorted(
        {(rng.getrandbits(48) << 80) | rng.getrandbits(80) for _ in range(buyers + 3 + merchants)}
    )
    rng.shuffle(ids)
    return Chart(ids[0], ids[1], ids[2], ids[3 : 3 + buyers], ids[3 + buyers :])


def batches(chart: Chart, total: int, batch_size: int, seed: int = 11) -> Iterator[list[Transfer]]:
    """``total`` transfers in batches of ``batch_size``: first one top-up per buyer, then the
    seeded mix of the module docstring (the same seed, the same workload)."""
    workload = _Workload(chart, random.Random(seed))
    opening = iter(chart.buyers)  # every buyer starts with one top-up
    made = 0
    while made < total:
        size = min(batch_size, total - made)
        batch: list[Transfer] = []
        for buyer in opening:
            batch.append(workload.opening_top_up(buyer))
            if len(batch) == size:
                break
        while len(batch) < size:
            workload.add(batch, size)
        made += len(batch)
        yield batch


class _Workload:
    """The generator's state: the clock of ids, the random source, the holds still open."""

    def __init__(self, chart: Chart, rng: random.Random) -> None:
        self.chart = chart
        self.rand = rng.random
        self.open_holds: list[int] = []
        self.ms = 1_767_225_600_000

    def next_id(self) -> int:
        self.ms += 1
        return new_id(self.ms)

    def opening_top_up(self, buyer: int) -> Transfer:
        tid = self.next_id()
        amount = 5_000 + int(self.rand() * 50_000)
        return Transfer(tid, self.chart.clearing, buyer, amount, USD, CODE_TOP_UP)

    def add(self, batch: list[Transfer], size: int) -> None:
        """One more event of the mix (two for a linked payment and its commission)."""
        chart, rand = self.chart, self.rand
        tid = self.next_id()
        r = rand()
        buyer = chart.buyers[int(rand() * len(chart.buyers))]
        merchant = chart.merchants[int(rand() * len(chart.merchants))]
        if r < 0.25:
            amount = 1_000 + int(rand() * 50_000)
            batch.append(Transfer(tid, chart.clearing, buyer, amount, USD, CODE_TOP_UP))
        elif r < 0.80:
            self.add_payment(batch, size, tid, buyer, merchant)
        elif r < 0.90:
            amount = 100 + int(rand() * 20_000)
            batch.append(Transfer(tid, merchant, chart.clearing, amount, USD, CODE_PAYOUT))
        elif r < 0.95 or not self.open_holds:
            batch.append(self.hold(tid, buyer))
        else:
            batch.append(self.resolve_hold(tid))

    def add_payment(
        self, batch: list[Transfer], size: int, tid: int, buyer: int, merchant: int
    ) -> None:
        amount = 100 + int(self.rand() * 8_000)
        if self.rand() < 0.1 and len(batch) + 2 <= size:  # linked: payment + commission
            fee = amount // 20
            batch.append(
                Transfer(tid, buyer, merchant, amount, USD, CODE_PAYMENT, TransferFlags.LINKED)
            )
            commission = self.chart.commission
            batch.append(Transfer(self.next_id(), merchant, commission, fee, USD, CODE_COMMISSION))
        else:
            batch.append(Transfer(tid, buyer, merchant, amount, USD, CODE_PAYMENT))

    def hold(self, tid: int, buyer: int) -> Transfer:
        """A two-phase escrow hold; one in ten times out after a second."""
        amount = 100 + int(self.rand() * 8_000)
        timeout = 0 if self.rand() < 0.9 else 1
        self.open_holds.append(tid)
        flags = TransferFlags.PENDING
        escrow = self.chart.escrow
        return Transfer(tid, buyer, escrow, amount, USD, CODE_HOLD, flags, timeout=timeout)

    def resolve_hold(self, tid: int) -> Transfer:
        """Post (four in five) or void an open hold picked at random."""
        pending_id = self.open_holds.pop(int(self.rand() * len(self.open_holds)))
        if self.rand() < 0.8:
            flags, amount = TransferFlags.POST_PENDING_TRANSFER, AMOUNT_MAX
        else:
            flags, amount = TransferFlags.VOID_PENDING_TRANSFER, 0
        return Transfer(tid, 0, 0, amount, 0, 0, flags, pending_id=pending_id)
