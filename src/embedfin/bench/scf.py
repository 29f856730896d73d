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


def run(
    certificates: int = 1_000,
    suppliers: int = 20,
    log_entries: int = 200_000,
    db: str | None = None,
    progress: Progress = no_progress,
) -> ScfBench:
    from embedfin.bench import log as log_bench

    ops, ops_per_s, top_ups_per_s, store = _certificates(certificates, suppliers, db, progress)
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
    )


def _certificates(
    count: int, suppliers: int, db: str | None, progress: Progress
) -> tuple[int, float, float, str]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from embedfin.bench.scratch import bench_database
    from embedfin.bootstrap import Services
    from embedfin.commerce.orders import OrderLine
    from embedfin.core.clock import ManualClock
    from embedfin.core.money import Money
    from embedfin.ledger.service import Ledger
    from embedfin.risk.config import RiskSettings
    from embedfin.transparency.service import LogSigner

    face = 100_000
    with bench_database(db, "scfbench") as engine:
        clock = ManualClock(1_767_225_600 * 10**9)
        ledger = Ledger(engine, clock)
        platform = Services(ledger, risk=RiskSettings(enabled=False))
        signer = LogSigner(Ed25519PrivateKey.generate())  # no key file written
        platform.wiring = replace(platform.wiring, log_signer=signer)
        services = platform.tenant("bench")
        total = face * count
        services.checkout.register_merchant(
            "core", category="books", country="CN", settlement_currency="CNY",
            payout_preference="t0",
        )  # fmt: skip
        wallets = services.wallets
        began = time.perf_counter()
        top_ups = max(count // 2, 100)
        for i in range(top_ups):
            wallets.top_up("buyer", Money(total * 2 // top_ups + 1, "CNY"), "card", f"top-{i}")
        top_ups_per_s = top_ups / (time.perf_counter() - began)
        shop = services.checkout
        shop.place_order("o-1", buyer_id="buyer", merchant_id="core", currency_code="CNY",
                         lines=[OrderLine("goods", 1, total * 2)])  # fmt: skip
        shop.pay_with_wallet("o-1")
        shop.ship("o-1", "T-1")
        shop.confirm_receipt("o-1")
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
