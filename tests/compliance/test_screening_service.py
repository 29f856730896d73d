"""Screening kept in the database, on both stores: parties screened at once and on every list
update, one case per screening, decisions that clear or confirm, holds on withdrawals and
payouts, concurrent records of one party, and another tenant's data apart."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update

from embedfin.bootstrap import Services, TenantServices, check_all
from embedfin.compliance.aml import watchlist
from embedfin.compliance.aml.screening import Subject
from embedfin.core.errors import ComplianceHold, InvalidInput, InvalidStateTransition
from embedfin.core.money import Money
from embedfin.db.tables import aml_parties, aml_screening_hits, aml_watchlists
from embedfin.ledger.service import Ledger
from embedfin.payments.payouts.settlement import settle_channel
from embedfin.risk.config import RiskSettings
from embedfin.security.crypto import FieldCipher, new_key_spec

LISTED = Subject("Boris Zheleznov", "1961-02-03", "RU", "person")
CLEAN = Subject("Ada Lovelace", None, "GB", "person")


@pytest.fixture
def services(ledger: Ledger) -> Services:
    cipher = FieldCipher.parse(new_key_spec("k1"))
    return Services(ledger, cipher=cipher, risk=RiskSettings(enabled=False))


def _list() -> watchlist.ParsedList:
    return watchlist.read_file(watchlist.SHIPPED)


def _fund(t: TenantServices, buyer: str, amount: int) -> None:
    t.wallets.top_up(buyer, Money(amount, "EUR"), "card-acquirer", f"top-{buyer}")
    gross, fee = Money(amount, "EUR"), Money(0, "EUR")
    settle_channel(t.ledger, t.tenant, "card-acquirer", gross, fee, f"s-{buyer}")


def test_a_party_recorded_before_the_list_is_screened_when_it_loads(services: Services) -> None:
    t = services.tenant("ten_a")
    party, hits = t.screening.record("buyer", "b1", LISTED)
    assert party.screened_list_id is None
    assert hits == []
    loaded = t.screening.load_list(_list(), "synthetic", "officer")
    assert (loaded.screened, loaded.new_hits) == (1, 1)
    party, hits = t.screening.party("buyer", "b1")
    assert party.screened_list_id == loaded.watchlist.list_id
    assert party.name == "Boris Zheleznov"
    (hit,) = hits
    assert hit.entity_id == "syn-p-001"
    assert hit.status == "open"
    case = t.cases.get(hit.case_id)
    assert case.kind == "sanctions_hit"
    assert case.buyer_id == "b1"
    # the same list again, the same details again: nothing new
    assert t.screening.load_list(_list(), "synthetic", "officer").already_active
    assert t.screening.record("buyer", "b1", LISTED)[1] == hits
    assert len(t.cases.queue(kind="sanctions_hit")) == 1


def test_a_cleared_hit_stays_cleared_and_a_new_name_is_screened_afresh(services: Services) -> None:
    t = services.tenant("ten_a")
    t.screening.load_list(_list(), "synthetic", "officer")
    _, (hit,) = t.screening.record("buyer", "b1", LISTED)
    assert t.screening.held("buyer", "b1") is not None
    t.cases.decide(hit.case_id, "release", "another person: passport seen", "officer")
    assert t.screening.held("buyer", "b1") is None
    with pytest.raises(InvalidStateTransition):
        t.cases.decide(hit.case_id, "reject", "changed my mind", "officer")
    # a renamed party is screened again: a new hit and a new case
    renamed = Subject("Long Haitao", "1969-11-20", "CN", "person")
    _, hits = t.screening.record("buyer", "b1", renamed)
    assert [h.status for h in hits] == ["cleared", "open"]
    assert hits[1].case_id != hit.case_id
    t.cases.decide(hits[1].case_id, "reject", "the listed person", "officer")
    assert "confirmed" in (t.screening.held("buyer", "b1") or "")


def test_a_held_buyer_cannot_withdraw_and_nothing_moves(services: Services) -> None:
    t = services.tenant("ten_a")
    t.screening.load_list(_list(), "synthetic", "officer")
    _fund(t, "b1", 5_000)
    t.screening.record("buyer", "b1", LISTED)
    before = t.wallets.balance("buyer", "b1", "EUR")
    with pytest.raises(ComplianceHold, match="under review"):
        t.wallets.withdraw("buyer", "b1", Money(1_000, "EUR"), "tok_abcdefgh12", "1234", "w1")
    assert t.wallets.balance("buyer", "b1", "EUR") == before
    _, (hit,) = t.screening.party("buyer", "b1")
    t.cases.decide(hit.case_id, "release", "false positive", "officer")
    done = t.wallets.withdraw("buyer", "b1", Money(1_000, "EUR"), "tok_abcdefgh12", "1234", "w1")
    assert done.amount == Money(1_000, "EUR")


def test_bad_details_are_refused_and_record_nothing(services: Services) -> None:
    t = services.tenant("ten_a")
    for subject in (
        Subject("", None, None, "person"),
        Subject("Ada", "1990-13-01", None, "person"),
        Subject("Ada", "1800-01-01", None, "person"),
        Subject("Ada", "1990-01-01", None, "organization"),
        Subject("Ada", None, "GBR", "person"),
        Subject("Ada", None, "G1", "person"),
        Subject("Ada\x00", None, None, "person"),
        Subject("A" * 301, None, None, "person"),
        Subject("!!! ... ---", None, None, "person"),  # nothing a list load could screen
    ):
        with pytest.raises(InvalidInput):
            t.screening.record("buyer", "b1", subject)
    with pytest.raises(InvalidInput):
        t.screening.record("lender", "b1", CLEAN)
    with pytest.raises(InvalidInput):
        t.screening.record("buyer", "", CLEAN)
    with pytest.raises(InvalidInput):
        t.screening.load_list(_list(), "", "officer")
    assert t.screening.lists() == []
    assert t.screening.hits() == []


def test_another_tenant_sees_nothing_and_is_not_held(services: Services) -> None:
    a, b = services.tenant("ten_a"), services.tenant("ten_b")
    a.screening.load_list(_list(), "synthetic", "officer")
    a.screening.record("buyer", "b1", LISTED)
    assert b.screening.hits() == []
    assert b.screening.lists() == []
    assert b.screening.held("buyer", "b1") is None
    # tenant B's own record of its own b1 is screened against B's lists only (none yet)
    party, hits = b.screening.record("buyer", "b1", LISTED)
    assert party.screened_list_id is None
    assert hits == []


def test_concurrent_records_of_one_party_make_one_party_one_hit(services: Services) -> None:
    t = services.tenant("ten_a")
    t.screening.load_list(_list(), "synthetic", "officer")
    errors: list[BaseException] = []

    def record() -> None:
        try:
            t.screening.record("buyer", "b1", LISTED)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(t.screening.hits()) == 1
    assert len(t.cases.queue(kind="sanctions_hit")) == 1


def test_embedfin_check_finds_a_hit_out_of_step_with_its_case(services: Services) -> None:
    t = services.tenant("ten_a")
    t.screening.load_list(_list(), "synthetic", "officer")
    _, (hit,) = t.screening.record("buyer", "b1", LISTED)
    t.cases.decide(hit.case_id, "release", "false positive", "officer")
    with t.ledger.reader() as conn:
        assert check_all(conn).ok
    # a writer reopens the cleared hit behind the case's back: the party would be held for good
    with t.ledger.engine.begin() as conn:
        conn.execute(update(aml_screening_hits).values(status="open"))
        conn.execute(update(aml_watchlists).values(active=1))
        conn.execute(insert(aml_watchlists).values(
            tenant="ten_a", list_id="wl_second", name="x", digest="0" * 64, entries=0,
            skipped=0, active=1, loaded_at=0, loaded_by="x"))  # fmt: skip
    with t.ledger.reader() as conn:
        report = check_all(conn)
    failed = "\n".join(v.detail for v in report.violations)
    assert f"hit {hit.hit_id} is open but case {hit.case_id} is missing or decided" in failed
    assert f"hit {hit.hit_id} is open but its case was decided release" in failed
    assert "tenant ten_a: 2 lists are active" in failed


def test_load_list_from_the_command_line_screens_the_known_parties(sqlite_url: str) -> None:
    from embedfin.cli import app
    from embedfin.db.engine import make_engine
    from tests.cli.helpers import runner

    ledger = Ledger(make_engine(sqlite_url))
    Services(ledger).tenant("shop-1").screening.record("buyer", "b1", LISTED)
    args = ["aml", "load-list", "--tenant", "shop-1", "--db", sqlite_url, "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    figures = json.loads(first.stdout)
    assert (figures["screened"], figures["new_hits"], figures["already_active"]) == (1, 1, False)
    again = runner.invoke(app, args)
    assert json.loads(again.stdout)["already_active"] is True
    broken = Path(sqlite_url.removeprefix("sqlite:///")).with_name("broken.ftm.json")
    broken.write_text('{"id": "x", "schema": "Person", "properties": {}}\n')
    refused = runner.invoke(app, [*args[:-1], str(broken)])
    assert isinstance(refused.exception, watchlist.WatchlistInvalid)
    assert len(Services(ledger).tenant("shop-1").screening.lists()) == 1


def test_a_party_recorded_during_a_list_load_is_screened_before_money_leaves(
    services: Services,
) -> None:
    """A party recorded while a list was loading was screened against the list before it: in a
    payment's unit of work it is held until screened; a withdrawal screens it first (the hit and
    its case commit though the withdrawal is refused), and loading the list again catches up."""
    t = services.tenant("ten_a")
    _fund(t, "b1", 5_000)
    t.screening.load_list(_list(), "synthetic", "officer")
    t.screening.record("buyer", "b1", LISTED)
    t.screening.record("buyer", "b2", Subject("Long Haitao", "1969-11-20", "CN", "person"))
    with t.ledger.engine.begin() as conn:  # as if both were recorded mid-load, hits lost
        conn.execute(update(aml_parties).values(screened_list_id=None))
        conn.execute(delete(aml_screening_hits))
    assert t.screening.held("buyer", "b1") is None
    with t.ledger.transaction() as tx:
        assert "not yet screened" in (t.screening.hold_of(tx, "buyer", "b2") or "")
    with pytest.raises(ComplianceHold, match="under review"):
        t.wallets.withdraw("buyer", "b1", Money(1_000, "EUR"), "tok_abcdefgh12", "1234", "w1")
    assert t.screening.held("buyer", "b1") is not None
    again = t.screening.load_list(_list(), "synthetic", "officer")
    assert again.already_active
    assert again.screened == 1  # b2, the one still behind
    assert t.screening.held("buyer", "b2") is not None


def test_two_lists_loaded_at_once_leave_one_active(services: Services) -> None:
    t = services.tenant("ten_a")
    for n in range(150):  # screening them keeps each load's unit of work open a while
        t.screening.record("buyer", f"b{n}", Subject(f"Buyer Number{n}", None, "DE", "person"))
    lines = watchlist.SHIPPED.read_text(encoding="utf-8").splitlines()
    lists = [watchlist.read_ftm(lines), watchlist.read_ftm(lines[1:])]
    errors: list[BaseException] = []

    def load(parsed: watchlist.ParsedList) -> None:
        try:
            t.screening.load_list(parsed, "synthetic", "officer")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=load, args=(parsed,)) for parsed in lists * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len([i for i in t.screening.lists() if i.active]) == 1
    with t.ledger.reader() as conn:
        assert check_all(conn).ok
