"""Certificate batches (``Certificates.batch``): a batch does what the same commands do one by
one, on both stores; it is all or nothing, replays, and reaches no other tenant's paper."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select

from embedfin.core.clock import ManualClock
from embedfin.core.errors import BatchItemRefused, IdempotencyMismatch, InvalidInput
from embedfin.db.tables import payment_accounts
from embedfin.ledger.service import BatchTooLarge, Ledger
from embedfin.scf.batch import (
    MAX_ITEMS,
    BatchItem,
    DiscountItem,
    IssueItem,
    SettleItem,
    SplitItem,
    TransferItem,
)
from embedfin.scf.ids import new_id
from tests.scf.conftest import BANK, CORE, S1, S2, S3, Chain, cny, make_chain
from tests.scf.test_service import _counts, check_all_ok


def _opening(chain: Chain) -> list[BatchItem]:
    """Two payables: one split, its parts passed down and discounted; the other discounted."""
    due = chain.days(60)
    return [
        IssueItem("iss-1", CORE, S1, "PO-1", cny(1_000_000), due),
        IssueItem("iss-2", CORE, S2, "PO-2", cny(300_000), due),
        SplitItem("sp-1", "@iss-1/0", S1, [600_000, 400_000]),
        TransferItem("tr-1", "@sp-1/1", S1, S2, 250_000),
        TransferItem("tr-2", "@tr-1/0", S2, S3),
        DiscountItem("d-1", "@sp-1/0", S1, BANK),
        DiscountItem("d-2", "@iss-2/0", S2, BANK, 100_000),
    ]


def _settling() -> list[BatchItem]:
    return [SettleItem("st-1", "@iss-1"), SettleItem("st-2", "@iss-2")]


def _one_by_one(chain: Chain, items: Sequence[BatchItem]) -> None:
    scf, tenant = chain.scf, chain.scf.tenant

    def ref(value: str, prefix: str) -> str:
        if not value.startswith("@"):
            return value
        rid, _, n = value[1:].partition("/")
        return new_id(prefix, tenant, rid, int(n or 0))

    for item in items:
        if isinstance(item, IssueItem):
            scf.issue(item.request_id, item.core_id, item.supplier_id, item.payable_ref,
                      item.amount, item.matures_on)  # fmt: skip
        elif isinstance(item, SplitItem):
            scf.split(item.request_id, ref(item.certificate_id, "crt"), item.holder_id,
                      item.parts)  # fmt: skip
        elif isinstance(item, TransferItem):
            scf.transfer(item.request_id, ref(item.certificate_id, "crt"), item.holder_id,
                         item.to_id, item.amount_minor)  # fmt: skip
        elif isinstance(item, DiscountItem):
            scf.discount(item.request_id, ref(item.certificate_id, "crt"), item.holder_id,
                         item.funder_id, item.amount_minor)  # fmt: skip
        else:
            scf.settle(item.request_id, ref(item.payable_id, "pay"))


def _as_of(chain: Chain, other: str) -> dict[str, str]:
    """Each id this chain's tenant made, as the other tenant made it (ids derive from both)."""
    rids = ["iss-1", "iss-2", "sp-1", "tr-1", "tr-2", "d-1", "d-2", "st-1", "st-2"]
    return {new_id(p, chain.scf.tenant, r, n): new_id(p, other, r, n)
            for p in ("crt", "pay") for r in rids for n in range(3)}  # fmt: skip


def _translated(text: str, names: dict[str, str]) -> str:
    for mine, theirs in names.items():
        text = text.replace(mine, theirs)
    return text


def _log(chain: Chain, names: dict[str, str]) -> list[dict[str, object]]:
    """The tenant's ``scf`` entries, ids translated; a settlement's certificates sorted by id
    (it pays them in id order, and the ids of two tenants sort differently)."""
    log = chain.services.log
    entries = [json.loads(_translated(log.entry("scf", i).body, names))
               for i in range(log.info("scf").size)]  # fmt: skip
    for entry in entries:
        if entry["event"] == "settle":
            entry["paid"].sort(key=lambda p: p["id"])
            entry["retires"].sort()
    return entries


def _books(chain: Chain, names: dict[str, str]) -> dict[tuple[str, str, int], tuple[int, int]]:
    """Every account of the tenant, by owner (ids translated) and chart code: its balances."""
    pa = payment_accounts.c
    with chain.scf.ledger.reader() as conn:
        keys = conn.execute(select(pa.account_id, pa.owner_kind, pa.owner_id, pa.code)
                            .where(pa.tenant == chain.scf.tenant)).all()  # fmt: skip
    accounts = {a.id: a for a in chain.scf.ledger.lookup_accounts([k.account_id for k in keys])}
    return {
        (k.owner_kind, names.get(k.owner_id, k.owner_id), int(k.code)):
            (accounts[k.account_id].debits_posted, accounts[k.account_id].credits_posted)
        for k in keys
    }  # fmt: skip


