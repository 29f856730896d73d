"""The composition root's chart: the real blocks combine, keep their numbers, match their docs."""

from __future__ import annotations

import re
from itertools import pairwise
from types import ModuleType

import pytest

from embedfin import bootstrap
from embedfin.fundpool import chart as fundpool_chart
from embedfin.ledger import chart as ledger_chart
from embedfin.ledger.chart import NormalSide
from embedfin.lending import chart as lending_chart
from embedfin.payments import chart as payments_chart
from embedfin.scf import chart as scf_chart

#: Every account code and the flags its accounts were opened with before the chart moved into
#: the ledger. Stored accounts carry both: a changed number orphans them, changed flags make the
#: ledger answer ``exists_with_different_flags`` when a service reopens one.
STORED_ACCOUNT_FLAGS = {
    1: 4, 2: 4, 10: 0, 20: 0, 100: 10, 200: 10, 210: 10, 220: 10, 300: 10, 400: 2, 410: 0, 420: 2,
    500: 0, 900: 0, 1100: 4, 1200: 4, 1210: 4, 1220: 4, 1250: 0, 1400: 0, 1410: 0, 1500: 0,
    1510: 0, 1900: 0, 2100: 2, 2110: 4, 2200: 4, 2210: 0, 2300: 4, 2310: 0, 2400: 4, 2410: 0,
    3000: 4, 3010: 4, 3020: 4, 3030: 4, 3040: 0, 3100: 2, 3110: 2, 3120: 2, 3300: 4, 3310: 0,
    3320: 4,
}  # fmt: skip
#: Every transfer code stored before the registry existed.
STORED_TRANSFER_CODES = {
    1001, 1002, 1003, 1004, 1005, 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2010, 2011, 2012,
    3001, 3002, 3003, 3004, 3005, 3006, 4001, 4002,
    5001, 5002, 5010, 5011, 5020, 5021, 5030, 5031, 5032, 5033, 5041, 5050, 5060, 5070,
    5080, 5081, 6001, 6002, 6003, 6004, 6005, 6006, 6010, 6011, 6012, 6013, 6020,
    6021, 6022, 6023, 6024, 6025, 6030, 6031, 6032, 6033, 6034,
    7001, 7002, 7010, 7011, 7012, 7013, 7014, 7015, 7016, 7020, 7021, 7022, 7030, 7031, 7040,
}  # fmt: skip
CHARTS = [payments_chart, lending_chart, scf_chart, fundpool_chart]
_ROW = re.compile(r"^(?P<name>\S.*?)\s{2,}(?P<code>\d+)\s{2,}(?P<rest>\S.*)$", re.M)
_RESERVED = re.compile(r"^(\w+)\s+(\d+) –\s+(\d+)\s+(\d+) –\s+(\d+)\s", re.M)


def test_the_real_chart_builds_without_collisions() -> None:
    chart = bootstrap.build_chart()
    assert [b.context for b in chart.blocks] == ["payments", "lending", "scf", "fundpool"]
    assert chart.name_of_account(300) == "escrow"
    assert chart.name_of_transfer(5030) == "repay"


def test_every_stored_code_keeps_its_number() -> None:
    chart = bootstrap.build_chart()
    assert {t.code for t in chart.transfers} == STORED_TRANSFER_CODES
    assert {t.code: int(t.flags) for t in chart.accounts} == STORED_ACCOUNT_FLAGS


def test_each_block_claims_the_ranges_its_context_reserved() -> None:
    doc = ledger_chart.__doc__ or ""
    reserved = {
        context: ((int(a), int(b)), (int(c), int(d)))
        for context, a, b, c, d in _RESERVED.findall(doc)
    }
    assert set(reserved) >= {"payments", "lending", "scf", "fundpool", "risk", "compliance"}
    for block in bootstrap.build_chart().blocks:
        claimed = (
            (block.account_codes.first, block.account_codes.last),
            (
                block.transfer_codes.first,
                block.transfer_codes.last,
            ),
        )
        assert reserved[block.context] == claimed


def test_the_reserved_ranges_do_not_overlap() -> None:
    rows = _RESERVED.findall(ledger_chart.__doc__ or "")
    for kind in (0, 1):
        spans = sorted((int(row[1 + 2 * kind]), int(row[2 + 2 * kind])) for row in rows)
        assert all(a_last < b_first for (_, a_last), (b_first, _) in pairwise(spans))


@pytest.mark.parametrize("module", CHARTS, ids=lambda m: m.CONTEXT)
def test_the_account_table_in_the_docstring_is_the_block(module: ModuleType) -> None:
    rows = {
        int(m["code"]): (m["name"].lower(), m["rest"].split()[0])
        for m in _ROW.finditer(module.__doc__ or "")
        if re.match(r"(debit|credit)\s{2,}", m["rest"])
    }
    declared = {t.code: (t.name.replace("_", " "), str(t.normal)) for t in module.BLOCK.accounts}
    assert rows == declared


@pytest.mark.parametrize("module", CHARTS, ids=lambda m: m.CONTEXT)
def test_the_transfer_table_in_the_docstring_is_the_block(module: ModuleType) -> None:
    rows = {
        int(m["code"]): m["name"]
        for m in _ROW.finditer(module.__doc__ or "")
        if "→" in m["rest"] or "⇄" in m["rest"]
    }
    assert rows == {t.code: t.name.replace("_", " ") for t in module.BLOCK.transfers}


def test_assets_and_expenses_are_debit_normal() -> None:
    chart = bootstrap.build_chart()
    debit = {t.name for t in chart.accounts if t.normal is NormalSide.DEBIT}
    assert debit == {
        "client_reserve",
        "channel_clearing",
        "platform_operating",
        "fx_position",
        "channel_fee_expense",
        "lender_cash",
        "loan_principal",
        "loan_interest_due",
        "loan_fees_due",
        "credit_loss_expense",
        "platform_fee_expense",
        "certificate_held",
        "discounted_certificates",
        "order_advance",
        "inventory_loan",
        "fund_cash",
        "term_deposit",
        "short_bond",
        "reverse_repo",
        "income_receivable",
        "facility_cash",
        "facility_advances",
    }
