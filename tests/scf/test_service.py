"""Receivable certificates on the ledger, on both stores: issue, split, transfer down the tiers,
discount with a funder, settlement at maturity and the overdue path; every event in the ``scf``
log; bad input, retries, races and another tenant refused, with nothing written."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from embedfin.bootstrap import check_all
from embedfin.core.clock import ManualClock
from embedfin.core.errors import (
    EmbedfinError,
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from embedfin.db.tables import scf_certificates, scf_events, scf_payables, transfers
from embedfin.ledger.service import Ledger
from embedfin.payments.chart import AccountCode
from embedfin.scf.book import CertificateBook
from embedfin.scf.certificates import CertificateRefused
from embedfin.scf.store import CertificateStatus, PayableStatus
from embedfin.transparency import merkle
from tests.scf.conftest import BANK, CORE, S1, S2, S3, Chain, available, cny, make_chain, sell_to


def _held(chain: Chain, certificate_id: str) -> int:
    """A certificate's balance on the ledger."""
    key = CertificateBook(chain.scf.tenant, "CNY").held(certificate_id)
    accounts = chain.scf.ledger.lookup_accounts([key.account_id])
    return sum(a.debits_posted - a.credits_posted for a in accounts)


def _funds_held(chain: Chain, funder: str) -> int:
    key = CertificateBook(chain.scf.tenant, "CNY").funder(funder, AccountCode.LENDER_FUNDS_HELD)
    [account] = chain.scf.ledger.lookup_accounts([key.account_id])
    return account.credits_posted - account.debits_posted


def _counts(chain: Chain) -> tuple[int, ...]:
    with chain.scf.ledger.reader() as conn:
        rows = tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (scf_payables, scf_certificates, scf_events)
        )
        moved = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
    size = next((i.size for i in chain.services.log.logs() if i.log_id == "scf"), 0)
    return (*rows, moved, size)


def test_a_certificate_travels_down_the_tiers_is_discounted_and_settled_at_maturity(
    chain: Chain,
) -> None:
    scf = chain.scf
    core_before = available(chain.services, CORE)
    first = scf.issue("iss-1", CORE, S1, "PO-1001", cny(1_000_000), chain.days(90))
    assert (first.holder_id, first.tier, first.face_minor, _held(chain, first.certificate_id)) == (
        S1, 1, 1_000_000, 1_000_000)  # fmt: skip
    parts = scf.split("split-1", first.certificate_id, S1, [600_000, 400_000])
    assert [p.face_minor for p in parts] == [600_000, 400_000]
    assert scf.certificate(first.certificate_id).status is CertificateStatus.RETIRED
    assert _held(chain, first.certificate_id) == 0
    # a part of the second part passes to tier 2; the rest stays with sup-1
    passed, rest = scf.transfer("tr-1", parts[1].certificate_id, S1, S2, 250_000)
    assert (passed.holder_id, passed.tier, passed.face_minor) == (S2, 2, 250_000)
    assert (rest.holder_id, rest.tier, rest.face_minor) == (S1, 1, 150_000)
    [tier3] = scf.transfer("tr-2", passed.certificate_id, S2, S3)
    assert (tier3.holder_id, tier3.tier) == (S3, 3)
    # sup-1 discounts its 600,000 with the bank: 3.6% a year for 90 days on a 360-day year
    s1_before, bank_before = available(chain.services, S1), _funds_held(chain, BANK)
    [bought] = scf.discount("disc-1", parts[0].certificate_id, S1, BANK)
    assert bought.price_minor == 600_000 - 5_400
    assert available(chain.services, S1) - s1_before == 594_600
    assert bank_before - _funds_held(chain, BANK) == 594_600
    live = scf.certificates(payable_id=first.payable_id, status=CertificateStatus.LIVE)
    assert sum(c.face_minor for c in live) == 1_000_000
    assert check_all_ok(chain)
    # not before maturity
    with pytest.raises(CertificateRefused):
        scf.settle("early", first.payable_id)
    chain.advance(90)
    s3_before, s1_mid = available(chain.services, S3), available(chain.services, S1)
    run = scf.run_maturities()
    assert (run.settled, run.overdue) == (1, 0)
    payable = scf.payable(first.payable_id)
    assert (payable.status, payable.late_interest_minor) == (PayableStatus.SETTLED, 0)
    assert available(chain.services, S3) - s3_before == 250_000
    assert available(chain.services, S1) - s1_mid == 150_000
    assert _funds_held(chain, BANK) - bank_before == 600_000 - 594_600  # the bank's gain
    assert core_before - available(chain.services, CORE) == 1_000_000
    assert all(_held(chain, c.certificate_id) == 0 for c in live)
    # every event is in the log, in order, and proves its inclusion
    events = scf.events(first.payable_id)
    assert [e.kind for e in events] == ["issue", "split", "transfer", "transfer", "discount",
                                        "settle"]  # fmt: skip
    log = chain.services.log
    checkpoint = log.checkpoint("scf")
    _, root = log.root("scf")
    for event in events:
        entry = log.entry("scf", event.log_index)
        assert f'"request_id":"{event.request_id}"' in entry.body
        size, proof = log.inclusion("scf", event.log_index)
        merkle.verify_inclusion(event.log_index, size, entry.leaf_hash, proof, root)
    assert checkpoint.checkpoint.size == len(events)
    assert check_all_ok(chain)


