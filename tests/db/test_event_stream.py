"""The event stream as the API pages it: newest first, per tenant, by type, by event id."""

from __future__ import annotations

import pytest

from embedfin.core.errors import NotFound
from embedfin.core.events import Event
from embedfin.db import event_stream
from embedfin.db.outbox import append_events
from embedfin.ledger.service import Ledger


def _append(ledger: Ledger, *events: Event) -> None:
    with ledger.transaction() as tx:
        append_events(tx.conn, list(events))


def _event(n: int, type_: str = "order_paid", tenant: str = "shop-1") -> Event:
    return Event(type_, "order", f"o-{n}", {"n": n}, n, tenant, event_id=f"{n:032x}")


def test_events_page_newest_first_and_stay_in_their_tenant(ledger: Ledger) -> None:
    _append(ledger, _event(1), _event(2), _event(3, tenant="shop-2"), _event(4))
    with ledger.reader() as conn:
        first, more = event_stream.list_events(conn, "shop-1", 2)
        rest, last = event_stream.list_events(conn, "shop-1", 2, "evt_" + first[-1].event.event_id)
    assert more
    assert not last
    assert [e.event.aggregate_id for e in first + rest] == ["o-4", "o-2", "o-1"]
    assert first[0].event.payload == {"n": 4}


def test_events_are_filtered_by_type(ledger: Ledger) -> None:
    _append(ledger, _event(1), _event(2, "order_shipped"), _event(3))
    with ledger.reader() as conn:
        shipped, _ = event_stream.list_events(conn, "shop-1", 10, event_type="order_shipped")
    assert [e.event.aggregate_id for e in shipped] == ["o-2"]


def test_an_event_is_found_by_id_in_its_tenant_only(ledger: Ledger) -> None:
    _append(ledger, _event(1))
    event_id = _event(1).event_id
    with ledger.reader() as conn:
        found = event_stream.find_event(conn, "shop-1", "evt_" + event_id)
        assert found is not None
        assert found.event.type == "order_paid"
        assert event_stream.find_event(conn, "shop-2", event_id) is None
        with pytest.raises(NotFound):
            event_stream.list_events(conn, "shop-2", 10, event_id)
