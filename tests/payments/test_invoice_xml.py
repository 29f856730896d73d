"""The invoice document: the template path writes exactly what drafthorse writes."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from xml.etree import ElementTree

from drafthorse.utils import validate_xml
from hypothesis import given
from hypothesis import strategies as st

from embedfin.commerce.orders import GoodsKind, Order, OrderLine
from embedfin.commerce.store import Merchant
from embedfin.core.clock import NS_PER_SECOND
from embedfin.payments.invoices import xml as invoice_xml
from embedfin.payments.invoices.xml import render_invoice, render_with_drafthorse

PLAIN = string.ascii_letters + string.digits + "._:/@+-"
names = st.text(PLAIN, min_size=1, max_size=20).filter(lambda t: t[0].isalnum())
any_names = st.text(min_size=1, max_size=20).filter(lambda t: t.isprintable() and t.strip())
lines = st.lists(
    st.builds(
        OrderLine,
        names,
        st.integers(1, 10_000),
        st.integers(0, 10**10),
    ),
    min_size=1,
    max_size=4,
)


def _order(order_id: str, buyer_id: str, merchant_id: str, currency: str) -> Order:
    return Order("t", order_id, buyer_id, merchant_id, currency, 0, "books", GoodsKind.PHYSICAL)


def _merchant(merchant_id: str, currency: str, country: str) -> Merchant:
    return Merchant("t", merchant_id, "verified", "books", country, currency, "t1", 0)


@given(
    names,
    names,
    names,
    names,
    st.sampled_from(["EUR", "JPY", "USD", "BHD"]),
    st.sampled_from(["DE", "FR", "CN"]),
    lines,
    st.integers(0, 4 * 10**18),
)
def test_the_template_path_writes_the_bytes_drafthorse_writes(
    order_id: str,
    buyer_id: str,
    merchant_id: str,
    invoice_id: str,
    currency: str,
    country: str,
    order_lines: list[OrderLine],
    issued_ns: int,
) -> None:
    order = _order(order_id, buyer_id, merchant_id, currency)
    merchant = _merchant(merchant_id, currency, country)
    fast = render_invoice(order, merchant, order_lines, invoice_id, issued_ns)
    assert fast == render_with_drafthorse(order, merchant, order_lines, invoice_id, issued_ns)
    assert invoice_xml._templates[(len(order_lines), currency, country)] is not None


@given(any_names, lines)
def test_text_that_needs_escaping_is_rendered_by_drafthorse(
    sku: str, order_lines: list[OrderLine]
) -> None:
    order = _order("o-1", "b&<1>", "m-1", "EUR")
    merchant = _merchant("m-1", "EUR", "DE")
    with_sku = [OrderLine(sku, 1, 100), *order_lines]
    fast = render_invoice(order, merchant, with_sku, "INV-1", 10**18)
    assert fast == render_with_drafthorse(order, merchant, with_sku, "INV-1", 10**18)
    ElementTree.fromstring(fast)  # well-formed


def test_a_template_invoice_is_valid_against_the_schema() -> None:
    order = _order("o-7", "b-7", "m-7", "EUR")
    xml = render_invoice(order, _merchant("m-7", "EUR", "DE"), [OrderLine("x", 3, 1_234)], "I-7", 0)
    validate_xml(xml, invoice_xml.SCHEMA)  # raises when the document breaks the XSD


def test_a_template_keeps_percent_signs_of_the_document_as_they_are() -> None:
    template = invoice_xml._Template((b"<a>100%", b"</a><b>%s %%", b"</b>"), (1, 0))
    assert template.fill(["x", "y"]) == b"<a>100%y</a><b>%s %%x</b>"


def test_the_issue_date_text_is_what_strftime_writes() -> None:
    for year, month, day in [(1901, 2, 3), (2026, 12, 31), (999, 1, 9), (2096, 7, 4)]:
        issued = datetime(year, month, day, 13, tzinfo=UTC)
        ns = int(issued.timestamp()) * NS_PER_SECOND
        assert invoice_xml._date_text(ns) == issued.date().strftime("%Y%m%d")
