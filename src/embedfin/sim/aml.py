"""Sanctions screening and transaction monitoring in the fraud simulator's marketplace
(``sim/fraud.py``).

The operator loads the shipped synthetic list, and every buyer is screened as it signs up.
Among the buyers, a few are listed people (their name, birth date and nationality as listed)
and a few are namesakes (a listed name, another country, no birth date given: a false positive
the screening cannot rule out alone). Each day they try to cash their wallet out. A simulated
compliance officer decides each ``sanctions_hit`` case a day later from the ground truth:
listed people are confirmed (``reject``), namesakes cleared (``release``).

:func:`report` gives what a compliance officer would ask: were all listed people caught, did
any of their money leave, how many honest people were held and for how long.

Laundering (:func:`set_up_laundering`, :func:`launder`): a ring of money mules collects into a
shell shop — each mule tops up by card and pays the shop a like amount within hours, the fake
orders "arrive" at once, and the shop is paid out at T+1 — and a structurer tops up three times
a day just below 10,000 and withdraws. :func:`monitor` is the analyst's day: the journal caught
up (consumer ``aml-monitor``), every typology run, each alert decided from the ground truth the
detectors never read (an alert naming a ring account is confirmed and its suspicious report
filed; any other is a false positive), and every large-value report due filed.
:func:`monitoring_report` says which launderers were caught and what the honest cost.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from embedfin.compliance.aml import watchlist
from embedfin.compliance.aml.screening import Subject
from embedfin.core.errors import ComplianceHold, EmbedfinError
from embedfin.core.money import Money
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.sim.fraud import CURRENCY, DAY_NS, HOUR_NS, World, _pay

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


# --- laundering and the monitor ---------------------------------------------------------------
SHELL = "shell-1"
MULES = tuple(f"mule-{n}" for n in range(10))
STRUCTURER = "mule-s"
#: just below the structuring line (10,000.00, ``AmlParams.structuring_threshold``)
STRUCTURED_MINOR = (960_000, 945_000, 990_000)


@dataclass(slots=True)
class Monitored:
    """Who launders (ground truth), and what the analyst decided."""

    ring: frozenset[str] = frozenset(
        {f"buyer:{m}" for m in (*MULES, STRUCTURER)} | {f"merchant:{SHELL}"}
    )
    confirmed: Counter[str] = field(default_factory=Counter)  # typology → alerts confirmed
    false_alerts: Counter[str] = field(default_factory=Counter)  # typology → released
    caught: set[str] = field(default_factory=set)  # ring accounts in a confirmed alert
    reports_filed: Counter[str] = field(default_factory=Counter)  # kind → filed
    laundered_minor: int = 0


def set_up_laundering(world: World) -> Monitored:
    world.services.checkout.register_merchant(
        SHELL, category="electronics", country="DE", settlement_currency=CURRENCY,
        payout_preference="t1",
    )  # fmt: skip
    return Monitored()


def launder(world: World, truth: Monitored) -> None:
    """One day: the mules collect into the shell shop; the structurer tops up and withdraws."""
    services, rng = world.services, world.rng
    for mule in MULES:
        amount = rng.randrange(60_000, 90_000)
        services.wallets.top_up(mule, Money(amount, CURRENCY), "card", world.next_id(mule))
        attempt = _pay(world, "laundering", mule, SHELL, amount - rng.randrange(0, 500),
                       "wallet", None)  # fmt: skip
        if attempt.outcome == "paid":
            services.checkout.ship(attempt.reference, "NONE")
            services.checkout.confirm_receipt(attempt.reference)
            truth.laundered_minor += attempt.amount_minor
        world.clock.advance(ns=HOUR_NS // 6)
    for amount in STRUCTURED_MINOR:
        services.wallets.top_up(STRUCTURER, Money(amount, CURRENCY), "card",
                                world.next_id(STRUCTURER))  # fmt: skip
        world.clock.advance(ns=HOUR_NS)
    settle_channel(services.ledger, services.tenant, "card", Money(sum(STRUCTURED_MINOR),
                   CURRENCY), Money(0, CURRENCY), world.next_id("mule-settle"))  # fmt: skip
    with contextlib.suppress(EmbedfinError):  # held or refused: the money stays
        services.wallets.withdraw("buyer", STRUCTURER, Money(400_000, CURRENCY),
                                  "tok_structurer1", "0202", world.next_id("mule-wd"))  # fmt: skip


def monitor(world: World, truth: Monitored, days: int = 30) -> None:
    """The analyst's day: journal, typologies, decisions from the truth, reports filed."""
    from embedfin.bootstrap import build_consumers
    from embedfin.consumers import Runner

    services = world.services
    stream = [c for c in build_consumers(services.ledger, services.wiring.risk)
              if c.name == "aml-monitor"]  # fmt: skip
    Runner(services.ledger, stream).run_all()
    services.monitoring.scan(days=days, actor="sim-analyst")
    for case in services.cases.queue(status="open", kind="aml_alert", limit=1_000):
        alert = services.monitoring.case_alert(case.case_id)
        if alert is None:
            continue
        ring = set(alert.accounts) & truth.ring
        if ring:
            services.cases.decide(case.case_id, "reject", "the ring", actor="sim-analyst")
            truth.confirmed[alert.typology] += 1
            truth.caught |= ring
        else:
            services.cases.decide(case.case_id, "release", "explained", actor="sim-analyst")
            truth.false_alerts[alert.typology] += 1
    for due in services.reports.list(status="due", limit=1_000):
        services.reports.file(due.report_id, f"{due.kind}: {due.reasons[0]}", "sim-analyst")
        truth.reports_filed[due.kind] += 1


