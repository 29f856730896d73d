"""Streaming typologies in the platform: the ``aml-monitor`` consumer catches each typology of
a seeded month as it arrives, a restarted process finds what one run finds, and a batch scan
over the same days opens no second case for what the stream raised."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from embedfin.bootstrap import Services, build_consumers, check_all
from embedfin.compliance.aml import generator
from embedfin.compliance.aml.journal import Movement
from embedfin.compliance.aml.monitor import Monitoring
from embedfin.compliance.aml.reports import Reports
from embedfin.compliance.aml.stream import StreamTypologies
from embedfin.consumers import Runner
from embedfin.core.clock import NS_PER_SECOND, ManualClock
from embedfin.core.events import Event
from embedfin.db.outbox import append_events
from embedfin.ledger.service import Ledger
from embedfin.risk.cases import Cases
from embedfin.risk.config import RiskSettings
from tests.conftest import fresh_sqlite

STREAMED = ("fan_in", "fan_out", "cycle", "pass_through", "structuring", "smurfing")
BATCH = 1_000


@cache
def _month() -> generator.Generated:
    return generator.generate(20_000, seed=11, per_typology=6)


def _movements(data: generator.Generated) -> list[Movement]:
    return [
        Movement(tx_id, t * NS_PER_SECOND, "transfer", src, dst, "person", "person", cents,
                 "USD", tx_id)
        for tx_id, src, dst, cents, t in data.rows
    ]  # fmt: skip


def _monitoring(ledger: Ledger, tenant: str, typologies: StreamTypologies) -> Monitoring:
    return Monitoring(ledger, tenant, Cases(ledger, tenant, None), Reports(ledger, tenant),
                      typologies=typologies)  # fmt: skip


def _stream(
    ledger: Ledger, tenant: str, moves: list[Movement], restart_at: int | None = None
) -> None:
    """The movements in the consumer's batches; at ``restart_at`` a new process (a new
    ``StreamTypologies``, nothing in memory) takes over."""
    typologies = StreamTypologies()
    for n, first in enumerate(range(0, len(moves), BATCH)):
        if n == restart_at:
            typologies = StreamTypologies()
        with ledger.transaction() as tx:
            _monitoring(ledger, tenant, typologies).record(tx, moves[first : first + BATCH])


def _alerts(ledger: Ledger, tenant: str) -> set[tuple[object, ...]]:
    found = _monitoring(ledger, tenant, StreamTypologies()).alerts(limit=1000)
    return {(a.typology, a.accounts, a.transactions, a.window_start, a.window_end, a.amount)
            for a in found}  # fmt: skip


@pytest.fixture
def sqlite_ledger(sqlite_url: str) -> Ledger:
    return Ledger.open(sqlite_url, ManualClock())


def test_the_stream_catches_each_typology_of_a_seeded_month(sqlite_ledger: Ledger) -> None:
    data = _month()
    _stream(sqlite_ledger, "ten_a", _movements(data))
    monitoring = _monitoring(sqlite_ledger, "ten_a", StreamTypologies())
    alerted: dict[str, set[str]] = defaultdict(set)
    for alert in monitoring.alerts(limit=1000):
        alerted[alert.typology].update(alert.transactions)
    instances: dict[tuple[str, int], set[str]] = defaultdict(set)
    for tx_id, tag in data.truth.items():
        instances[tag].add(tx_id)
    for typology in STREAMED:
        mine = [rows for (name, _), rows in instances.items() if name == typology]
        caught = [rows for rows in mine if len(rows & alerted[typology]) * 2 >= len(rows)]
        assert len(caught) >= 0.8 * len(mine), (typology, len(caught), len(mine))
    with sqlite_ledger.reader() as conn:
        assert check_all(conn).ok


def test_a_restarted_stream_raises_what_one_run_raises(ledger: Ledger) -> None:
    moves = _movements(_month())[:12_000]
    _stream(ledger, "one_run", moves)
    _stream(ledger, "restarted", moves, restart_at=5)
    once = _alerts(ledger, "one_run")
    assert once
    assert _alerts(ledger, "restarted") == once


def test_a_batch_scan_over_the_streams_days_opens_no_second_case(sqlite_ledger: Ledger) -> None:
    moves = _movements(_month())
    _stream(sqlite_ledger, "ten_a", moves)
    monitoring = _monitoring(sqlite_ledger, "ten_a", StreamTypologies())
    before = {a.case_id: a for a in monitoring.alerts(limit=1000)}
    clock = sqlite_ledger.clock
    assert isinstance(clock, ManualClock)
    clock.advance(ns=moves[-1].occurred_at + NS_PER_SECOND - clock.now_ns())
    run = monitoring.scan(days=31)
    after = {a.case_id: a for a in monitoring.alerts(limit=1000)}
    streamed_cycles = {a.case_id for a in before.values() if a.typology == "cycle"}
    assert streamed_cycles  # the batch finds these cycles too: they stay one case each
    assert streamed_cycles <= set(after)
    new_cycles = [a for c, a in after.items() if c not in before and a.typology == "cycle"]
    assert new_cycles == []
    assert run.new_alerts == len(after) - len(before)
    with sqlite_ledger.reader() as conn:
        assert check_all(conn).ok


def test_the_consumer_stopped_mid_stream_resumes_with_the_same_alerts(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """Through the outbox: a buyer's top-up, an order and the merchant's payout of nearly the
    same amount within hours (a pass-through), for many buyers; read in small batches, the
    consumer stopped after two and resumed by a new process."""
    clock = ManualClock()
    start = 1_767_225_600 * NS_PER_SECOND
    events = []
    for n in range(40):
        at = start + n * 3_600 * NS_PER_SECOND
        amount = 500_000 + 1_000 * n
        events += [
            Event("wallet_topped_up", "wallet", f"w-{n}", {"owner_kind": "buyer",
                  "owner_id": f"b{n}", "amount_minor": amount, "currency": "CNY",
                  "channel": "card"}, at, "ten_a", f"ev-top-{n}"),
            Event("order_paid", "order", f"o-{n}", {"buyer_id": f"b{n}", "merchant_id": f"m{n}",
                  "amount_minor": amount - 1_000, "currency": "CNY"}, at + 600 * NS_PER_SECOND,
                  "ten_a", f"ev-order-{n}"),
            Event("payout_sent", "payout", f"m{n}", {"amount_minor": amount - 5_000,
                  "currency": "CNY", "batch_id": f"p-{n}"}, at + 7_200 * NS_PER_SECOND,
                  "ten_a", f"ev-payout-{n}"),
        ]  # fmt: skip
    results = []
    for stops in (False, True):
        url = fresh_sqlite(sqlite_template, tmp_path / f"db-{stops}")
        ledger = Ledger.open(url, clock)
        with ledger.engine.begin() as conn:
            append_events(conn, events)
        consumers = [c for c in build_consumers(ledger, RiskSettings(enabled=False))
                     if c.name == "aml-monitor"]  # fmt: skip
        if stops:
            Runner(ledger, consumers).run(consumers[0], batch_size=25, max_batches=2)
            consumers = [c for c in build_consumers(ledger, RiskSettings(enabled=False))
                         if c.name == "aml-monitor"]  # fmt: skip
        Runner(ledger, consumers).run(consumers[0], batch_size=25)
        monitoring = Services(ledger, risk=RiskSettings(enabled=False)).tenant("ten_a").monitoring
        results.append({(a.typology, a.transactions) for a in monitoring.alerts(limit=1000)})
        ledger.close()
    chains = [rows for typology, rows in results[0] if typology == "pass_through"]
    assert len(chains) == 40
    assert results[1] == results[0]
