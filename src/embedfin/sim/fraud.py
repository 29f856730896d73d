"""Fraud in the simulator: honest buyers and fraudsters, with ground truth the detector never reads.

A month of traffic on one tenant, driven through the real services (``TenantServices``): every
attempt is a real risk check, payment, hold, case or refusal. Honest buyers shop from their own
one or two devices, ship to their own address, pay by wallet, card or BNPL, and now and then buy
from a new phone or spend more than usual. Fraudsters follow the issue's patterns:

================  ===========================================================================
pattern           what it does
================  ===========================================================================
card_testing      one device tries many stolen card numbers with small orders
stolen_card       a fresh account pays large orders with a stolen card from a new device
account_takeover  takes over an honest buyer's wallet: new device, then withdraws the balance
multi_accounting  one device opens account after account to use a new-buyer promotion
credit_cash_out   mule accounts on one device buy on BNPL limits at a colluding merchant
friendly_fraud    an ordinary-looking buyer receives the goods and then charges back
merchant_         a colluding merchant's own few accounts place fake orders on its back-office
collusion         device, confirmed at once (brushing: fake sales and ratings)
refund_abuse      a serial refunder's goods are shipped, then the money is claimed back
                  ("never arrived"), again and again: the goods kept, the money refunded
================  ===========================================================================

Honest buyers ask for a refund now and then too (a damaged parcel): the refunds signal
(``buyer_refunds_7d``, from the ``risk-refund-signals`` outbox consumer the day's worker pass
runs) has to tell a habit from an accident.

Merchants settle T+1. Every day the merchants are scored (``risk/merchants.py``) and the T+1
batch runs, so a merchant the scores put in a reserve tier has its settlements held back.

Each attempt is recorded with its ground-truth label in the simulator's own list (the detector
reads nothing of it) and its outcome: ``paid``, ``held`` (a review: the money waits in escrow
or the withdrawal waits), ``challenged`` (step-up asked: an honest buyer passes, a fraudster
with a stolen card cannot), ``blocked`` or ``declined`` (the card network said no). Cases are
decided by a simulated investigator a day later from the ground truth, as a person looking at
the evidence would; their outcomes become labels, and so do chargebacks.

:func:`report` turns the attempts into the issue's figures: fraud losses in basis points of
GMV, the share of fraud value stopped, and the share of honest payments challenged or blocked.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from embedfin.bootstrap import TenantServices, risk_consumers
from embedfin.commerce.orders import Order, OrderLine
from embedfin.consumers.runner import Runner
from embedfin.core.clock import NS_PER_SECOND, ManualClock
from embedfin.core.errors import (
    ChallengeRequired,
    EmbedfinError,
    HeldForReview,
    PaymentDeclined,
    RiskRefused,
)
from embedfin.core.money import Money
from embedfin.payments.channels.processors import (
    ChannelKind,
    ChannelResponse,
    FeeSchedule,
    Outcome,
    SimulatedProcessor,
)
from embedfin.payments.payouts import reserves
from embedfin.risk.decision import RiskContext

HOUR_NS = 3_600 * NS_PER_SECOND
DAY_NS = 24 * HOUR_NS
CURRENCY = "EUR"
PATTERNS = (
    "card_testing",
    "stolen_card",
    "account_takeover",
    "multi_accounting",
    "credit_cash_out",
    "friendly_fraud",
    "merchant_collusion",
    "refund_abuse",
)
#: Share of honest paid orders refunded (a damaged parcel, a wrong size).
HONEST_REFUND_SHARE = 0.02
#: The serial refunders' accounts (ground truth; the detector never reads it).
REFUNDERS = ("refunder-0", "refunder-1")
#: The merchants in on the fraud (ground truth; the scores never read it).
COLLUDERS = ("ring-a", "ring-b")


class SimAcquirer(SimulatedProcessor):
    """The card network of the simulation: it declines card numbers it knows to be dead (what
    card testers probe for) and approves the rest."""

    def __init__(self, dead: set[str]) -> None:
        super().__init__(
            "card-acquirer",
            ChannelKind.CARD,
            [CURRENCY],
            FeeSchedule(150),
            latency_ms=0,
            approval_rate=1.0,
            timeout_rate=0.0,
        )
        self.dead = dead

    def charge(self, idempotency_key: str, amount: Money, payer_ref: str) -> ChannelResponse:
        if payer_ref in self.dead:
            self.requests += 1
            return ChannelResponse(Outcome.DECLINED, decline_code="do_not_honor", retriable=False)
        return super().charge(idempotency_key, amount, payer_ref)


@dataclass(slots=True)
class Attempt:
    """One money-moving attempt as the simulator saw it (ground truth included)."""

    day: int
    kind: str  # checkout, withdrawal, payout
    pattern: str  # "good" or one of PATTERNS
    amount_minor: int
    outcome: str = "paid"  # paid, held, challenged, blocked, declined, failed
    reference: str = ""

    @property
    def fraud(self) -> bool:
        return self.pattern != "good"


@dataclass(slots=True)
class Buyer:
    buyer_id: str
    devices: list[str]
    ip: str
    address: str
    card: str
    typical_minor: int
    daily_rate: float


@dataclass(slots=True)
class World:
    """What the simulator knows and the detector does not."""

    rng: random.Random
    services: TenantServices
    clock: ManualClock
    acquirer: SimAcquirer
    buyers: list[Buyer]
    merchants: list[str]
    attempts: list[Attempt] = field(default_factory=list)
    truth: dict[str, str] = field(default_factory=dict)  # order or reference → pattern
    failures: Counter[str] = field(default_factory=Counter)
    seq: int = 0
    #: risk's outbox consumers (labels, the case feed, refunds into the signals): the worker
    outbox: Runner | None = None

    def next_id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}-{self.seq}"


def _context(device: str, ip: str, address: str | None = None) -> RiskContext:
    return RiskContext(device_id=device, ip=ip, shipping_address=address)


def _ip(rng: random.Random) -> str:
    return f"198.51.{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"


def build_world(services: TenantServices, clock: ManualClock, seed: int, buyers: int) -> World:
    rng = random.Random(seed)
    acquirer = SimAcquirer(set())
    merchants = [f"shop-{n}" for n in range(8)]
    for merchant in [*merchants, "ring-a", "ring-b"]:
        services.checkout.register_merchant(
            merchant,
            category="electronics",
            country="DE",
            settlement_currency=CURRENCY,
            payout_preference="t1",
        )
    people = []
    for n in range(buyers):
        devices = [f"dev-{seed}-{n}-a"] + ([f"dev-{seed}-{n}-b"] if rng.random() < 0.4 else [])
        people.append(
            Buyer(
                f"buyer-{n}",
                devices,
                _ip(rng),
                f"{n} Lindenstrasse, Berlin",
                f"card-{seed}-{n}",
                int(math.exp(rng.gauss(math.log(4_000), 0.6))),
                rng.uniform(0.05, 0.5),
            )
        )
    world = World(rng, services, clock, acquirer, people, merchants)
    world.outbox = Runner(services.ledger, risk_consumers(services.ledger, services.wiring.risk))
    services.lending.fund("platform", Money(500_000_000, CURRENCY), f"fund-{seed}")
    for account in [buyer.buyer_id for buyer in people] + list(REFUNDERS):
        services.wallets.top_up(account, Money(200_000, CURRENCY), "card", f"seed-{account}")
    return world


def _pay(
    world: World,
    pattern: str,
    buyer: str,
    merchant: str,
    amount: int,
    method: str,
    context: RiskContext | None,
    card: str = "",
    honest_phone: bool = False,
) -> Attempt:
    """Place and pay one order; the attempt with its outcome (a challenge is answered as the
    buyer could: an honest buyer has the phone, a fraudster does not)."""
    services = world.services
    order_id = world.next_id("ord")
    services.checkout.place_order(
        order_id,
        buyer_id=buyer,
        merchant_id=merchant,
        currency_code=CURRENCY,
        lines=[OrderLine("item", 1, amount)],
    )
    attempt = Attempt(
        world.clock.now_ns() // DAY_NS, "checkout", pattern, amount, reference=order_id
    )
    world.truth[order_id] = pattern
    world.attempts.append(attempt)
    try:
        order = _charge(services, order_id, method, context, card, world.next_id("pay"))
    except ChallengeRequired as asked:
        attempt.outcome = "challenged"
        if not honest_phone:
            return attempt
        code = services.risk.sandbox_code(asked.challenge_id)
        services.risk.answer_challenge(asked.challenge_id, code)
        try:
            order = _charge(services, order_id, method, context, card, world.next_id("pay"))
        except EmbedfinError:
            return attempt
    except RiskRefused:
        attempt.outcome = "blocked"
        return attempt
    except PaymentDeclined:
        attempt.outcome = "declined"
        return attempt
    except EmbedfinError as error:
        attempt.outcome = "failed"
        world.failures[type(error).__name__ + ": " + str(error)[:80]] += 1
        return attempt
    if order.risk_hold:
        attempt.outcome = "held" if attempt.outcome == "paid" else attempt.outcome
    return attempt


def _charge(
    services: TenantServices,
    order_id: str,
    method: str,
    context: RiskContext | None,
    card: str,
    request_id: str,
) -> Order:
    if method == "card":
        paid = services.channel_payments.pay_order(
            order_id, request_id, ChannelKind.CARD, payer_ref=card, context=context
        )
        return paid.order
    if method == "bnpl":
        services.lending.finance_order(
            order_id, "pay_in_4", "platform", f"loan-{request_id}", context=context
        )
        return services.checkout.get_order(order_id)
    return services.checkout.pay_with_wallet(order_id, context)


# --- the day's agents -----------------------------------------------------------------------
def honest_day(world: World) -> None:
    rng = world.rng
    for buyer in world.buyers:
        if rng.random() >= buyer.daily_rate:
            continue
        device = rng.choice(buyer.devices)
        if rng.random() < 0.01:  # a new phone
            device = world.next_id("newphone")
            buyer.devices.append(device)
        amount = max(100, int(buyer.typical_minor * math.exp(rng.gauss(0, 0.5))))
        method = rng.choices(["wallet", "card", "bnpl"], [0.5, 0.4, 0.1])[0]
        attempt = _pay(
            world,
            "good",
            buyer.buyer_id,
            rng.choice(world.merchants),
            amount,
            method,
            _context(device, buyer.ip, buyer.address),
            buyer.card,
            honest_phone=True,
        )
        if attempt.outcome == "paid" and rng.random() < HONEST_REFUND_SHARE:
            world.services.checkout.ship(attempt.reference, "TRK")
            world.services.refunds.refund(
                attempt.reference, Money(amount, CURRENCY), world.next_id("damaged")
            )


def card_testing(world: World) -> None:
    rng = world.rng
    device, ip = world.next_id("tester"), _ip(rng)
    account = world.next_id("tester-acct")
    for _ in range(rng.randrange(6, 15)):
        card = world.next_id("probe-card")
        if rng.random() < 0.8:
            world.acquirer.dead.add(card)
        _pay(
            world,
            "card_testing",
            account,
            rng.choice(world.merchants),
            rng.randrange(100, 300),
            "card",
            _context(device, ip),
            card,
        )
        world.clock.advance(ns=60 * NS_PER_SECOND)


def stolen_card(world: World) -> None:
    rng = world.rng
    account, device, ip = world.next_id("thief"), world.next_id("thief-dev"), _ip(rng)
    card = world.next_id("stolen-card")
    address = f"{rng.randrange(1, 99)} Drop Street, Hamburg"
    for _ in range(rng.randrange(1, 4)):
        _pay(
            world,
            "stolen_card",
            account,
            rng.choice(world.merchants),
            rng.randrange(30_000, 120_000),
            "card",
            _context(device, ip, address),
            card,
        )
        world.clock.advance(ns=300 * NS_PER_SECOND)


def account_takeover(world: World) -> None:
    rng = world.rng
    victim = rng.choice(world.buyers)
    device, ip = world.next_id("ato-dev"), _ip(rng)
    balance = world.services.wallets.balance("buyer", victim.buyer_id, CURRENCY).available
    amount = balance.amount_minor
    if amount <= 0:
        return
    attempt = Attempt(world.clock.now_ns() // DAY_NS, "withdrawal", "account_takeover", amount)
    world.attempts.append(attempt)
    request = world.next_id("ato-wd")
    attempt.reference = request
    world.truth[request] = "account_takeover"
    try:
        world.services.wallets.withdraw(
            "buyer",
            victim.buyer_id,
            balance,
            "tok_dropaccount01",
            "0101",
            request,
            _context(device, ip),
        )
    except HeldForReview:
        attempt.outcome = "held"
    except RiskRefused:
        attempt.outcome = "blocked"
    except EmbedfinError:
        attempt.outcome = "failed"


def multi_accounting(world: World) -> None:
    rng = world.rng
    device, ip = world.next_id("farm"), _ip(rng)
    for _ in range(rng.randrange(4, 9)):
        account = world.next_id("promo-acct")
        world.services.wallets.top_up(
            account, Money(5_000, CURRENCY), "card", world.next_id("promo")
        )
        _pay(
            world,
            "multi_accounting",
            account,
            rng.choice(world.merchants),
            4_000,
            "wallet",
            _context(device, ip),
        )


def credit_cash_out(world: World) -> None:
    rng = world.rng
    device, ip = world.next_id("mule-dev"), _ip(rng)
    for _ in range(rng.randrange(3, 6)):
        account = world.next_id("mule")
        world.services.wallets.top_up(account, Money(20_000, CURRENCY), "card", account)
        _pay(
            world,
            "credit_cash_out",
            account,
            "ring-a",
            rng.randrange(20_000, 60_000),
            "bnpl",
            _context(device, ip),
        )


def friendly_fraud(world: World) -> None:
    rng = world.rng
    buyer = rng.choice(world.buyers)
    amount = max(100, int(buyer.typical_minor * 1.5))
    attempt = _pay(
        world,
        "friendly_fraud",
        buyer.buyer_id,
        rng.choice(world.merchants),
        amount,
        "card",
        _context(buyer.devices[0], buyer.ip, buyer.address),
        buyer.card,
        honest_phone=True,
    )
    if attempt.outcome == "paid":
        services = world.services
        services.checkout.ship(attempt.reference, "TRK")
        services.checkout.confirm_receipt(attempt.reference)
        services.refunds.chargeback(attempt.reference, Money(amount, CURRENCY), world.next_id("cb"))


def merchant_collusion(world: World) -> None:
    rng = world.rng
    for _ in range(rng.randrange(4, 9)):
        account = f"ring-b-acct-{rng.randrange(3)}"  # the merchant's own three accounts
        world.services.wallets.top_up(
            account, Money(30_000, CURRENCY), "card", world.next_id(account)
        )
        attempt = _pay(
            world,
            "merchant_collusion",
            account,
            "ring-b",
            rng.randrange(2_000, 8_000),
            "wallet",
            _context("ring-b-back-office", "198.51.100.200", "ring-b warehouse"),
        )
        if attempt.outcome == "paid":  # a fake order "arrives" at once
            world.services.checkout.ship(attempt.reference, "FAKE")
            world.services.checkout.confirm_receipt(attempt.reference)


def refund_abuse(world: World) -> None:
    rng = world.rng
    for _ in range(rng.randrange(1, 3)):
        n = rng.randrange(len(REFUNDERS))
        amount = rng.randrange(3_000, 12_000)
        attempt = _pay(
            world,
            "refund_abuse",
            REFUNDERS[n],
            rng.choice(world.merchants),
            amount,
            rng.choice(["wallet", "card"]),
            _context(f"refunder-dev-{n}", f"203.0.113.{10 + n}", f"{n} Kanalweg, Bremen"),
            f"refunder-card-{n}",
            honest_phone=True,  # the account is the refunder's own: a challenge is passed
        )
        if attempt.outcome == "paid":  # shipped, then "it never arrived": the money back
            world.services.checkout.ship(attempt.reference, "TRK")
            world.services.refunds.refund(
                attempt.reference, Money(amount, CURRENCY), world.next_id("not-arrived")
            )


AGENTS: dict[str, tuple[float, Callable[[World], None]]] = {
    "card_testing": (0.4, card_testing),
    "stolen_card": (1.0, stolen_card),
    "account_takeover": (0.3, account_takeover),
    "multi_accounting": (0.3, multi_accounting),
    "credit_cash_out": (0.2, credit_cash_out),
    "friendly_fraud": (0.3, friendly_fraud),
    "merchant_collusion": (0.5, merchant_collusion),
    "refund_abuse": (0.9, refund_abuse),
}


def investigate(world: World) -> None:
    """The simulated investigator: every open case, decided from the ground truth."""
    cases = world.services.cases
    for case in cases.queue(status="open", limit=1_000):
        if case.decision_id is None and case.kind != "merchant_review":
            continue  # disputes and returns are the after-sales desk's
        if case.kind == "merchant_review":  # a person looks into the merchant itself
            colluding = case.merchant_id in COLLUDERS
            outcome = "reject" if colluding else "release"
            note = "investigated: " + ("colluding merchant" if colluding else "honest merchant")
            cases.decide(case.case_id, outcome, note, actor="sim-investigator")
            continue
        decision = world.services.risk.decision(str(case.decision_id))
        pattern = world.truth.get(decision.reference, "good")
        if case.order_id is not None:
            outcome = "release" if pattern == "good" else "refund"
        else:
            outcome = "release" if pattern == "good" else "reject"
        cases.decide(case.case_id, outcome, f"investigated: {pattern}", actor="sim-investigator")


def run(world: World, days: int, fraud_share: float = 1.0) -> None:
    """``days`` of traffic; each pattern strikes on a day with its daily rate × ``fraud_share``."""
    for _ in range(days):
        world.clock.advance(ns=9 * HOUR_NS)
        honest_day(world)
        for rate, agent in AGENTS.values():
            if world.rng.random() < rate * fraud_share:
                agent(world)
        if world.outbox is not None:
            world.outbox.run_all()  # the worker's pass: labels, cases, refunds into the signals
        world.clock.advance(ns=6 * HOUR_NS)
        investigate(world)
        world.clock.advance(ns=9 * HOUR_NS)
        settle_day(world)


def settle_day(world: World) -> None:
    """The night's work: merchants scored, then the T+1 batch (with its rolling reserves)."""
    now = world.clock.now_ns()
    world.services.merchant_risk.score_all(now)
    world.services.settlement.run_t1(f"t1-{now // DAY_NS}", now - NS_PER_SECOND)


