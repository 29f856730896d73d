"""Supply-chain finance's invariants, run by ``embedfin check``:

* ``certificates_match_ledger`` — every certificate's ledger balance is its face while it is
  live and zero once retired or settled; every payable's balance is what its live certificates
  hold, which is its face until it is settled and zero after. So the parts of a payable can
  never exceed it, and no certificate exists on the ledger without its row or the other way;
* ``advances_match_ledger`` — every order advance's ledger balance is the advance until the
  buyer's payment repays it and zero after, and no advance is on the ledger without its row;
* ``certificate_events_in_log`` — every recorded command's entry is in the tenant's ``scf``
  transparency log at the index it was given, naming that request and that event.

Each reports at most a sample of violations.
"""

from __future__ import annotations

import json
from collections import defaultdict

from sqlalchemy import Connection, text

from embedfin.ledger.check import CheckReport
from embedfin.scf.chart import ScfAccountCode

SAMPLE = 10
_LEDGER = text(
    "SELECT pa.tenant, pa.owner_id, a.debits_posted - a.credits_posted AS balance"
    " FROM payment_accounts pa JOIN accounts a ON a.id = pa.account_id"
    " WHERE pa.owner_kind = :kind AND pa.code = :code"
)


def certificates_match_ledger(conn: Connection, report: CheckReport) -> None:
    name, failures = "certificates_match_ledger", 0

    def fail(detail: str) -> None:
        nonlocal failures
        failures += 1
        if failures <= SAMPLE:
            report.fail(name, detail)

    held = _balances(conn, "certificate", ScfAccountCode.CERTIFICATE_HELD, sign=1)
    owed = _balances(conn, "scf_payable", ScfAccountCode.CERTIFICATE_PAYABLE, sign=-1)
    live: dict[tuple[str, str], int] = defaultdict(int)
    for row in conn.execute(
        text("SELECT tenant, certificate_id, payable_id, face_minor, status FROM scf_certificates")
    ).mappings():
        key = (row["tenant"], row["certificate_id"])
        expected = int(row["face_minor"]) if row["status"] == "live" else 0
        booked = held.pop(key, 0)
        if booked != expected:
            fail(f"tenant {key[0]}, certificate {key[1]} ({row['status']}): ledger {booked},"
                 f" expected {expected}")  # fmt: skip
        live[(row["tenant"], row["payable_id"])] += expected
    for (tenant, certificate_id), booked in list(held.items())[:SAMPLE]:
        fail(f"tenant {tenant}: a ledger certificate {certificate_id} ({booked}) has no row")
    for row in conn.execute(
        text("SELECT tenant, payable_id, face_minor, status FROM scf_payables")
    ).mappings():
        key = (row["tenant"], row["payable_id"])
        expected = 0 if row["status"] == "settled" else int(row["face_minor"])
        booked = owed.pop(key, 0)
        if not booked == live[key] == expected:
            fail(f"tenant {key[0]}, payable {key[1]} ({row['status']}): ledger {booked}, live"
                 f" certificates {live[key]}, expected {expected}")  # fmt: skip
    for (tenant, payable_id), booked in list(owed.items())[:SAMPLE]:
        fail(f"tenant {tenant}: a ledger payable {payable_id} ({booked}) has no row")


def advances_match_ledger(conn: Connection, report: CheckReport) -> None:
    name, failures = "advances_match_ledger", 0
    booked = _balances(conn, "scf_order", ScfAccountCode.ORDER_ADVANCE, sign=1)
    for row in conn.execute(
        text("SELECT tenant, po_id, advance_minor, status FROM scf_advances")
    ).mappings():
        key = (row["tenant"], row["po_id"])
        expected = int(row["advance_minor"]) if row["status"] == "outstanding" else 0
        found = booked.pop(key, 0)
        if found != expected:
            failures += 1
            if failures <= SAMPLE:
                report.fail(name, f"tenant {key[0]}, order {key[1]} ({row['status']}): ledger"
                                  f" {found}, expected {expected}")  # fmt: skip
    for (tenant, po_id), found in list(booked.items())[:SAMPLE]:
        report.fail(name, f"tenant {tenant}: a ledger advance on {po_id} ({found}) has no row")


def inventory_loans_match_ledger(conn: Connection, report: CheckReport) -> None:
    """Each inventory facility's drawn amount is its inventory loan's balance on the ledger."""
    name, failures = "inventory_loans_match_ledger", 0
    booked = _balances(conn, "scf_inventory", ScfAccountCode.INVENTORY_LOAN, sign=1)
    rows = conn.execute(
        text("SELECT tenant, facility_id, drawn_minor FROM scf_inventory_facilities")
    ).mappings()
    for row in rows:
        key = (row["tenant"], row["facility_id"])
        found, expected = booked.pop(key, 0), int(row["drawn_minor"])
        if found != expected:
            failures += 1
            if failures <= SAMPLE:
                report.fail(name, f"tenant {key[0]}, facility {key[1]}: ledger {found},"
                                  f" drawn {expected}")  # fmt: skip
    for (tenant, facility_id), found in list(booked.items())[:SAMPLE]:
        report.fail(name, f"tenant {tenant}: a ledger inventory loan {facility_id} ({found})"
                          " has no facility")  # fmt: skip


def certificate_events_in_log(conn: Connection, report: CheckReport) -> None:
    name, failures = "certificate_events_in_log", 0
    for row in conn.execute(
        text(
            "SELECT ev.tenant, ev.request_id, ev.kind, ev.log_index, en.body"
            " FROM scf_events ev"
            " LEFT JOIN tlog_logs lg ON lg.tenant = ev.tenant AND lg.log_id = 'scf'"
            " LEFT JOIN tlog_entries en ON en.log_key = lg.log_key AND en.idx = ev.log_index"
        )
    ).mappings():
        body = _json(row["body"])
        if body.get("request_id") == row["request_id"] and body.get("event") == row["kind"]:
            continue
        failures += 1
        if failures <= SAMPLE:
            where = f"tenant {row['tenant']}, request {row['request_id']}"
            report.fail(name, f"{where}: entry {row['log_index']} of the scf log is not its"
                              f" {row['kind']}")  # fmt: skip


def _balances(
    conn: Connection, kind: str, code: ScfAccountCode, sign: int
) -> dict[tuple[str, str], int]:
    return {
        (tenant, owner): sign * int(balance)
        for tenant, owner, balance in conn.execute(_LEDGER, {"kind": kind, "code": int(code)})
    }


def _json(body: str | None) -> dict[str, object]:
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