def test_a_batch_does_what_the_same_commands_do_one_by_one(
    ledger: Ledger, clock: ManualClock
) -> None:
    singly = make_chain(ledger, clock, tenant="scf-singly")
    batched = make_chain(ledger, clock, tenant="scf-batched")
    _one_by_one(singly, _opening(singly))
    done = batched.scf.batch(_opening(batched))
    assert [d.kind for d in done] == ["issue", "issue", "split", "transfer", "transfer",
                                      "discount", "discount"]  # fmt: skip
    assert not any(d.replayed for d in done)
    clock.advance(seconds=60 * 86_400)
    _one_by_one(singly, _settling())
    settled = batched.scf.batch(_settling())
    assert [d.payable.status.value for d in settled if d.payable] == ["settled", "settled"]
    names = _as_of(singly, "scf-batched")
    assert _log(singly, names) == _log(batched, {})
    assert _books(singly, names) == _books(batched, {})
    assert check_all_ok(singly)
    assert check_all_ok(batched)


def test_a_refused_item_refuses_the_batch_with_its_index_and_writes_nothing(
    sqlite_chain: Chain,
) -> None:
    chain = sqlite_chain
    before = _counts(chain)
    items = _opening(chain)
    items[4] = TransferItem("tr-2", "@tr-1/0", S2, BANK)  # to a funder
    with pytest.raises(BatchItemRefused) as refused:
        chain.scf.batch(items)
    assert (refused.value.index, refused.value.details()["item_code"]) == (4, "certificate_refused")
    assert _counts(chain) == before


def test_a_funder_short_of_the_price_refuses_its_item_and_nothing_moves(
    sqlite_chain: Chain,
) -> None:
    chain = sqlite_chain
    before = _counts(chain)
    big: list[BatchItem] = [IssueItem("iss-9", CORE, S1, "PO-9", cny(50_000_000), chain.days(30)),
           DiscountItem("d-9", "@iss-9/0", S1, BANK)]  # fmt: skip
    with pytest.raises(BatchItemRefused) as refused:
        chain.scf.batch(big)
    assert (refused.value.index, refused.value.error.code) == (1, "insufficient_funds")
    assert _counts(chain) == before


def test_replaying_a_batch_returns_what_it_did_and_writes_nothing(sqlite_chain: Chain) -> None:
    chain = sqlite_chain
    first = chain.scf.batch(_opening(chain))
    after = _counts(chain)
    again = chain.scf.batch(_opening(chain))
    assert all(d.replayed for d in again)
    assert [d.certificates[0].certificate_id for d in again] == [
        d.certificates[0].certificate_id for d in first
    ]
    assert _counts(chain) == after
    # an item alone replays too, and another command under an item's id is refused
    chain.scf.split("sp-1", new_id("crt", chain.scf.tenant, "iss-1", 0), S1, [600_000, 400_000])
    with pytest.raises(BatchItemRefused) as refused:
        chain.scf.batch([SplitItem("sp-1", "@iss-1/0", S1, [500_000, 500_000])])
    assert isinstance(refused.value.error, IdempotencyMismatch)
    assert _counts(chain) == after


def test_a_batch_naming_another_tenants_certificate_is_refused(
    ledger: Ledger, clock: ManualClock
) -> None:
    ours = make_chain(ledger, clock, tenant="scf-a")
    theirs = make_chain(ledger, clock, tenant="scf-b")
    [issued] = ours.scf.batch([IssueItem("iss-1", CORE, S1, "PO-1", cny(100_000), ours.days(30))])
    before = _counts(theirs)
    foreign = issued.certificates[0].certificate_id
    with pytest.raises(BatchItemRefused) as refused:
        theirs.scf.batch([
            IssueItem("iss-1", CORE, S1, "PO-1", cny(100_000), theirs.days(30)),
            SplitItem("sp-1", foreign, S1, [1, 99_999]),
        ])  # fmt: skip
    assert (refused.value.index, refused.value.error.code) == (1, "not_found")
    assert _counts(theirs) == before


@pytest.mark.parametrize(
    ("what", "items", "error"),
    [
        ("no items", [], BatchTooLarge),
        ("too many", [SettleItem(f"s-{i}", "pay_x") for i in range(MAX_ITEMS + 1)], BatchTooLarge),
        ("a request id twice", [SettleItem("s", "pay_x"), SettleItem("s", "pay_y")], InvalidInput),
        ("a bad reference", [SplitItem("s", "@iss-1/x", S1, [1, 2])], InvalidInput),
        ("not an item", ["issue"], InvalidInput),
    ],
)
def test_bad_batches_are_refused_before_anything_is_read(
    sqlite_chain: Chain, what: str, items: list[Any], error: type[Exception]
) -> None:
    before = _counts(sqlite_chain)
    with pytest.raises((error, BatchItemRefused)) as refused:
        sqlite_chain.scf.batch(items)
    found = refused.value
    assert isinstance(found.error if isinstance(found, BatchItemRefused) else found, error)
    assert _counts(sqlite_chain) == before