@dataclass(frozen=True, slots=True)
class FraudReport:
    gmv_minor: int
    fraud_value_minor: int
    fraud_stopped_minor: int
    fraud_loss_minor: int
    good_payments: int
    good_friction: int
    by_pattern: dict[str, dict[str, int]]

    @property
    def loss_bp(self) -> float:
        return 10_000 * self.fraud_loss_minor / self.gmv_minor if self.gmv_minor else 0.0

    @property
    def value_caught(self) -> float:
        return self.fraud_stopped_minor / self.fraud_value_minor if self.fraud_value_minor else 1.0

    @property
    def friction_rate(self) -> float:
        return self.good_friction / self.good_payments if self.good_payments else 0.0


STOPPED = ("held", "challenged", "blocked")


@dataclass(frozen=True, slots=True)
class MerchantReport:
    """Merchant risk at the end of a run: the ranking, and how it treated the colluders."""

    ranking: list[tuple[str, int, str]]  # merchant, score, tier; riskiest first
    colluders_high: int  # colluding merchants in the high tier
    honest_flagged: int  # honest merchants in the medium or high tier
    reserve_held_minor: dict[str, int]  # what rolling reserves held back, by merchant


def merchant_report(world: World) -> MerchantReport:
    ranking = world.services.merchant_risk.ranking()
    with world.services.ledger.current() as conn:
        holds = reserves.list_holds(conn, world.services.tenant, limit=100_000)
    held: dict[str, int] = defaultdict(int)
    for hold in holds:
        held[hold.merchant_id] += hold.amount_minor
    return MerchantReport(
        [(m.merchant_id, m.score, m.tier) for m in ranking],
        sum(m.merchant_id in COLLUDERS and m.tier == "high" for m in ranking),
        sum(m.merchant_id not in COLLUDERS and m.tier != "low" for m in ranking),
        dict(held),
    )


def report(attempts: list[Attempt]) -> FraudReport:
    """The figures of one run. GMV counts every paid attempt; a fraud attempt is stopped when
    it was held, blocked or challenged (a fraudster cannot answer a challenge), and a loss when
    it went through; a card declined by the network is neither (the network stopped it)."""
    by_pattern: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    gmv = value = stopped = loss = good = friction = 0
    for a in attempts:
        by_pattern[a.pattern][a.outcome] += 1
        if a.outcome == "paid" and a.kind == "checkout":
            gmv += a.amount_minor
        if a.fraud and a.outcome not in ("declined", "failed"):
            value += a.amount_minor
            if a.outcome in STOPPED:
                stopped += a.amount_minor
            else:
                loss += a.amount_minor
        elif not a.fraud and a.kind == "checkout":
            good += 1
            friction += a.outcome in ("challenged", "blocked")
    return FraudReport(
        gmv,
        value,
        stopped,
        loss,
        good,
        friction,
        {p: dict(outcomes) for p, outcomes in by_pattern.items()},
    )