def check_all_ok(chain: Chain) -> bool:
    with chain.scf.ledger.reader() as conn:
        report = check_all(conn)
    assert report.ok, report.violations
    return True


def test_retries_return_the_first_result_and_another_command_under_the_same_id_is_refused(
    chain: Chain,
) -> None:
    scf = chain.scf
    first = scf.issue("iss-1", CORE, S1, "PO-1", cny(500_000), chain.days(30))
    assert scf.issue("iss-1", CORE, S1, "PO-1", cny(500_000), chain.days(30)) == first
    parts = scf.split("sp-1", first.certificate_id, S1, [1, 499_999])
    assert scf.split("sp-1", first.certificate_id, S1, [1, 499_999]) == parts
    before = _counts(chain)
    with pytest.raises(IdempotencyMismatch):
        scf.split("sp-1", first.certificate_id, S1, [2, 499_998])
    with pytest.raises(IdempotencyMismatch):
        scf.issue("sp-1", CORE, S1, "PO-2", cny(500_000), chain.days(30))
    # the same payable certified twice under another request id
    with pytest.raises(InvalidStateTransition):
        scf.issue("iss-2", CORE, S1, "PO-1", cny(500_000), chain.days(30))
    assert _counts(chain) == before


BAD: list[tuple[str, Callable[[Chain, str], object], type[EmbedfinError]]] = [
    ("parts that do not sum", lambda c, i: c.scf.split("x", i, S1, [1, 2]), CertificateRefused),
    ("a zero part", lambda c, i: c.scf.split("x", i, S1, [0, 100_000]), CertificateRefused),
    ("a negative part", lambda c, i: c.scf.split("x", i, S1, [-1, 100_001]), CertificateRefused),
    (
        "a part that is a bool",
        lambda c, i: c.scf.split("x", i, S1, [True, 99_999]),
        CertificateRefused,
    ),
    (
        "a part that is a float",
        lambda c, i: c.scf.split("x", i, S1, [0.5, 99_999.5]),  # type: ignore[list-item]
        CertificateRefused,
    ),
    ("one part", lambda c, i: c.scf.split("x", i, S1, [100_000]), CertificateRefused),
    ("101 parts", lambda c, i: c.scf.split("x", i, S1, [1] * 100 + [99_900]), CertificateRefused),
    ("not the holder", lambda c, i: c.scf.split("x", i, S2, [1, 99_999]), CertificateRefused),
    (
        "an unknown certificate",
        lambda c, i: c.scf.split("x", "crt_nope", S1, [1, 99_999]),
        NotFound,
    ),
    ("a transfer to a funder", lambda c, i: c.scf.transfer("x", i, S1, BANK), CertificateRefused),
    ("a transfer to the core", lambda c, i: c.scf.transfer("x", i, S1, CORE), CertificateRefused),
    ("a transfer to itself", lambda c, i: c.scf.transfer("x", i, S1, S1), CertificateRefused),
    ("a transfer to nobody", lambda c, i: c.scf.transfer("x", i, S1, "ghost"), NotFound),
    (
        "a transfer of more than it holds",
        lambda c, i: c.scf.transfer("x", i, S1, S2, 100_001),
        CertificateRefused,
    ),
    ("a transfer of nothing", lambda c, i: c.scf.transfer("x", i, S1, S2, 0), CertificateRefused),
    ("a discount with a supplier", lambda c, i: c.scf.discount("x", i, S1, S2), CertificateRefused),
    (
        "a discount of a negative part",
        lambda c, i: c.scf.discount("x", i, S1, BANK, -5),
        CertificateRefused,
    ),
    (
        "settling before maturity",
        lambda c, i: c.scf.settle("x", c.scf.certificate(i).payable_id),
        CertificateRefused,
    ),
    ("an empty request id", lambda c, i: c.scf.split("", i, S1, [1, 99_999]), InvalidInput),
]


