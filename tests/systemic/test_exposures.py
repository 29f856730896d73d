"""The exposure network of a tenant's books: the pure mapping, then the books of a seeded
supply-chain tenant read on both stores, exported to Parquet and cleared."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from embedfin.cli import app
from embedfin.core.clock import ManualClock
from embedfin.db.engine import make_engine
from embedfin.ledger.service import Ledger
from embedfin.systemic.books import read_exposures
from embedfin.systemic.clearing import eisenberg_noe
from embedfin.systemic.export import clearing_network_of, read_parquet, write_parquet
from embedfin.systemic.exposures import Balance, Edge, Links, exposures_of
from tests.cli.helpers import runner
from tests.scf.conftest import BANK, CORE, S1, Chain, cny, make_chain

NO_LINKS = Links({}, {}, {}, {})


def test_customer_balances_are_what_the_platform_owes_and_transit_what_a_channel_owes() -> None:
    balances = [
        Balance("buyer", "b-1", 100, "USD", 500),
        Balance("merchant", "m-1", 200, "USD", 300),
        Balance("merchant", "m-1", 210, "USD", 700),
        Balance("merchant", "m-1", 220, "USD", 50),
        Balance("channel", "card", 2, "USD", 900),
        Balance("platform", "platform", 1, "USD", 650),
        Balance("platform", "platform", 300, "USD", 40),
        Balance("platform", "platform", 410, "USD", 99),  # revenue: an accounting view only
    ]
    found = exposures_of(balances, NO_LINKS)
    assert set(found.edges) == {
        Edge("platform", "buyer:b-1", "USD", 500, "wallet"),
        Edge("platform", "merchant:m-1", "USD", 1000, "balance"),
        Edge("platform", "merchant:m-1", "USD", 50, "reserve"),
        Edge("channel:card", "platform", "USD", 900, "in_transit"),
    }
    platform = next(n for n in found.nodes if n.node_id == "platform")
    assert (platform.external_assets_minor, platform.external_liabilities_minor) == (650, 40)
    kinds = {n.node_id: n.kind for n in found.nodes}
    assert kinds == {"platform": "platform", "buyer:b-1": "consumer",
                     "merchant:m-1": "merchant", "channel:card": "channel"}  # fmt: skip


def test_loans_certificates_and_advances_link_the_parties_behind_them() -> None:
    balances = [
        Balance("loan", "L-1", 1200, "USD", 800),
        Balance("loan", "L-1", 1210, "USD", 20),
        Balance("certificate", "c-1", 2110, "USD", 5000),
        Balance("scf_order", "po-1", 2300, "USD", 3000),
        Balance("scf_inventory", "inv-1", 2400, "USD", 700),
        Balance("loan", "L-2", 1200, "USD", 0),
    ]
    links = Links(
        loans={"L-1": ("b-1", "bank"), "L-2": ("b-2", "bank")},
        certificates={"c-1": ("core", "sup", "supplier")},
        advances={"po-1": ("sup", "bank")},
        roles={"merchant:core": "core", "merchant:sup": "supplier"},
        facilities={"inv-1": ("dist", "bank")},
    )
    found = exposures_of(balances, links)
    assert set(found.edges) == {
        Edge("buyer:b-1", "funder:bank", "USD", 820, "loan"),
        Edge("merchant:core", "merchant:sup", "USD", 5000, "certificate"),
        Edge("merchant:sup", "funder:bank", "USD", 3000, "advance"),
        Edge("merchant:dist", "funder:bank", "USD", 700, "inventory"),
    }
    kinds = {n.node_id: n.kind for n in found.nodes}
    assert kinds["merchant:core"] == "core"
    assert kinds["merchant:sup"] == "supplier"
    assert kinds["merchant:dist"] == "distributor"
    assert "buyer:b-2" not in kinds


@pytest.fixture
def books(ledger: Ledger, clock: ManualClock) -> Chain:
    """A core enterprise that has sold goods, a funded funder, and a certificate of 1,000,000
    it issued to its supplier."""
    chain = make_chain(ledger, clock, tenant="stress-shop")
    matures = chain.today() + timedelta(days=90)
    chain.scf.issue("iss-1", CORE, S1, "inv-1", cny(1_000_000), matures)
    return chain


def test_the_books_of_a_tenant_become_its_exposure_network(books: Chain) -> None:
    services = books.services
    found = read_exposures(services.ledger, "stress-shop", services.lending, services.scf,
                           services.scf_orders)  # fmt: skip
    by_kind = {(e.debtor, e.creditor, e.kind): e.amount_minor for e in found.edges}
    core, supplier, funder = f"merchant:{CORE}", f"merchant:{S1}", f"funder:{BANK}"
    assert by_kind[core, supplier, "certificate"] == 1_000_000
    assert by_kind["platform", funder, "funds_held"] == 10_000_000
    assert by_kind["platform", core, "balance"] > 0
    assert by_kind["channel:card", "platform", "in_transit"] == 5_000_000
    kinds = {n.node_id: n.kind for n in found.nodes}
    assert (kinds[core], kinds[supplier], kinds[funder]) == ("core", "supplier", "funder")
    assert all(e.currency == "CNY" for e in found.edges)


def test_an_export_reads_back_as_the_network_the_models_clear(books: Chain, tmp_path: Path) -> None:
    services = books.services
    found = read_exposures(services.ledger, "stress-shop", services.lending, services.scf,
                           services.scf_orders)  # fmt: skip
    write_parquet(found, tmp_path / "export")
    again = read_parquet(tmp_path / "export")
    assert set(again.edges) == set(found.edges)
    assert set(again.nodes) == set(found.nodes)
    network = clearing_network_of(again, "CNY")
    result = eisenberg_noe(network)
    assert set(result.nodes) == {n.node_id for n in found.nodes}
    assert all(0 <= p <= o for p, o in zip(result.payments, result.owed, strict=True))


def test_stress_export_writes_nodes_and_edges_parquet(sqlite_url: str, tmp_path: Path) -> None:
    clock = ManualClock()
    chain = make_chain(Ledger(make_engine(sqlite_url), clock), clock, tenant="stress-cli")
    chain.scf.issue("iss-1", CORE, S1, "inv-1", cny(250_000), chain.today() + timedelta(30))
    out = tmp_path / "export"
    args = ["stress", "export", "--db", sqlite_url, "--tenant", "stress-cli", "--out", str(out)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["edges_by_kind"]["certificate"] == 1
    assert (out / "nodes.parquet").is_file()
    assert (out / "edges.parquet").is_file()
