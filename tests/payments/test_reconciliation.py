"""Reconciliation of channel settlement files (CSV, camt.053) against attempts and the ledger."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from embedfin.cli import app
from embedfin.commerce.orders import OrderLine
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.ledger.service import Ledger
from embedfin.payments.channels.checkout import ChannelPayments
from embedfin.payments.channels.processors import ChannelKind, FeeSchedule, SimulatedProcessor
from embedfin.payments.channels.routing import Router
from embedfin.payments.escrow.checkout import Checkout
from embedfin.payments.reconciliation.matching import Break, BreakKind, Reconciliation
from embedfin.payments.reconciliation.statements import parse_camt053

TENANT = "shop-1"
DAY = "2026-01-01"  # ManualClock's start


@pytest.fixture
def paid(ledger: Ledger) -> tuple[Ledger, list[str]]:
    """Three orders paid through the card channel; returns the channel references."""
    shop = Checkout(ledger, TENANT)
    shop.register_merchant("m-1", category="apparel", country="CN", settlement_currency="USD")
    card = SimulatedProcessor(
        "card", ChannelKind.CARD, ["USD"], FeeSchedule(100), approval_rate=1.0, latency_ms=0
    )
    payments = ChannelPayments(shop, Router([card], exploration=0.0))
    refs = []
    for n, price in enumerate((10_000, 2_550, 999)):
        shop.place_order(
            f"o-{n}",
            buyer_id="b-1",
            merchant_id="m-1",
            currency_code="USD",
            lines=[OrderLine("sku", 1, price)],
        )
        payments.pay_order(f"o-{n}", f"pay-{n}")
        refs.append(card.lookup(f"{TENANT}:pay-{n}:card").channel_ref)  # type: ignore[union-attr]
    return ledger, refs


def write_csv(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "settlement.csv"
    body = "\n".join(f"{ref},{amount},USD,{day}" for ref, amount, day in rows)
    path.write_text("reference,amount,currency,value_date\n" + body + "\n")
    return path


def kinds(breaks: Sequence[Break]) -> list[str]:
    return sorted(str(b.kind) for b in breaks)


def test_a_clean_file_matches_every_line(paid: tuple[Ledger, list[str]], tmp_path: Path) -> None:
    ledger, refs = paid
    path = write_csv(
        tmp_path, [(refs[0], "100.00", DAY), (refs[1], "25.50", DAY), (refs[2], "9.99", DAY)]
    )
    report = Reconciliation(ledger, TENANT).run(path, "card")
    assert (report.lines, report.matched, report.breaks) == (3, 3, [])


def test_every_kind_of_break_is_found_and_stored(
    paid: tuple[Ledger, list[str]], tmp_path: Path
) -> None:
    ledger, refs = paid
    path = write_csv(
        tmp_path,
        [
            (refs[0], "100.01", DAY),  # amount differs
            (refs[1], "25.50", "2026-01-05"),  # value date 4 days later
            (refs[1], "25.50", DAY),  # the same reference twice
            ("ch_unknown", "5.00", DAY),  # we never booked it
        ],
    )  # refs[2] is missing from the file
    recon = Reconciliation(ledger, TENANT)
    report = recon.run(path, "card")
    assert kinds(report.breaks) == sorted(
        [
            BreakKind.AMOUNT_MISMATCH,
            BreakKind.TIMING_DIFFERENCE,
            BreakKind.DUPLICATE_IN_FILE,
            BreakKind.MISSING_IN_BOOKS,
            BreakKind.MISSING_IN_FILE,
        ]
    )
    assert len(recon.open_breaks()) == 5
    tolerant = recon.run(path, "card", amount_tolerance_minor=1, date_tolerance_days=5)
    assert BreakKind.AMOUNT_MISMATCH not in kinds(tolerant.breaks)
    assert BreakKind.TIMING_DIFFERENCE not in kinds(tolerant.breaks)


def test_breaks_are_resolved_with_a_note(paid: tuple[Ledger, list[str]], tmp_path: Path) -> None:
    ledger, refs = paid
    recon = Reconciliation(ledger, TENANT)
    recon.run(write_csv(tmp_path, [(refs[0], "99.00", DAY)]), "card")
    first = recon.open_breaks()[0]
    recon.resolve(str(first["break_id"]), "channel confirmed a 1.00 chargeback fee")
    assert str(first["break_id"]) not in {b["break_id"] for b in recon.open_breaks()}
    with pytest.raises(NotFound):
        recon.resolve(str(first["break_id"]), "again")
    with pytest.raises(NotFound):
        Reconciliation(ledger, "shop-2").resolve(str(recon.open_breaks()[0]["break_id"]), "x")


def test_a_payment_missing_from_the_ledger_is_a_three_way_break(
    paid: tuple[Ledger, list[str]], tmp_path: Path
) -> None:
    ledger, refs = paid
    with ledger.engine.begin() as conn:  # simulate a lost ledger write
        conn.execute(text("DELETE FROM transfers WHERE amount = 999"))
    report = Reconciliation(ledger, TENANT).run(
        write_csv(
            tmp_path, [(refs[0], "100.00", DAY), (refs[1], "25.50", DAY), (refs[2], "9.99", DAY)]
        ),
        "card",
    )
    assert kinds(report.breaks) == [BreakKind.MISSING_IN_LEDGER]


CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>STMT-1</MsgId><CreDtTm>2026-01-02T06:00:00Z</CreDtTm></GrpHdr>
  <Stmt>
   <Id>1</Id>
   <Ntry>
    <Amt Ccy="USD">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-01-01</Dt></BookgDt><ValDt><Dt>2026-01-01</Dt></ValDt>
    <NtryDtls><TxDtls><Refs><EndToEndId>{ref0}</EndToEndId></Refs></TxDtls></NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="USD">25.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-01-01</Dt></BookgDt>
    <AcctSvcrRef>{ref1}</AcctSvcrRef>
   </Ntry>
   <Ntry>
    <Amt Ccy="USD">9.99</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-01-01</Dt></BookgDt>
    <NtryDtls><TxDtls><Refs><EndToEndId>{ref2}</EndToEndId></Refs></TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def test_camt053_statement_reconciles_from_the_cli(
    paid: tuple[Ledger, list[str]], tmp_path: Path, db_url: str
) -> None:
    ledger, refs = paid
    path = tmp_path / "statement.xml"
    path.write_text(CAMT.format(ref0=refs[0], ref1=refs[1], ref2=refs[2]))
    result = CliRunner().invoke(
        app, ["recon", str(path), "--channel", "card", "--tenant", TENANT, "--db", db_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["lines"], report["matched"], report["breaks"]) == (3, 3, [])


def test_debit_entries_are_negative_amounts() -> None:
    doc = CAMT.replace(
        "<CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\n    <BookgDt><Dt>"
        "2026-01-01</Dt></BookgDt><ValDt>",
        "<CdtDbtInd>DBIT</CdtDbtInd><ValDt>",
        1,
    )
    lines = parse_camt053(doc.format(ref0="a", ref1="b", ref2="c").encode())
    assert lines[0].amount.amount_minor == -10_000


@pytest.mark.parametrize(
    "content",
    [
        b"reference,amount\nx,1.00\n",
        b"reference,amount,currency,value_date\nx,1.001,USD,2026-01-01\n",
        b"reference,amount,currency,value_date\nx,1.00,USD,yesterday\n",
        b"<Document xmlns='urn:other'><x/></Document>",
        b"<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]>"
        b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'>&b;</Document>",
    ],
)
def test_malformed_and_hostile_files_are_refused(
    content: bytes, tmp_path: Path, paid: tuple[Ledger, list[str]]
) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(InvalidInput):
        Reconciliation(paid[0], TENANT).run(path, "card")


def test_unreadable_statements_are_refused_not_crashed_on() -> None:
    from embedfin.core.errors import InvalidInput
    from embedfin.payments.reconciliation.statements import parse_statement

    for data in (
        b"reference,amount\r\x00\xff",
        b'reference,amount,currency,value_date\n"a\rb',
        "é\r".encode("latin-1"),
    ):
        with pytest.raises(InvalidInput):
            parse_statement(data)


def test_breaks_are_listed_by_id_per_status_and_page(
    paid: tuple[Ledger, list[str]], tmp_path: Path
) -> None:
    ledger, refs = paid
    recon = Reconciliation(ledger, TENANT)
    recon.run(write_csv(tmp_path, [(refs[0], "99.00", DAY), ("ch_unknown", "5.00", DAY)]), "card")
    every, more = recon.list_breaks(10)
    assert not more
    assert [b.break_id for b in every] == sorted(b.break_id for b in every)
    first, more = recon.list_breaks(1)
    assert more
    rest, _ = recon.list_breaks(10, starting_after=first[0].break_id)
    assert [b.break_id for b in first + rest] == [b.break_id for b in every]
    recon.resolve(every[0].break_id, "checked")
    assert recon.get_break(every[0].break_id).status == "resolved"
    assert every[0].break_id not in {b.break_id for b in recon.list_breaks(10, status="open")[0]}
    assert [b.break_id for b in recon.list_breaks(10, status="resolved")[0]] == [every[0].break_id]
    assert Reconciliation(ledger, "shop-2").list_breaks(10) == ([], False)
    with pytest.raises(NotFound):
        Reconciliation(ledger, "shop-2").get_break(every[0].break_id)
