"""``embedfin consumers``: lag, parked events and replays, as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from embedfin.cli import app
from embedfin.consumers import RetryPolicy, Runner
from embedfin.core.clock import ManualClock
from embedfin.core.errors import NotFound
from embedfin.ledger.service import Ledger
from tests.consumers.test_runner import Recorder

cli = CliRunner()


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'embedfin.db'}"
    ledger = Ledger.open(url, ManualClock())
    with ledger.transaction() as tx:
        tx.emit("t", "escrow_released", "order", "o-1", {})
        tx.emit("t", "order_paid", "order", "o-2", {"buyer_id": "b-1", "amount_minor": 1})
    ledger.close()
    return url


def _json(args: list[str]) -> dict[str, object]:
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


def test_consumers_lists_each_consumer_with_its_lag(url: str) -> None:
    figures = _json(["consumers", "--db", url, "--json"])["consumers"]
    assert isinstance(figures, list)
    unread = {f["consumer"]: f["unread"] for f in figures}
    assert unread == {
        "credit-features": 1, "invoices": 1, "risk-labels": 1, "risk-case-feed": 0,
        "risk-refund-signals": 0, "aml-monitor": 1, "webhooks": 2,
    }  # fmt: skip
    table = cli.invoke(app, ["consumers", "--db", url])
    assert table.exit_code == 0
    assert "credit-features" in table.stdout


def test_consumers_run_catches_every_consumer_up(url: str) -> None:
    assert _json(["consumers", "run", "--db", url, "--json"])["effects"] == {
        "credit-features": 1,
        "invoices": 0,  # the order of the released escrow does not exist here
        "risk-labels": 0,  # …nor any checkout decision of it
        "risk-case-feed": 0,  # no dispute or return
        "risk-refund-signals": 0,  # no refund
        "aml-monitor": 0,  # the paid order names no merchant or currency: nothing to follow
        "webhooks": 0,
    }
    figures = _json(["consumers", "--db", url, "--json"])["consumers"]
    assert isinstance(figures, list)
    assert {f["consumer"]: f["unread"] for f in figures}["credit-features"] == 0


def test_parked_events_are_listed_and_replayed(url: str) -> None:
    ledger = Ledger.open(url, ManualClock())
    failing = Recorder(name="invoices", event_types=frozenset({"escrow_released"}))
    failing.failing["o-1"] = -1
    Runner(ledger, [failing], retry=RetryPolicy(max_attempts=1)).run(failing)
    assert _json(["consumers", "parked", "--db", url, "--json"])["parked"] == [
        {
            "consumer": "invoices",
            "event_id": failing_event_id(ledger),
            "event_type": "escrow_released",
            "attempts": 1,
            "error": "RuntimeError: cannot handle o-1",
            "status": "parked",
            "parked_at_ns": ledger.clock.now_ns(),
        }
    ]
    replayed = cli.invoke(app, ["consumers", "replay", failing_event_id(ledger), "--db", url])
    assert replayed.exit_code == 0, replayed.output
    parked = _json(["consumers", "parked", "--db", url, "--json"])["parked"]
    assert isinstance(parked, list)
    assert [p["status"] for p in parked] == ["replay"]
    unknown = cli.invoke(app, ["consumers", "replay", "nope", "--db", url])
    assert isinstance(unknown.exception, NotFound)
    ledger.close()


def failing_event_id(ledger: Ledger) -> str:
    (parked,) = Runner(ledger).parked()
    return parked.event_id
