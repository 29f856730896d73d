"""``embedfin bench scf``: receivable certificates through the service layer, and their log.

1. **Certificate operations.** A core enterprise that has sold goods, ``suppliers`` suppliers
   and a funded bank on a fresh migrated database (one tenant per path). ``certificates``
   certificates are issued, each split in two, one part passed down a tier, the other
   discounted with the bank, and every payable settled at maturity, through
   ``Certificates.batch`` (1,000 items a batch, each item the single command: the ledger legs,
   rows, log entry and outbox event of every item in its batch's one unit of work):
   ``certificate_ops_per_s`` counts each issue, split, transfer, discount and settlement as one
   operation. ``certificate_ops_per_s_single`` is the same life of a fifth as many
   certificates one command per unit of work (the settlements by the maturity run). The
   baseline in the same run is wallet top-ups (one ledger transfer per unit of work):
   ``certificate_ops_vs_top_ups`` and ``certificate_ops_single_vs_top_ups``.
2. **The log.** ``embedfin bench log`` at ``log_entries`` entries on the same store:
   ``log_appends_per_s``, ``proof_ms_p99`` (inclusion), ``consistency_ms_p99``,
   ``verify_ms_p99``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from embedfin.progress import Progress, no_progress

DAY_NS = 86_400 * 10**9
FACE = 100_000
#: Items per ``Certificates.batch`` (the API's cap).
BATCH_ITEMS = 1_000


@dataclass(frozen=True, slots=True)
class ScfBench:
    certificates: int
    certificate_ops: int
    certificate_ops_per_s: float
    top_ups_per_s: float
    certificate_ops_vs_top_ups: float
    certificate_ops_single: int
    certificate_ops_per_s_single: float
    certificate_ops_single_vs_top_ups: float
    log_entries: int
    log_appends_per_s: float
    proof_ms_p99: float
    consistency_ms_p99: float
    verify_ms_p99: float
    store: str
    #: the supply-chain simulator (``sim/scf.py``) per tier, with certificates and without
    tiers_with_certificates: dict[int, dict[str, float]]
    tiers_without: dict[int, dict[str, float]]


def run(
    certificates: int = 1_000,
    suppliers: int = 20,
    log_entries: int = 200_000,
    db: str | None = None,
    progress: Progress = no_progress,
) -> ScfBench:
    from embedfin.bench import log as log_bench

    batched, single, top_ups_per_s, store = _certificates(certificates, suppliers, db, progress)
    simulated = _simulate(db)
    log = log_bench.run(entries=log_entries, batch=10_000, proofs=2_000, db=db,
                        progress=progress)  # fmt: skip
    return ScfBench(
        certificates=certificates,
        certificate_ops=batched.count,
        certificate_ops_per_s=round(batched.per_s, 1),
        top_ups_per_s=round(top_ups_per_s, 1),
        certificate_ops_vs_top_ups=round(batched.per_s / top_ups_per_s, 3),
        certificate_ops_single=single.count,
        certificate_ops_per_s_single=round(single.per_s, 1),
        certificate_ops_single_vs_top_ups=round(single.per_s / top_ups_per_s, 3),
        log_entries=log_entries,
        log_appends_per_s=log.log_appends_per_s,
        proof_ms_p99=log.proof_ms_p99,
        consistency_ms_p99=log.consistency_ms_p99,
        verify_ms_p99=log.verify_ms_p99,
        store=store,
        tiers_with_certificates=simulated.with_certificates.tiers,
        tiers_without=simulated.without.tiers,
    )


def _simulate(db: str | None) -> Any:
    from embedfin.bench.scratch import bench_database
    from embedfin.bootstrap import Services
    from embedfin.core.clock import ManualClock
    from embedfin.ledger.service import Ledger
    from embedfin.risk.config import RiskSettings
    from embedfin.sim import scf as sim

    with bench_database(db, "scfsim") as engine:
        clock = ManualClock(1_767_225_600 * 10**9)
        ledger = Ledger(engine, clock)
        services = _quiet(Services(ledger, risk=RiskSettings(enabled=False))).tenant("sim")
        report = sim.run(services, clock, sim.ScfScenario(days=10))
        ledger.close()
        return report


def _quiet(platform: Any) -> Any:
    """The services with a log key of their own (no key file written)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from embedfin.transparency.service import LogSigner

    platform.wiring = replace(platform.wiring, log_signer=LogSigner(Ed25519PrivateKey.generate()))
    return platform


