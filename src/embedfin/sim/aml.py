"""Sanctions screening in the fraud simulator's marketplace (``sim/fraud.py``).

The operator loads the shipped synthetic list, and every buyer is screened as it signs up.
Among the buyers, a few are listed people (their name, birth date and nationality as listed)
and a few are namesakes (a listed name, another country, no birth date given: a false positive
the screening cannot rule out alone). Each day they try to cash their wallet out. A simulated
compliance officer decides each ``sanctions_hit`` case a day later from the ground truth:
listed people are confirmed (``reject``), namesakes cleared (``release``).

:func:`report` gives what a compliance officer would ask: were all listed people caught, did
any of their money leave, how many honest people were held and for how long.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from embedfin.compliance.aml import watchlist
from embedfin.compliance.aml.screening import Subject
from embedfin.core.errors import ComplianceHold, EmbedfinError
from embedfin.core.money import Money
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.sim.fraud import CURRENCY, DAY_NS, World

#: What ``fraud.build_world`` tops every wallet up with.
SEED_TOP_UP_MINOR = 200_000

#: Listed people as the shipped list has them (name, birth date, country): ground truth.
LISTED = (
    Subject("Boris Karpatovich Zheleznov", "1961-02-03", "RU", "person"),
    Subject("Long Haitao", "1969-11-20", "CN", "person"),
    Subject("Tariq Nabil Al-Mansoori", "1980-07-14", "AE", "person"),
)
#: Namesakes: a listed name, another country, no birth date.
NAMESAKES = (Subject("Boris Zheleznov", None, "DE", "person"),)
_FIRST = ("Anna", "Jonas", "Lea", "Felix", "Mira", "Paul", "Sofia", "Emil", "Clara", "Noah")
_LAST = ("Weber", "Schmidt", "Keller", "Brandt", "Vogel", "Lorenz", "Hahn", "Franke")


@dataclass(slots=True)
class Screened:
    """The ground truth the screening never reads, and what happened."""

    listed: set[str]
    namesakes: set[str]
    held_since: dict[str, int] = field(default_factory=dict)  # buyer → first refused
    cleared_at: dict[str, int] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)  # e.g. "listed:held"
    paid_out_minor: Counter[str] = field(default_factory=Counter)  # by group


def onboard(world: World, seed: int) -> Screened:
    """Load the list, then screen every buyer under its name; some are listed or namesakes."""
    rng = random.Random(seed)  # its own stream: the fraud traffic stays the seed's
    screening = world.services.screening
    screening.load_list(watchlist.read_file(watchlist.SHIPPED), "synthetic", "sim-operator")
    buyers = [b.buyer_id for b in world.buyers]
    chosen = rng.sample(buyers, len(LISTED) + len(NAMESAKES))
    listed = dict(zip(chosen, LISTED, strict=False))
    namesakes = dict(zip(chosen[len(LISTED) :], NAMESAKES, strict=True))
    for buyer in buyers:
        subject = listed.get(buyer) or namesakes.get(buyer)
        if subject is None:
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            born = (
                f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            )
            subject = Subject(name, born, "DE", "person")
        screening.record("buyer", buyer, subject)
    # the card channel pays their seed top-ups into the client reserve (withdrawals draw on it)
    seeded = Money(SEED_TOP_UP_MINOR * len(chosen), CURRENCY)
    services = world.services
    settle_channel(services.ledger, services.tenant, "card", seeded, Money(0, CURRENCY), "aml-seed")
    return Screened(set(listed), set(namesakes))


def _group(truth: Screened, buyer: str) -> str:
    if buyer in truth.listed:
        return "listed"
    return "namesake" if buyer in truth.namesakes else "honest"


def cash_out(world: World, truth: Screened) -> None:
    """Each listed person and namesake tries to withdraw half its wallet."""
    day = world.clock.now_ns() // DAY_NS
    for buyer in sorted(truth.listed | truth.namesakes):
        group = _group(truth, buyer)
        balance = world.services.wallets.balance("buyer", buyer, CURRENCY).available
        amount = balance.amount_minor // 2
        if amount <= 0:
            continue
        try:
            world.services.wallets.withdraw(
                "buyer",
                buyer,
                Money(amount, CURRENCY),
                "tok_sanctioned01",
                "0101",
                world.next_id("aml-wd"),
            )
        except ComplianceHold:
            truth.outcomes[f"{group}:held"] += 1
            truth.held_since.setdefault(buyer, day)
            continue
        except EmbedfinError:
            truth.outcomes[f"{group}:failed"] += 1
            continue
        truth.outcomes[f"{group}:paid"] += 1
        truth.paid_out_minor[group] += amount


def investigate(world: World, truth: Screened) -> None:
    """The compliance officer: every open sanctions case decided from the ground truth."""
    cases = world.services.cases
    day = world.clock.now_ns() // DAY_NS
    for case in cases.queue(status="open", kind="sanctions_hit", limit=1_000):
        buyer = str(case.buyer_id)
        if buyer in truth.listed:
            cases.decide(case.case_id, "reject", "the listed person", actor="sim-compliance")
        else:
            cases.decide(case.case_id, "release", "not the listed person", actor="sim-compliance")
            truth.cleared_at.setdefault(buyer, day)


@dataclass(frozen=True, slots=True)
class ScreeningReport:
    listed: int
    listed_caught: int  # listed people with an open or confirmed hit
    listed_paid_out_minor: int  # must be 0
    namesakes: int
    namesakes_cleared: int
    honest_held: int  # honest buyers (not namesakes) ever held: should be 0
    days_held: dict[str, int]  # namesake → days from the first refusal to clearance
    outcomes: dict[str, int]


def report(world: World, truth: Screened) -> ScreeningReport:
    screening = world.services.screening
    hits = screening.hits(limit=1_000)
    held = {h.party_id for h in hits if h.status in ("open", "confirmed")}
    hit_parties = {h.party_id for h in hits}
    honest = hit_parties - truth.listed - truth.namesakes
    return ScreeningReport(
        len(truth.listed),
        len(truth.listed & held),
        truth.paid_out_minor["listed"],
        len(truth.namesakes),
        len(truth.namesakes & set(truth.cleared_at)),
        len(honest),
        {
            b: truth.cleared_at[b] - truth.held_since.get(b, truth.cleared_at[b])
            for b in sorted(truth.cleared_at)
        },
        dict(truth.outcomes),
    )
