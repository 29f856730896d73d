"""Order financing on both stores: a supplier advanced a share of a confirmed purchase order,
the funder repaid first out of the buyer's payment; bad input and repeats refused and nothing
written; a retry replays; ``embedfin check`` holds and catches a forged advance."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from embedfin.bootstrap import check_all
from embedfin.core.errors import (
    EmbedfinError,
    IdempotencyMismatch,
    InsufficientFunds,
    InvalidStateTransition,
    NotFound,
)
from embedfin.db.tables import scf_advances
from embedfin.scf.advances import AdvanceRefused, Terms, terms, waterfall
from embedfin.scf.orders import OrderStatus
from tests.scf.conftest import BANK, CORE, S1, S2, Chain, available, cny
from tests.scf.test_service import _counts, _funds_held


def test_terms_round_the_advance_down_and_the_fee_half_even() -> None:
    assert terms(1_000_001, 8_000, 150) == Terms(800_000, 12_000)
    assert terms(333, 5_000, 100) == Terms(166, 2)  # 1.66 → 2
    assert terms(250, 1_000, 100) == Terms(25, 0)  # 0.25 → 0
    assert waterfall(1_000, Terms(800, 12)) == (812, 188)
    assert waterfall(1_000, None) == (0, 1_000)
    for bad in ((100, 0, 0), (100, 9_001, 0), (100, 5_000, 1_001), (100, 5_000, -1),
                (1, 5_000, 0), (100, True, 0), (100, 5_000.0, 0)):  # fmt: skip
        with pytest.raises(AdvanceRefused):
            terms(*bad)


def test_the_funder_is_repaid_first_out_of_the_buyers_payment(chain: Chain) -> None:
    orders = chain.services.scf_orders
    order = orders.place("po-1", CORE, S1, "PO-77", cny(1_000_000), chain.days(60))
    assert order.status is OrderStatus.CONFIRMED
    s1, bank = available(chain.services, S1), _funds_held(chain, BANK)
    advance = orders.advance("adv-1", order.po_id, BANK, 8_000, 150)
    assert (advance.advance_minor, advance.fee_minor) == (800_000, 12_000)
    assert available(chain.services, S1) - s1 == 800_000
    assert bank - _funds_held(chain, BANK) == 800_000
    assert orders.receive("rcv-1", order.po_id).status is OrderStatus.RECEIVED
    core = available(chain.services, CORE)
    paid = orders.pay("pay-1", order.po_id)
    assert paid.status is OrderStatus.PAID
    assert core - available(chain.services, CORE) == 1_000_000
    assert available(chain.services, S1) - s1 == 800_000 + 188_000
    assert _funds_held(chain, BANK) - bank == 12_000  # the fee
    assert orders.advance_of(order.po_id).repaid  # type: ignore[union-attr]
    assert orders.pay("pay-1", order.po_id) == paid  # a retry
    with pytest.raises(InvalidStateTransition):
        orders.pay("pay-2", order.po_id)
    with pytest.raises(InvalidStateTransition):
        orders.advance("adv-2", order.po_id, BANK, 5_000, 0)
    with chain.scf.ledger.reader() as conn:
        events = [e.kind for e in chain.scf.store.events(conn, order.po_id)]
        report = check_all(conn)
    assert events == ["po_place", "advance", "po_receive", "po_pay"]
    assert report.ok, report.violations


def test_an_order_without_an_advance_pays_the_supplier_in_full(sqlite_chain: Chain) -> None:
    chain = sqlite_chain
    orders = chain.services.scf_orders
    order = orders.place("po-1", CORE, S2, "PO-1", cny(50_000), chain.days(10))
    s2 = available(chain.services, S2)
    orders.pay("pay-1", order.po_id)
    assert available(chain.services, S2) - s2 == 50_000


@pytest.mark.parametrize(
    ("what", "command", "error"),
    [
        (
            "a second advance",
            lambda o, po: (
                o.advance("a1", po, BANK, 5_000, 0),
                o.advance("a2", po, BANK, 5_000, 0),
            ),
            InvalidStateTransition,
        ),
        ("an advance past 90%", lambda o, po: o.advance("a", po, BANK, 9_500, 0), AdvanceRefused),
        ("a supplier funding", lambda o, po: o.advance("a", po, S2, 5_000, 0), EmbedfinError),
        ("an unknown order", lambda o, po: o.advance("a", "po_nope", BANK, 5_000, 0), NotFound),
        (
            "an unfunded funder",
            lambda o, po: o.advance("a", po, "bank-0", 5_000, 0),
            InsufficientFunds,
        ),
        (
            "an order past a year",
            lambda o, po: o.place(
                "p", CORE, S1, "X", cny(5), o.certificates.today().replace(year=2030)
            ),
            AdvanceRefused,
        ),
        (
            "an order by a supplier",
            lambda o, po: o.place("p", S1, S2, "X", cny(5), o.certificates.today()),
            EmbedfinError,
        ),
        (
            "the same order twice",
            lambda o, po: o.place(
                "p", CORE, S1, "PO-1", cny(9), o.certificates.today().replace(day=28)
            ),
            EmbedfinError,
        ),
        ("another command's request id", lambda o, po: o.receive("po-1", po), IdempotencyMismatch),
    ],
)
def test_bad_order_commands_are_refused_and_write_nothing(
    sqlite_chain: Chain, what: str, command: object, error: type[Exception]
) -> None:
    chain = sqlite_chain
    chain.scf.register("bank-0", "funder", "An unfunded bank")
    orders = chain.services.scf_orders
    order = orders.place("po-1", CORE, S1, "PO-1", cny(100_000), chain.days(30))
    before = _counts(chain)
    with pytest.raises(error):
        command(orders, order.po_id)  # type: ignore[operator]
    if what != "a second advance":
        assert _counts(chain) == before


def test_a_forged_advance_is_caught(sqlite_chain: Chain) -> None:
    chain = sqlite_chain
    orders = chain.services.scf_orders
    order = orders.place("po-1", CORE, S1, "PO-1", cny(100_000), chain.days(30))
    orders.advance("a-1", order.po_id, BANK, 5_000, 100)
    with chain.scf.ledger.transaction() as tx:
        tx.conn.execute(update(scf_advances).values(advance_minor=90_000))
    with chain.scf.ledger.reader() as conn:
        failed = {v.invariant for v in check_all(conn).violations}
    assert failed == {"advances_match_ledger"}
