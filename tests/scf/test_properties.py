"""Hypothesis over random runs of splits, transfers and discounts of one payable: at every step
the live certificates sum exactly to the payable, each live one holds its face on the ledger,
``embedfin check`` holds; at maturity every holder is paid exactly what it holds, and the
core enterprise pays exactly the face."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from embedfin.bootstrap import check_all
from embedfin.core.clock import ManualClock
from embedfin.core.errors import EmbedfinError
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.scf.store import CertificateStatus, Role
from tests.conftest import fresh_sqlite
from tests.scf.conftest import BANK, CORE, S1, S2, S3, Chain, available, cny, make_chain

FACE = 1_000_003
SUPPLIERS = (S1, S2, S3)
_RUN = itertools.count()

step = st.one_of(
    st.tuples(st.just("split"), st.integers(0, 50), st.lists(st.integers(1, 10**6), min_size=2,
                                                           max_size=5)),
    st.tuples(st.just("transfer"), st.integers(0, 50), st.sampled_from(SUPPLIERS),
              st.none() | st.integers(-5, FACE + 5)),
    st.tuples(st.just("discount"), st.integers(0, 50), st.none() | st.integers(1, FACE)),
)  # fmt: skip


def _live(chain: Chain, payable_id: str) -> list:  # type: ignore[type-arg]
    return chain.scf.certificates(payable_id=payable_id, status=CertificateStatus.LIVE)


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_live_certificates_always_sum_to_the_payable_and_settle_exactly(
    sqlite_template: Path, tmp_path: Path, steps: list[tuple[object, ...]]
) -> None:
    clock = ManualClock()
    url = fresh_sqlite(sqlite_template, tmp_path / f"run-{next(_RUN)}")
    chain = make_chain(Ledger(make_engine(url), clock), clock)
    scf = chain.scf
    payable_id = scf.issue("iss", CORE, S1, "PO-1", cny(FACE), chain.days(120)).payable_id
    for n, (kind, pick, *args) in enumerate(steps):
        live = [c for c in _live(chain, payable_id) if c.holder_role is not Role.FUNDER]
        if not live:
            break
        held = live[int(pick) % len(live)]  # type: ignore[call-overload]
        try:
            if kind == "split":
                sizes, face = list(args[0]), held.face_minor  # type: ignore[call-overload]
                marks = itertools.accumulate(sizes[:-1])
                cuts = sorted({min(face - 1, max(1, face * m // sum(sizes))) for m in marks})
                parts = [b - a for a, b in itertools.pairwise([0, *cuts, face])]
                scf.split(f"r{n}", held.certificate_id, held.holder_id, parts)
            elif kind == "transfer":
                scf.transfer(f"r{n}", held.certificate_id, held.holder_id, str(args[0]),
                             args[1])  # type: ignore[arg-type]  # fmt: skip
            else:
                scf.discount(f"r{n}", held.certificate_id, held.holder_id, BANK,
                             args[0])  # type: ignore[arg-type]  # fmt: skip
            event(f"{kind} done")
        except EmbedfinError as error:
            event(f"{kind} refused: {error.code}")  # a refused step changes nothing (below)
        now = _live(chain, payable_id)
        assert sum(c.face_minor for c in now) == FACE
        with scf.ledger.reader() as conn:
            report = check_all(conn)
        assert report.ok, report.violations
    holders = _live(chain, payable_id)
    owed: dict[str, int] = {}
    for c in holders:
        owed[c.holder_id] = owed.get(c.holder_id, 0) + c.face_minor
    before = {p: available(chain.services, p) for p in (CORE, *SUPPLIERS)}
    chain.advance(120)
    assert scf.run_maturities().settled == 1
    for supplier in SUPPLIERS:
        assert available(chain.services, supplier) - before[supplier] == owed.get(supplier, 0)
    assert before[CORE] - available(chain.services, CORE) == FACE
    with scf.ledger.reader() as conn:
        assert check_all(conn).ok
