"""``embedfin check`` on certificates: a clean run holds, and a database writer who edits a
certificate's face, revives a retired one or rewrites the log is caught."""

from __future__ import annotations

from sqlalchemy import update

from embedfin.bootstrap import check_all
from embedfin.db.tables import scf_certificates, scf_events, scf_payables
from embedfin.ledger.check import CheckReport
from tests.scf.conftest import CORE, S1, Chain, cny


def _check(chain: Chain) -> CheckReport:
    with chain.scf.ledger.reader() as conn:
        return check_all(conn)


def _failed(chain: Chain) -> set[str]:
    return {v.invariant for v in _check(chain).violations}


def _setup(chain: Chain) -> tuple[str, str, str]:
    first = chain.scf.issue("iss-1", CORE, S1, "PO-1", cny(100_000), chain.days(60))
    a, _ = chain.scf.split("sp-1", first.certificate_id, S1, [30_000, 70_000])
    return first.payable_id, first.certificate_id, a.certificate_id


def _write(chain: Chain, statement: object) -> None:
    with chain.scf.ledger.transaction() as tx:
        tx.conn.execute(statement)  # type: ignore[call-overload]


def test_a_clean_book_holds(sqlite_chain: Chain) -> None:
    _setup(sqlite_chain)
    report = _check(sqlite_chain)
    assert report.ok, report.violations
    assert report.checked["certificates_match_ledger"]
    assert report.checked["certificate_events_in_log"]


def test_an_inflated_part_is_caught(sqlite_chain: Chain) -> None:
    _, _, part = _setup(sqlite_chain)
    _write(sqlite_chain, update(scf_certificates)
           .where(scf_certificates.c.certificate_id == part).values(face_minor=90_000))  # fmt: skip
    assert _failed(sqlite_chain) == {"certificates_match_ledger"}


def test_a_revived_parent_is_caught(sqlite_chain: Chain) -> None:
    _, parent, _ = _setup(sqlite_chain)
    _write(sqlite_chain, update(scf_certificates)
           .where(scf_certificates.c.certificate_id == parent).values(status="live"))  # fmt: skip
    assert _failed(sqlite_chain) == {"certificates_match_ledger"}


def test_a_payable_marked_settled_without_payment_is_caught(sqlite_chain: Chain) -> None:
    payable, _, _ = _setup(sqlite_chain)
    _write(sqlite_chain, update(scf_payables)
           .where(scf_payables.c.payable_id == payable).values(status="settled"))  # fmt: skip
    assert _failed(sqlite_chain) == {"certificates_match_ledger"}


def test_an_event_pointing_at_another_entry_is_caught(sqlite_chain: Chain) -> None:
    _setup(sqlite_chain)
    _write(sqlite_chain, update(scf_events)
           .where(scf_events.c.request_id == "sp-1").values(log_index=0))  # fmt: skip
    assert _failed(sqlite_chain) == {"certificate_events_in_log"}
