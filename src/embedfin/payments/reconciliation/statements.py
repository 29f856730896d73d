"""Channel settlement files: CSV and ISO 20022 camt.053, parsed into statement lines.

CSV columns (header required): ``reference, amount, currency, value_date`` and optionally
``type`` (payment | refund). Amounts are decimal strings in major units, parsed exactly.

camt.053 (BankToCustomerStatement, any ``camt.053.001.xx`` version): each ``Ntry`` gives the
amount (``Amt/@Ccy``), the direction (``CdtDbtInd``: CRDT = money to us), the value date
(``ValDt/Dt``, else ``BookgDt/Dt``) and the reference (``NtryDtls/TxDtls/Refs/EndToEndId``, else
``AcctSvcrRef``). XML is parsed with defusedxml (no entity expansion, no external fetches).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeXml

from embedfin.core.errors import InvalidInput
from embedfin.core.money import Money, parse_money


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One movement the channel reports.

    Attributes:
        reference: what ties it to our books (the channel charge reference).
        amount: positive for money collected for us, negative for refunds.
        value_date: when the channel says it happened.
        line_no: position in the file, for people reading the breaks.
    """

    reference: str
    amount: Money
    value_date: date
    line_no: int


def parse_statement(source: Path | bytes) -> list[StatementLine]:
    """A statement file (or its bytes): camt.053 XML or CSV, told apart by the content."""
    data = source if isinstance(source, bytes) else source.read_bytes()
    if data.lstrip().startswith(b"<"):
        return parse_camt053(data)
    try:
        return parse_csv(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise InvalidInput("a CSV statement must be UTF-8 text") from error
    except csv.Error as error:  # malformed quoting, stray carriage returns, …
        raise InvalidInput(f"not a readable CSV statement: {error}") from error


def parse_csv(text: str) -> list[StatementLine]:
    reader = csv.DictReader(io.StringIO(text))
    needed = {"reference", "amount", "currency", "value_date"}
    if reader.fieldnames is None or not needed <= {f.strip() for f in reader.fieldnames}:
        raise InvalidInput(f"CSV statement needs the columns {sorted(needed)}")
    lines = []
    for n, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        try:
            amount = parse_money(row["amount"], row["currency"])
            day = date.fromisoformat(row["value_date"])
        except ValueError as error:
            raise InvalidInput(f"line {n}: {error}") from None
        if row.get("type", "payment") == "refund" and amount.amount_minor > 0:
            amount = -amount
        if not row["reference"]:
            raise InvalidInput(f"line {n}: empty reference")
        lines.append(StatementLine(row["reference"], amount, day, n))
    return lines


def parse_camt053(data: bytes) -> list[StatementLine]:
    try:
        root = SafeXml.fromstring(data)
    except Exception as error:  # defusedxml raises several types for hostile or broken XML
        raise InvalidInput(f"not a readable camt.053 document: {error}") from None
    ns = root.tag.partition("}")[0] + "}" if root.tag.startswith("{") else ""
    if "camt.053" not in ns:
        raise InvalidInput("the XML is not a camt.053 BankToCustomerStatement")
    lines = []
    for n, entry in enumerate(root.iter(f"{ns}Ntry"), start=1):
        amount_el = _one(entry, f"{ns}Amt", n)
        amount = parse_money(amount_el.text or "", amount_el.get("Ccy", ""))
        direction = _text(entry, f"{ns}CdtDbtInd")
        if direction == "DBIT":
            amount = -amount
        day_text = _text(entry, f"{ns}ValDt/{ns}Dt") or _text(entry, f"{ns}BookgDt/{ns}Dt")
        reference = _text(entry, f".//{ns}TxDtls/{ns}Refs/{ns}EndToEndId") or _text(
            entry, f"{ns}AcctSvcrRef"
        )
        if not day_text or not reference:
            raise InvalidInput(f"entry {n}: missing date or reference")
        lines.append(StatementLine(reference, amount, date.fromisoformat(day_text[:10]), n))
    return lines


def _one(entry: Element, path: str, n: int) -> Element:
    found = entry.find(path)
    if found is None:
        raise InvalidInput(f"entry {n}: no {path.rpartition('}')[2]}")
    return found


def _text(entry: Element, path: str) -> str:
    found = entry.find(path)
    return (found.text or "").strip() if found is not None else ""