@pytest.mark.parametrize(("what", "command", "error"), BAD, ids=[b[0] for b in BAD])
def test_bad_commands_are_refused_with_a_typed_error_and_write_nothing(
    sqlite_chain: Chain, what: str, command: Callable[[Chain, str], object], error: type[Exception]
) -> None:
    chain = sqlite_chain
    first = chain.scf.issue("iss-1", CORE, S1, "PO-1", cny(100_000), chain.days(60))
    before = _counts(chain)
    with pytest.raises(error):
        command(chain, first.certificate_id)
    assert _counts(chain) == before
    assert _held(chain, first.certificate_id) == 100_000


@pytest.mark.parametrize(
    ("what", "issue"),
    [
        ("a term past one year", lambda c: c.scf.issue("x", CORE, S1, "P", cny(1), c.days(366))),
        ("maturity today", lambda c: c.scf.issue("x", CORE, S1, "P", cny(1), c.days(0))),
        ("a zero face", lambda c: c.scf.issue("x", CORE, S1, "P", cny(0), c.days(30))),
        ("a negative face", lambda c: c.scf.issue("x", CORE, S1, "P", cny(-5), c.days(30))),
        ("a huge face", lambda c: c.scf.issue("x", CORE, S1, "P", cny(10**15 + 1), c.days(30))),
        ("a supplier issuing", lambda c: c.scf.issue("x", S1, S2, "P", cny(1), c.days(30))),
        ("to a funder", lambda c: c.scf.issue("x", CORE, BANK, "P", cny(1), c.days(30))),
        ("an unknown core", lambda c: c.scf.issue("x", "ghost", S1, "P", cny(1), c.days(30))),
        ("an empty reference", lambda c: c.scf.issue("x", CORE, S1, "", cny(1), c.days(30))),
        ("a date that is text", lambda c: c.scf.issue("x", CORE, S1, "P", cny(1), "2027-01-01")),
    ],
)
def test_bad_issues_are_refused_and_write_nothing(
    sqlite_chain: Chain, what: str, issue: Callable[[Chain], object]
) -> None:
    chain = sqlite_chain
    before = _counts(chain)
    with pytest.raises(EmbedfinError):
        issue(chain)
    assert _counts(chain) == before


def test_a_term_of_one_year_is_the_longest(chain: Chain) -> None:
    longest = chain.scf.issue("iss-1", CORE, S1, "PO-1", cny(1), chain.days(365))
    assert longest.face_minor == 1


def test_a_retired_certificate_cannot_be_split_transferred_or_discounted(chain: Chain) -> None:
    scf = chain.scf
    first = scf.issue("iss-1", CORE, S1, "PO-1", cny(100_000), chain.days(60))
    scf.split("sp-1", first.certificate_id, S1, [50_000, 50_000])
    before = _counts(chain)
    commands: list[Callable[[], object]] = [
        lambda: scf.split("sp-2", first.certificate_id, S1, [1, 99_999]),
        lambda: scf.transfer("tr-1", first.certificate_id, S1, S2),
        lambda: scf.discount("d-1", first.certificate_id, S1, BANK),
    ]
    for command in commands:
        with pytest.raises(InvalidStateTransition):
            command()
    assert _counts(chain) == before


def test_a_funder_cannot_pay_more_than_it_holds_and_nothing_moves(
    ledger: Ledger, clock: ManualClock, chain: Chain
) -> None:
    scf = chain.scf
    scf.register("bank-2", "funder", "An unfunded bank")
    first = scf.issue("iss-1", CORE, S1, "PO-1", cny(100_000), chain.days(60))
    before, s1 = _counts(chain), available(chain.services, S1)
    with pytest.raises(InsufficientFunds):
        scf.discount("d-1", first.certificate_id, S1, "bank-2")
    assert (_counts(chain), available(chain.services, S1)) == (before, s1)


