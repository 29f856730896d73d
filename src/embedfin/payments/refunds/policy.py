"""The refund policy (pure): which source of an order's money a refund goes back to, and who
pays for it.

**Where money goes back** — to where it came from, per source, never beyond what that source
paid:

1. a financed order pays its loan down first (up to the principal still outstanding; the lender
   gets its money back and the installments still to come shrink);
2. then the channel share goes back through the channel that took it (card, e-wallet, …);
3. then the wallet share goes back to the buyer's wallet — for a financed order, the part the
   buyer had already repaid from the wallet.

A cross-border order is refunded in the order's currency, to the wallet that paid it; the buyer
converts back with a fresh quote if they want (no silent conversion at a rate nobody agreed).

**Who pays** — before release, escrow. After release the money has left escrow: the merchant
pays back its net share of the refunded amount (from its pending balance first, then its
available balance) and the platform returns the commission it took on that share, pro rata; the
channel's fee is not returned (the platform already paid it and bears it). A refund that the
merchant's balances cannot cover is refused whole: nothing moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from embedfin.core.errors import InvalidAmount

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Funding:
    """How an order was paid, per source, in minor units of the order's currency.

    Attributes:
        loan_minor: paid into escrow by a loan's funder (a financed order).
        channel_minor: charged through ``channel``.
        wallet_minor: taken from the buyer's wallet (also after a cross-border conversion).
        channel: the channel's name, when one took part.
    """

    loan_minor: int = 0
    channel_minor: int = 0
    wallet_minor: int = 0
    channel: str | None = None

    @property
    def total_minor(self) -> int:
        return self.loan_minor + self.channel_minor + self.wallet_minor


@dataclass(frozen=True, slots=True)
class RefundSplit:
    """Where one refund goes, per source (minor units)."""

    loan_minor: int = 0
    channel_minor: int = 0
    wallet_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.loan_minor + self.channel_minor + self.wallet_minor

    def __add__(self, other: RefundSplit) -> RefundSplit:
        return RefundSplit(
            self.loan_minor + other.loan_minor,
            self.channel_minor + other.channel_minor,
            self.wallet_minor + other.wallet_minor,
        )


def split_refund(
    amount_minor: int,
    funding: Funding,
    refunded: RefundSplit,
    loan_outstanding_minor: int = 0,
) -> RefundSplit:
    """Split a refund of ``amount_minor`` over the order's sources, given what each source has
    had back already (``refunded``, counting refunds still under way).

    A financed order's loan takes up to ``loan_outstanding_minor`` (its principal outstanding);
    what is beyond goes to the wallet the buyer repaid from. Otherwise the channel takes up to what
    it charged, and the wallet the rest, never more than it paid."""
    if amount_minor <= 0:
        raise InvalidAmount("refund amount must be positive")
    left = funding.total_minor - refunded.total_minor
    if amount_minor > left:
        raise InvalidAmount(f"at most {max(left, 0)} minor units can still be refunded")
    if funding.loan_minor:
        to_loan = min(amount_minor, max(loan_outstanding_minor, 0))
        return RefundSplit(loan_minor=to_loan, wallet_minor=amount_minor - to_loan)
    to_channel = min(amount_minor, funding.channel_minor - refunded.channel_minor)
    to_wallet = amount_minor - to_channel
    if to_wallet > funding.wallet_minor - refunded.wallet_minor:
        raise InvalidAmount("the refund exceeds what the wallet paid")  # unreachable by the sums
    return RefundSplit(channel_minor=to_channel, wallet_minor=to_wallet)


def commission_back(
    commission_minor: int, released_gross_minor: int, refunded_before_minor: int, amount_minor: int
) -> int:
    """The commission the platform returns for a refund after release, pro rata to the refunded
    share of what was released (merchant's share plus commission). Computed on the running
    total, so a series of partial refunds returns exactly the whole commission — never a minor
    unit more or less."""
    if released_gross_minor <= 0 or commission_minor <= 0:
        return 0
    refunded_after = min(refunded_before_minor + amount_minor, released_gross_minor)
    before = min(refunded_before_minor, released_gross_minor)
    return (commission_minor * refunded_after) // released_gross_minor - (
        commission_minor * before
    ) // released_gross_minor


def draw(amount_minor: int, available: Sequence[tuple[K, int]]) -> list[tuple[K, int]]:
    """Take ``amount_minor`` from sources in order, each up to what it has; ``[]`` when they
    cannot cover it together."""
    taken: list[tuple[K, int]] = []
    left = amount_minor
    for source, has in available:
        if left <= 0:
            break
        part = min(left, max(has, 0))
        if part:
            taken.append((source, part))
            left -= part
    return taken if left <= 0 else []


def pair(
    sources: Sequence[tuple[K, int]], destinations: Sequence[tuple[K, int]]
) -> list[tuple[K, K, int]]:
    """Match what sources pay with what destinations receive (equal totals), in order: one
    (source, destination, amount) per overlap, no minor unit lost or invented."""
    if sum(a for _, a in sources) != sum(a for _, a in destinations):
        raise ValueError("sources and destinations must add up to the same amount")
    moves: list[tuple[K, K, int]] = []
    src = [(k, a) for k, a in sources if a]
    dst = [(k, a) for k, a in destinations if a]
    i = j = 0
    while i < len(src) and j < len(dst):
        (s, s_left), (d, d_left) = src[i], dst[j]
        part = min(s_left, d_left)
        moves.append((s, d, part))
        src[i], dst[j] = (s, s_left - part), (d, d_left - part)
        if src[i][1] == 0:
            i += 1
        if dst[j][1] == 0:
            j += 1
    return moves