def _certificates(
    count: int, suppliers: int, db: str | None, progress: Progress
) -> tuple[_Ops, _Ops, float, str]:
    from embedfin.bench.scratch import bench_database
    from embedfin.bootstrap import Services
    from embedfin.core.clock import ManualClock
    from embedfin.ledger.service import Ledger
    from embedfin.risk.config import RiskSettings

    with bench_database(db, "scfbench") as engine:
        clock = ManualClock(1_767_225_600 * 10**9)
        ledger = Ledger(engine, clock)
        platform = _quiet(Services(ledger, risk=RiskSettings(enabled=False)))
        top_ups_per_s = _top_ups(platform.tenant("bench"), max(count // 2, 100))
        single_count = max(count // 5, 10)
        single = platform.tenant("bench-single")
        batched = platform.tenant("bench-batch")
        names = [f"s-{i}" for i in range(suppliers)]
        _chain(single, single_count, names)
        _chain(batched, count, names)
        one_by_one = _one_by_one(single.scf, single_count, names, progress)
        in_batches = _in_batches(batched.scf, count, names, progress)
        clock.advance(ns=90 * DAY_NS)
        one_by_one = one_by_one.plus(_settle_one_by_one(single.scf))
        in_batches = in_batches.plus(_settle_in_batches(batched.scf, count))
        ledger.close()
        return in_batches, one_by_one, top_ups_per_s, engine.dialect.name


@dataclass(frozen=True, slots=True)
class _Ops:
    count: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.count / self.seconds

    def plus(self, other: _Ops) -> _Ops:
        return _Ops(self.count + other.count, self.seconds + other.seconds)


def _top_ups(services: Any, count: int) -> float:
    from embedfin.core.money import Money

    began = time.perf_counter()
    for i in range(count):
        services.wallets.top_up("saver", Money(1_000, "CNY"), "card", f"top-{i}")
    return count / (time.perf_counter() - began)


def _chain(services: Any, count: int, names: list[str]) -> None:
    """A core enterprise that sold enough to pay every certificate, its suppliers and a bank
    funded to discount them."""
    from embedfin.core.money import Money
    from embedfin.sim.scf import sell_to_consumers

    total = FACE * count
    sell_to_consumers(services, "core", total * 2)
    services.lending.fund("bank", Money(total, "CNY"), "fund-1")
    scf = services.scf
    scf.register("core", "core", "Core", discount_rate=Decimal("0.036"),
                 overdue_rate=Decimal("0.18"))  # fmt: skip
    for name in names:
        scf.register(name, "supplier", name)
    scf.register("bank", "funder", "Bank")


def _one_by_one(scf: Any, count: int, names: list[str], progress: Progress) -> _Ops:
    from embedfin.core.money import Money

    matures = scf.today() + timedelta(days=90)
    suppliers = len(names)
    began = time.perf_counter()
    with progress("bench scf: certificates one by one", count) as advance:
        for i in range(count):
            holder, down = names[i % suppliers], names[(i + 1) % suppliers]
            first = scf.issue(f"i-{i}", "core", holder, f"INV-{i}", Money(FACE, "CNY"),
                              matures)  # fmt: skip
            a, b = scf.split(f"s-{i}", first.certificate_id, holder, [60_000, 40_000])
            scf.transfer(f"t-{i}", a.certificate_id, holder, down)
            scf.discount(f"d-{i}", b.certificate_id, holder, "bank")
            advance(1)
    return _Ops(4 * count, time.perf_counter() - began)


def _in_batches(scf: Any, count: int, names: list[str], progress: Progress) -> _Ops:
    """The same four commands per certificate, :data:`BATCH_ITEMS` items to a batch, each
    item naming the certificates earlier ones make by reference."""
    from embedfin.core.money import Money
    from embedfin.scf.batch import DiscountItem, IssueItem, SplitItem, TransferItem

    matures = scf.today() + timedelta(days=90)
    suppliers = len(names)
    items: list[Any] = []
    for i in range(count):
        holder, down = names[i % suppliers], names[(i + 1) % suppliers]
        items += [
            IssueItem(f"i-{i}", "core", holder, f"INV-{i}", Money(FACE, "CNY"), matures),
            SplitItem(f"s-{i}", f"@i-{i}/0", holder, [60_000, 40_000]),
            TransferItem(f"t-{i}", f"@s-{i}/0", holder, down),
            DiscountItem(f"d-{i}", f"@s-{i}/1", holder, "bank"),
        ]
    began = time.perf_counter()
    with progress("bench scf: certificates in batches", len(items)) as advance:
        for at in range(0, len(items), BATCH_ITEMS):
            done = scf.batch(items[at : at + BATCH_ITEMS])
            advance(len(done))
    return _Ops(len(items), time.perf_counter() - began)


def _settle_one_by_one(scf: Any) -> _Ops:
    began = time.perf_counter()
    settled = 0
    while run := scf.run_maturities().settled:
        settled += run
    return _Ops(settled, time.perf_counter() - began)


def _settle_in_batches(scf: Any, count: int) -> _Ops:
    from embedfin.scf.batch import SettleItem

    items = [SettleItem(f"m-{i}", f"@i-{i}") for i in range(count)]
    began = time.perf_counter()
    for at in range(0, len(items), BATCH_ITEMS):
        scf.batch(items[at : at + BATCH_ITEMS])
    return _Ops(len(items), time.perf_counter() - began)
