"""The bank workload (``embedfin bench bank``) as a test: ``embedfin serve`` under 16 clients
sending top-ups, withdrawals, wallet and card checkouts, refunds and same-key bursts; every
violation count must be 0 (conservation, no negative balance, every acknowledged effect there,
bursts exactly once, replays equal, no 5xx, ``embedfin check`` and ``audit verify`` pass).

The first tests check the judge itself on made-up histories, so a broken checker cannot pass
the workload by seeing nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from embedfin.bench.bank import BankOptions, quiet_track, run
from embedfin.bench.bank_checks import Violations, check_bursts, wallet_model
from embedfin.bench.bank_ops import History, Op
from embedfin.cli import app
from embedfin.core.errors import InvalidInput

SECONDS = float(os.environ.get("EMBEDFIN_BANK_SECONDS", "6"))


def _op(kind: str, answers: list[tuple[int, dict[str, Any]]], **fields: object) -> Op:
    op = Op(kind, f"k-{kind}-{len(answers)}", "/v1/x", dict(fields), "cus_a")
    op.answers = answers
    op.copies = max(len(answers), 1)
    op.settle()
    return op


def test_a_burst_answered_both_created_and_declined_is_a_violation() -> None:
    history = History()
    history.add(_op("card_order", [(201, {"id": "ord_1"}), (402, {"code": "payment_declined"})]))
    found = Violations()
    check_bursts(history, found)
    assert found.burst_violations == 1


def test_a_burst_of_one_answer_replays_and_409s_is_clean() -> None:
    in_flight = {"code": "idempotency_in_flight"}
    history = History()
    answers: list[tuple[int, dict[str, Any]]] = [
        (201, {"id": "wm_1", "amount": 5}),
        (409, in_flight),
        (201, {"id": "wm_1", "amount": 5}),
    ]
    history.add(_op("top_up", answers))
    found = Violations()
    check_bursts(history, found)
    assert found.counts() == Violations().counts()


def test_a_burst_with_two_different_bodies_or_a_500_is_a_violation() -> None:
    history = History()
    history.add(_op("top_up", [(201, {"id": "wm_1"}), (201, {"id": "wm_2"})]))
    history.add(_op("refund", [(200, {"id": "ord_1"}), (500, {"code": "internal"})]))
    found = Violations()
    check_bursts(history, found)
    assert found.burst_violations == 2


def test_the_wallet_model_counts_acknowledged_ops_only() -> None:
    history = History()
    history.add(_op("top_up", [(201, {"id": "wm_1"})], amount=1_000))
    history.add(_op("top_up", [(402, {"code": "declined"})], amount=7_000))
    history.add(_op("withdrawal", [(201, {"id": "wm_2"})], amount=300))
    history.add(_op("wallet_order", [(201, {"id": "ord_w", "amount_paid": 400})]))
    history.add(_op("card_order", [(201, {"id": "ord_c", "amount_paid": 900})]))
    refund_wallet = _op("refund", [(200, {"id": "ord_w"})], amount=150)
    refund_wallet.order = "ord_w"
    refund_card = _op("refund", [(200, {"id": "ord_c"})], amount=900)
    refund_card.order = "ord_c"
    history.add(refund_wallet)
    history.add(refund_card)
    assert wallet_model(history) == {"cus_a": 1_000 - 300 - 400 + 150}


def test_several_workers_on_sqlite_are_refused_before_anything_starts() -> None:
    with pytest.raises(InvalidInput, match="PostgreSQL"):
        run(BankOptions(None, workers=2), quiet_track)


def _assert_clean(result_violations: dict[str, int], samples: list[str]) -> None:
    broken = {name: n for name, n in result_violations.items() if n}
    assert broken == {}, "\n".join(samples)


@pytest.mark.slow
@pytest.mark.postgres
def test_bank_workload_on_postgresql_with_two_workers_and_16_clients(
    pg_server: str, tmp_path: Path
) -> None:
    options = BankOptions(
        pg_server,
        workers=2,
        clients=16,
        seconds=SECONDS,
        buyers=16,
        replay_sample=60,
        log_dir=tmp_path,
    )
    result = run(options, quiet_track)
    assert result.database == "postgresql"
    assert result.acknowledged > 16
    assert result.bursts > 0
    _assert_clean(result.violations, result.samples)


@pytest.mark.slow
def test_bench_bank_command_on_sqlite_with_one_worker() -> None:
    done = CliRunner().invoke(
        app,
        ["bench", "bank", "--clients", "8", "--seconds", str(int(SECONDS)), "--json"]
        + ["--no-progress"],
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["database"] == "sqlite"
    assert figures["acknowledged"] > 8
    assert figures["bursts"] > 0
    _assert_clean(figures["violations"], figures["samples"])
    assert done.exit_code == 0
