"""Purchase-order documents on both stores: the order's lines, partial goods receipts, supplier
invoices three-way matched (quantity against what was received, price against the order within
its tolerance), a matched invoice certified as a receivable certificate; exceptions, repeats and
bad input refused with nothing written. The match's rules are property-tested."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedfin.core.errors import (
    EmbedfinError,
    IdempotencyMismatch,
    InvalidInput,
    InvalidStateTransition,
    NotFound,
)
from embedfin.scf.documents import DocLine, match
from embedfin.scf.orders import OrderStatus
from tests.scf.conftest import CORE, S1, Chain, cny
from tests.scf.test_service import _counts

LINES = [DocLine("bolt", 1_000, 50), DocLine("nut", 2_000, 25)]  # 100,000 in all


def _order(chain: Chain, tolerance_bp: int = 0) -> str:
    order = chain.services.scf_orders.place("po-1", CORE, S1, "PO-1", cny(100_000), chain.days(60))
    chain.services.scf_documents.state_lines("lines-1", order.po_id, LINES, tolerance_bp)
    return order.po_id


def test_a_matched_invoice_becomes_a_certificate(chain: Chain) -> None:
    docs = chain.services.scf_documents
    po_id = _order(chain, tolerance_bp=100)
    receipt = docs.receive("rcv-1", po_id, [DocLine("bolt", 600, 0)])
    assert receipt.amount_minor == 600 * 50  # priced at the order's prices
    assert chain.services.scf_orders.order(po_id).status is OrderStatus.RECEIVED
    docs.receive("rcv-2", po_id, [DocLine("bolt", 400, 0), DocLine("nut", 2_000, 0)])
    first = docs.invoice("inv-1", po_id, "INV-1", [DocLine("bolt", 1_000, 50)])
    assert (first.status, first.amount_minor, first.exceptions) == ("matched", 50_000, ())
    # the nut invoiced a hair above the order's price: within the 1 % tolerance
    second = docs.invoice("inv-2", po_id, "INV-2", [DocLine("nut", 2_000, 25)])
    assert second.status == "matched"
    made = docs.certify("crt-1", first.doc_id, chain.days(90))
    assert (made.holder_id, made.face_minor) == (S1, 50_000)
    assert docs.document(first.doc_id).status == "certified"
    assert docs.certify("crt-1", first.doc_id, chain.days(90)) == made  # a retry replays
    with pytest.raises(InvalidStateTransition):
        docs.certify("crt-2", first.doc_id, chain.days(90))  # a second certificate
    kinds = [d.kind for d in docs.documents(po_id)]
    assert kinds == ["lines", "receipt", "receipt", "invoice", "invoice"]
    with chain.scf.ledger.reader() as conn:
        events = [e.kind for e in chain.scf.store.events(conn, po_id)]
    assert events[:4] == ["po_place", "po_lines", "po_receipt", "po_receipt"]


def test_an_invoice_that_does_not_match_is_kept_with_its_exceptions(chain: Chain) -> None:
    docs = chain.services.scf_documents
    po_id = _order(chain)
    docs.receive("rcv-1", po_id, [DocLine("bolt", 500, 0)])
    bad = docs.invoice("inv-1", po_id, "INV-1", [DocLine("bolt", 501, 50),
                                                 DocLine("nut", 10, 26),
                                                 DocLine("washer", 1, 1)])  # fmt: skip
    assert bad.status == "exception"
    assert bad.exceptions == ("over_received:bolt", "over_received:nut", "over_price:nut",
                              "not_ordered:washer")  # fmt: skip
    with pytest.raises(InvalidStateTransition, match="did not match"):
        docs.certify("crt-1", bad.doc_id, chain.days(90))
    # an exception does not use up what was received: a corrected invoice matches
    good = docs.invoice("inv-2", po_id, "INV-1b", [DocLine("bolt", 500, 50)])
    assert good.status == "matched"
    again = docs.invoice("inv-3", po_id, "INV-1c", [DocLine("bolt", 1, 50)])
    assert again.exceptions == ("over_received:bolt",)  # the 500 received are invoiced


def test_bad_documents_are_refused_and_write_nothing(sqlite_chain: Chain) -> None:
    chain = sqlite_chain
    docs = chain.services.scf_documents
    order = chain.services.scf_orders.place("po-9", CORE, S1, "PO-9", cny(100_000), chain.days(9))
    with pytest.raises(InvalidStateTransition, match="no lines"):
        docs.receive("r-0", order.po_id, [DocLine("bolt", 1, 0)])
    po_id = _order(chain)
    before = _counts(chain)
    bad: list[tuple[type[EmbedfinError], object]] = [
        (InvalidInput, lambda: docs.state_lines("l-2", order.po_id, [DocLine("a", 1, 99_999)])),
        (InvalidStateTransition, lambda: docs.state_lines("l-3", po_id, LINES)),  # twice
        (InvalidInput, lambda: docs.state_lines("l-4", order.po_id, LINES, 1_001)),
        (InvalidInput, lambda: docs.receive("r-1", po_id, [DocLine("bolt", 1_001, 0)])),
        (InvalidInput, lambda: docs.receive("r-2", po_id, [DocLine("screw", 1, 0)])),
        (InvalidInput, lambda: docs.receive("r-3", po_id, [DocLine("bolt", 0, 0)])),
        (InvalidInput, lambda: docs.receive("r-4", po_id, [])),
        (InvalidInput, lambda: docs.receive("r-5", po_id, "bolts")),  # type: ignore[arg-type]
        (InvalidInput, lambda: docs.invoice("i-1", po_id, "X", [DocLine("bolt", 1, 0)])),
        (InvalidInput, lambda: docs.invoice("i-2", po_id, "X", [DocLine("bolt", -1, 5)])),
        (InvalidInput, lambda: docs.invoice("i-3", po_id, "", [DocLine("bolt", 1, 5)])),
        (InvalidInput, lambda: docs.invoice("i-4", po_id, "X",
                                            [DocLine("b", 1, 5), DocLine("b", 1, 5)])),
        (NotFound, lambda: docs.invoice("i-5", "po_nothere", "X", [DocLine("bolt", 1, 5)])),
        (NotFound, lambda: docs.certify("c-1", "doc_nothere", chain.days(30))),
        (IdempotencyMismatch, lambda: docs.receive("lines-1", po_id, [DocLine("bolt", 1, 0)])),
    ]  # fmt: skip
    for error, call in bad:
        with pytest.raises(error):
            call()  # type: ignore[operator]
    assert _counts(chain) == before
    receipt = docs.receive("r-ok", po_id, [DocLine("bolt", 1, 0)])
    with pytest.raises(NotFound):
        docs.certify("c-2", receipt.doc_id, chain.days(30))  # a receipt is not an invoice


_qty = st.integers(1, 1_000)


@given(_qty, _qty, st.integers(1, 10_000), st.integers(0, 1_000))
def test_invoicing_what_was_received_at_the_order_price_always_matches(
    ordered: int, received: int, price: int, tolerance: int
) -> None:
    received = min(received, ordered)
    order = [DocLine("a", ordered, price)]
    found = match(order, {"a": received}, {}, [DocLine("a", received, price)], tolerance)
    assert found.matched
    assert found.amount_minor == received * price
    over = match(order, {"a": received}, {}, [DocLine("a", received + 1, price)], tolerance)
    assert over.exceptions == ("over_received:a",)


@given(st.integers(1, 10_000), st.integers(0, 1_000), st.integers(0, 20_000))
def test_a_price_matches_exactly_up_to_the_tolerance(
    price: int, tolerance: int, asked: int
) -> None:
    found = match([DocLine("a", 1, price)], {"a": 1}, {}, [DocLine("a", 1, max(asked, 1))],
                  tolerance)  # fmt: skip
    within = max(asked, 1) * 10_000 <= price * (10_000 + tolerance)
    assert found.matched is within