def test_an_unpaid_payable_goes_overdue_accrues_late_interest_and_is_settled_later(
    ledger: Ledger, clock: ManualClock
) -> None:
    chain = make_chain(ledger, clock, tenant="scf-late")
    scf = chain.scf
    core_has = available(chain.services, CORE)
    first = scf.issue("iss-1", CORE, S1, "PO-1", cny(core_has + 100_000), chain.days(30))
    a, b = scf.split("sp-1", first.certificate_id, S1, [core_has, 100_000])
    [funded] = scf.discount("d-1", b.certificate_id, S1, BANK)
    chain.advance(30)
    s1_before = available(chain.services, S1)
    assert (scf.run_maturities().overdue, scf.run_maturities().still_overdue) == (1, 1)
    payable = scf.payable(first.payable_id)
    assert (payable.status, payable.overdue_since) == (PayableStatus.OVERDUE, chain.days(1))
    assert available(chain.services, S1) == s1_before  # nobody paid before another
    with pytest.raises(InvalidStateTransition):
        scf.split("sp-2", a.certificate_id, S1, [1, core_has - 1])
    chain.advance(10)
    sell_to(chain.services, CORE, 1_000_000, "o-more")
    run = scf.run_maturities()
    assert run.settled == 1
    settled = scf.payable(first.payable_id)
    # 18% a year on a 360-day year, for ten days late, on each certificate
    late_a = round(Decimal(core_has) * Decimal("0.18") * 10 / 360)
    late_b = round(Decimal(100_000) * Decimal("0.18") * 10 / 360)
    assert settled.late_interest_minor == late_a + late_b
    assert available(chain.services, S1) - s1_before == core_has + late_a
    assert funded.price_minor is not None
    assert [e.kind for e in scf.events(first.payable_id)][-2:] == ["overdue", "settle"]
    assert check_all_ok(chain)


def test_two_racing_splits_of_one_certificate_make_one_split(
    ledger: Ledger, clock: ManualClock, chain: Chain
) -> None:
    scf = chain.scf
    first = scf.issue("iss-1", CORE, S1, "PO-1", cny(100_000), chain.days(60))
    outcomes: list[object] = []

    def split(request_id: str) -> None:
        try:
            outcomes.append(scf.split(request_id, first.certificate_id, S1, [40_000, 60_000]))
        except InvalidStateTransition as error:
            outcomes.append(error)

    threads = [threading.Thread(target=split, args=(f"sp-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = [o for o in outcomes if isinstance(o, list)]
    assert len(made) == 1
    assert len(outcomes) == 4
    live = scf.certificates(payable_id=first.payable_id, status=CertificateStatus.LIVE)
    assert sorted(c.face_minor for c in live) == [40_000, 60_000]
    assert check_all_ok(chain)


def test_another_tenants_certificates_are_not_found(ledger: Ledger, clock: ManualClock) -> None:
    ours = make_chain(ledger, clock, tenant="scf-a")
    theirs = make_chain(ledger, clock, tenant="scf-b")
    first = ours.scf.issue("iss-1", CORE, S1, "PO-1", cny(100_000), ours.days(60))
    with pytest.raises(NotFound):
        theirs.scf.certificate(first.certificate_id)
    with pytest.raises(NotFound):
        theirs.scf.split("sp-1", first.certificate_id, S1, [1, 99_999])
    with pytest.raises(NotFound):
        theirs.scf.settle("st-1", first.payable_id)
    assert theirs.scf.certificates(holder_id=S1) == []


def test_after_maturity_a_certificate_is_only_settled_and_only_once(sqlite_chain: Chain) -> None:
    chain, scf = sqlite_chain, sqlite_chain.scf
    first = scf.issue("iss-1", CORE, S1, "PO-1", cny(100_000), chain.days(30))
    chain.advance(30)
    before = _counts(chain)
    with pytest.raises(CertificateRefused):
        scf.discount("d-1", first.certificate_id, S1, BANK)
    with pytest.raises(CertificateRefused):
        scf.split("s-1", first.certificate_id, S1, [1, 99_999])
    assert _counts(chain) == before
    settled = scf.settle("st-1", first.payable_id)
    assert settled.status is PayableStatus.SETTLED
    assert scf.settle("st-1", first.payable_id) == settled  # the retry
    after = _counts(chain)
    with pytest.raises(InvalidStateTransition):
        scf.settle("st-2", first.payable_id)
    assert _counts(chain) == after
    assert scf.run_maturities().settled == 0
