"""How far a core enterprise's credit reached down its supply chain (the seed's claim that
certificates carry it to suppliers who could not borrow on their own), pure: per tier, the
suppliers that received a certificate, the volume they received and what of it was discounted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from embedfin.scf.store import Certificate, Role


@dataclass(frozen=True, slots=True)
class Reach:
    """How far the core enterprises' credit went: distinct holders and volume per tier."""

    tier: int
    holders: int
    volume_minor: int
    discounted_minor: int


def reach(certificates: Iterable[Certificate]) -> list[Reach]:
    """Per tier: the suppliers that ever held a certificate made for them (not a split of one
    they held), the volume so received, and what of it they discounted."""
    holders: dict[int, set[str]] = defaultdict(set)
    volume: Counter[int] = Counter()
    discounted: Counter[int] = Counter()
    every = list(certificates)
    received = {c.certificate_id: c for c in every if c.holder_role is Role.SUPPLIER}
    for c in every:
        parent = received.get(c.parent_id or "")
        if c.holder_role is Role.FUNDER:
            discounted[c.tier] += c.face_minor
        elif parent is None or parent.holder_id != c.holder_id:
            holders[c.tier].add(c.holder_id)
            volume[c.tier] += c.face_minor
    return [Reach(t, len(holders[t]), volume[t], discounted[t]) for t in sorted(holders)]
