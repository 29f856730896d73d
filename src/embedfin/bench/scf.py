"""``embedfin bench scf``: receivable certificates through the service layer, and their log.

1. **Certificate operations.** A core enterprise that has sold goods, ``suppliers`` suppliers
   and a funded bank on a fresh migrated database. ``certificates`` certificates are issued,
   each split in two, one part passed down a tier, the other discounted with the bank, and all
   settled by the maturity run: every command one committed unit of work through
   ``Certificates`` — the ledger legs, the rows, the log entry and the outbox event together.
   ``certificate_ops_per_s`` counts each issue, split, transfer, discount and settled payable
   as one operation. The baseline in the same run is wallet top-ups (one ledger transfer per
   unit of work): ``certificate_ops_vs_top_ups``.
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


@dataclass(frozen=True, slots=True)
class ScfBench:
    certificates: int
    certificate_ops: int
    certificate_ops_per_s: float
    top_ups_per_s: float
    certificate_ops_vs_top_ups: float
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

    ops, ops_per_s, top_ups_per_s, store = _certificates(certificates, suppliers, db, progress)
    simulated = _simulate(db)
    log = log_bench.run(entries=log_entries, batch=10_000, proofs=2_000, db=db,
                        progress=progress)  # fmt: skip
    return ScfBench(
        certificates=certificates,
        certificate_ops=ops,
        certificate_ops_per_s=round(ops_per_s, 1),
        top_ups_per_s=round(top_ups_per_s, 1),
        certificate_ops_vs_top_ups=round(ops_per_s / top_ups_per_s, 3),
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
) -> tuple[int, float, float, str]:
    from embedfin.bench.scratch import bench_database
    from embedfin.bootstrap import Services
    from embedfin.core.clock import ManualClock
    from embedfin.core.money import Money
    from embedfin.ledger.service import Ledger
    from embedfin.risk.config import RiskSettings
    from embedfin.sim.scf import sell_to_consumers

    face = 100_000
    with bench_database(db, "scfbench") as engine:
        clock = ManualClock(1_767_225_600 * 10**9)
        ledger = Ledger(engine, clock)
        services = _quiet(Services(ledger, risk=RiskSettings(enabled=False))).tenant("bench")
        total = face * count
        wallets = services.wallets
        began = time.perf_counter()
        top_ups = max(count // 2, 100)
        for i in range(top_ups):
            wallets.top_up("saver", Money(1_000, "CNY"), "card", f"top-{i}")
        top_ups_per_s = top_ups / (time.perf_counter() - began)
        sell_to_consumers(services, "core", total * 2)
        services.lending.fund("bank", Money(total, "CNY"), "fund-1")
        scf = services.scf
        scf.register("core", "core", "Core", discount_rate=Decimal("0.036"),
                     overdue_rate=Decimal("0.18"))  # fmt: skip
        names = [f"s-{i}" for i in range(suppliers)]
        for name in names:
            scf.register(name, "supplier", name)
        scf.register("bank", "funder", "Bank")
        matures = scf.today() + timedelta(days=90)
        ops = 0
        began = time.perf_counter()
        with progress("bench scf: certificates", count) as advance:
            for i in range(count):
                holder, down = names[i % suppliers], names[(i + 1) % suppliers]
                first = scf.issue(f"i-{i}", "core", holder, f"INV-{i}", Money(face, "CNY"),
                                  matures)  # fmt: skip
                a, b = scf.split(f"s-{i}", first.certificate_id, holder, [60_000, 40_000])
                scf.transfer(f"t-{i}", a.certificate_id, holder, down)
                scf.discount(f"d-{i}", b.certificate_id, holder, "bank")
                ops += 4
                advance(1)
        issuing = time.perf_counter() - began
        clock.advance(ns=90 * DAY_NS)
        began = time.perf_counter()
        settled = 0
        while run := scf.run_maturities().settled:
            settled += run
        settling = time.perf_counter() - began
        ops += settled
        ledger.close()
        return ops, ops / (issuing + settling), top_ups_per_s, engine.dialect.name
