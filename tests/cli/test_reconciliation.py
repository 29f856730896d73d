"""`embedfin recon` and `embedfin breaks`: a settlement file's breaks listed and resolved."""

from __future__ import annotations

import json
from pathlib import Path

from embedfin.cli import app
from embedfin.commerce.orders import OrderLine
from embedfin.core.clock import ManualClock
from embedfin.core.money import Money
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.routing import Router
from embedfin.payments.channels.sandbox import SandboxAcquirer
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.refunds.service import Refunds
from tests.cli.helpers import runner

TENANT = "shop-1"


def _unknown_settlement(tmp_path: Path) -> Path:
    path = tmp_path / "settlement.csv"
    path.write_text("reference,amount,currency,value_date\nch_unknown,10.00,USD,2026-01-01\n")
    return path


def test_a_line_the_books_lack_is_a_break_that_is_listed_then_resolved(
    sqlite_url: str, tmp_path: Path
) -> None:
    recon = ["recon", str(_unknown_settlement(tmp_path)), "--channel", "card", "--tenant", TENANT]
    ran = runner.invoke(app, [*recon, "--db", sqlite_url])
    assert ran.exit_code == 0, ran.output
    assert "1 lines, 0 matched, 1 breaks" in ran.stdout
    listed = runner.invoke(app, ["breaks", "--tenant", TENANT, "--db", sqlite_url, "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["kind"], row["reference"]) == ("missing_in_books", "ch_unknown")
    resolve = ["breaks", "--tenant", TENANT, "--db", sqlite_url, "--resolve", row["break_id"]]
    no_note = runner.invoke(app, resolve)
    assert no_note.exit_code == 2
    assert "--note is required with --resolve" in no_note.stderr
    resolved = runner.invoke(app, [*resolve, "--note", "channel test line"])
    assert resolved.exit_code == 0, resolved.output
    assert f"resolved {row['break_id']}" in resolved.stdout
    after = runner.invoke(app, ["breaks", "--tenant", TENANT, "--db", sqlite_url])
    assert "open breaks (0)" in after.stdout


def test_the_acquirers_own_settlement_file_reconciles_through_the_commands(
    sqlite_url: str, tmp_path: Path
) -> None:
    """`acquirer settle` writes the day's file from the acquirer's records; `recon` finds the
    books agree with it (a payment and a refund), in both formats."""
    acquirer_url = f"sqlite:///{tmp_path / 'acquirer.db'}"
    clock = ManualClock()
    store = SandboxAcquirer(acquirer_url, clock)
    card = next(c for c in store.channels if c.name == "card-acquirer")
    card.approval_rate = 1.0
    ledger = Ledger(make_engine(sqlite_url), clock)
    shop = Checkout(ledger, TENANT)
    shop.register_merchant("m-1", category="apparel", country="CN", settlement_currency="USD")
    line = OrderLine("sku", 1, 4_200)
    shop.place_order("o-1", buyer_id="b-1", merchant_id="m-1", currency_code="USD", lines=[line])
    payments = ChannelPayments(shop, Router([card], exploration=0.0))
    payments.pay_order("o-1", "pay-1")
    Refunds(payments).refund("o-1", Money(1_200, "USD"), "r-1")
    store.close()
    ledger.close()
    for fmt in ("csv", "camt053"):
        statement = tmp_path / f"stl.{fmt}"
        settle = ["acquirer", "settle", "--channel", "card-acquirer", "--tenant", TENANT]
        settle += ["--day", "2026-01-01", "--format", fmt, "--out", str(statement)]
        ran = runner.invoke(app, [*settle, "--acquirer", acquirer_url, "--json"])
        assert ran.exit_code == 0, ran.output
        assert json.loads(ran.stdout)["lines"] == 2
        recon = ["recon", str(statement), "--channel", "card-acquirer", "--tenant", TENANT]
        matched = runner.invoke(app, [*recon, "--db", sqlite_url])
        assert matched.exit_code == 0, matched.output
        assert "2 lines, 2 matched, 0 breaks" in matched.stdout