@dataclass(frozen=True, slots=True)
class MonitoringReport:
    ring_accounts: int
    ring_caught: int
    shell_caught: bool
    structurer_caught: bool
    confirmed: dict[str, int]
    false_alerts: dict[str, int]
    reports_filed: dict[str, int]
    laundered_minor: int

    @property
    def alert_precision(self) -> float:
        true, false = sum(self.confirmed.values()), sum(self.false_alerts.values())
        return true / (true + false) if true + false else 0.0


def monitoring_report(truth: Monitored) -> MonitoringReport:
    return MonitoringReport(
        len(truth.ring),
        len(truth.caught),
        f"merchant:{SHELL}" in truth.caught,
        f"buyer:{STRUCTURER}" in truth.caught,
        dict(truth.confirmed),
        dict(truth.false_alerts),
        dict(truth.reports_filed),
        truth.laundered_minor,
    )


# --- verification levels ----------------------------------------------------------------------
#: What share of buyers verified to each PRC account class (channels checked: 1, 3, 5).
CLASS_MIX = (("I", 0.5, 1), ("II", 0.35, 3), ("III", 0.15, 5))
_CHANNELS = ("bank_card", "mobile_carrier", "national_id_database", "social_insurance",
             "tax_records")  # fmt: skip


def verify_buyers(world: World, seed: int) -> dict[str, str]:
    """The PRC account classes on (PBoC Announcement [2015] No. 43): every buyer verified
    through 1, 3 or 5 channels; buyer → its class."""
    from embedfin.compliance.aml import diligence

    rng = random.Random(seed)
    services = world.services
    services.verification.set_pack(diligence.load("prc"), "sim-operator")
    classes = {}
    for buyer in world.buyers:
        (level, _, channels), *_ = rng.choices(CLASS_MIX, [share for _, share, _ in CLASS_MIX])
        services.verification.verify(buyer.buyer_id, list(_CHANNELS[:channels]), False, "sim")
        classes[buyer.buyer_id] = level
    return classes


@dataclass(frozen=True, slots=True)
class DiligenceReport:
    buyers: dict[str, int]  # class → buyers
    refused_payments: int  # wallet payments and withdrawals refused by a class's limit
    mostly_used: dict[str, int]  # class → buyers with less than a quarter of their limit left
    spent: dict[str, str]  # class → balance payments counted, in the pack's currency


def diligence_report(world: World, classes: dict[str, str]) -> DiligenceReport:
    verification = world.services.verification
    buyers: Counter[str] = Counter(classes.values())
    mostly_used: Counter[str] = Counter()
    spent: dict[str, Decimal] = {}
    for buyer, level in classes.items():
        standing = verification.standing(buyer)
        spent[level] = spent.get(level, Decimal(0)) + standing.spent
        limit = standing.level.limit if standing.level else None
        if limit and standing.remaining is not None and standing.remaining < limit / 4:
            mostly_used[level] += 1
    refused = sum(n for key, n in world.failures.items() if key.startswith("VerificationLimit"))
    return DiligenceReport(
        dict(buyers),
        refused,
        dict(mostly_used),
        {k: f"{v:,.2f}" for k, v in sorted(spent.items())},
    )
