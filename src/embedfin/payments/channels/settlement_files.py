"""A channel's daily settlement file, written from the acquirer's records (pure).

The two formats ``payments/reconciliation/statements.py`` reads: CSV (``reference, amount,
currency, value_date, type``; amounts in major units, exact) and ISO 20022 camt.053.001.08
(``BkToCstmrStmt``: one ``Ntry`` per movement, ``CRDT`` for a charge collected for the merchant,
``DBIT`` for a refund, the charge's reference in ``EndToEndId``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from xml.etree.ElementTree import Element, SubElement, tostring

from embedfin.core.money import Money

CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"

Movement = tuple[str, Money]


def render(movements: Sequence[Movement], day: date, fmt: str, channel: str, account: str) -> bytes:
    """The file in ``fmt`` (csv or camt053)."""
    if fmt == "csv":
        return to_csv(movements, day)
    if fmt == "camt053":
        return to_camt053(movements, day, channel, account)
    raise ValueError("format is csv or camt053")


def to_csv(movements: Sequence[Movement], day: date) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["reference", "amount", "currency", "value_date", "type"])
    for reference, money in movements:
        kind = "refund" if money.amount_minor < 0 else "payment"
        magnitude = Money(abs(money.amount_minor), money.currency)
        writer.writerow(
            [reference, f"{magnitude.decimal:f}", money.currency, day.isoformat(), kind]
        )
    return buffer.getvalue().encode()


def to_camt053(movements: Sequence[Movement], day: date, channel: str, account: str) -> bytes:
    document = Element("Document", xmlns=CAMT_NS)
    statement_root = SubElement(document, "BkToCstmrStmt")
    header = SubElement(statement_root, "GrpHdr")
    SubElement(header, "MsgId").text = f"{channel}-{account}-{day.isoformat()}"
    SubElement(header, "CreDtTm").text = f"{day.isoformat()}T23:59:59Z"
    statement = SubElement(statement_root, "Stmt")
    SubElement(statement, "Id").text = f"{channel}-{day.isoformat()}"
    SubElement(SubElement(SubElement(statement, "Acct"), "Id"), "Othr").text = account
    for n, (reference, money) in enumerate(movements, start=1):
        entry = SubElement(statement, "Ntry")
        amount = SubElement(entry, "Amt", Ccy=money.currency)
        amount.text = f"{Money(abs(money.amount_minor), money.currency).decimal:f}"
        SubElement(entry, "CdtDbtInd").text = "DBIT" if money.amount_minor < 0 else "CRDT"
        SubElement(SubElement(entry, "Sts"), "Cd").text = "BOOK"
        SubElement(SubElement(entry, "BookgDt"), "Dt").text = day.isoformat()
        SubElement(SubElement(entry, "ValDt"), "Dt").text = day.isoformat()
        SubElement(entry, "AcctSvcrRef").text = f"{channel}-{day.isoformat()}-{n}"
        refs = SubElement(SubElement(SubElement(entry, "NtryDtls"), "TxDtls"), "Refs")
        SubElement(refs, "EndToEndId").text = reference
    body = tostring(document, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()
