"""Invariants of the ledger, verified on any database (``embedfin check``).

1. Per ledger, the sum of debits equals the sum of credits (posted and pending alike).
2. No balance is negative; no flagged account is beyond its limit.
3. Every account's balances equal what its transfers add up to (posted from single-phase and
   posting transfers, pending from pending transfers still open).
4. Every pending transfer has exactly one state and is posted, voided or expired at most once,
   by a transfer of the matching kind.

Other contexts have invariants of their own (e.g. "customer liabilities = safeguarded reserve");
the composition root lists them (``embedfin.bootstrap.INVARIANTS``) and passes them to ``check``,
which runs them after these.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from embedfin.db.types import decode_id
from embedfin.ledger.codec import ACCOUNT_COLUMNS, account_from_row
from embedfin.ledger.types import AccountFlags

_SAMPLE = 10


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant. Attributes: invariant (short name), detail (for people)."""

    invariant: str
    detail: str


@dataclass(slots=True)
class CheckReport:
    """What ``check`` looked at and what it found."""

    checked: dict[str, bool] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    accounts: int = 0
    transfers: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations

    def fail(self, invariant: str, detail: str) -> None:
        self.violations.append(Violation(invariant, detail))


Invariant = Callable[[Connection, CheckReport], None]


def check(conn: Connection, invariants: Sequence[tuple[str, Invariant]] = ()) -> CheckReport:
    """The ledger's invariants, then ``invariants`` (name, check) in order."""
    report = CheckReport()
    for name, invariant in (
        ("ledger_balances", _balances_and_limits),
        ("balances_match_transfers", _balances_match_transfers),
        ("pending_transfers_resolved_once", _pending_resolution),
        *invariants,
    ):
        before = len(report.violations)
        invariant(conn, report)
        report.checked[name] = len(report.violations) == before
    return report


def _hex(value: object) -> str:
    decoded = decode_id(value)
    return f"{decoded:x}" if decoded is not None else "NULL"


def _balances_and_limits(conn: Connection, report: CheckReport) -> None:
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    over_limit = 0
    for row in conn.exec_driver_sql(f"SELECT {ACCOUNT_COLUMNS} FROM accounts"):
        a = account_from_row(row)
        report.accounts += 1
        t = totals[a.ledger]
        t[0] += a.debits_posted
        t[1] += a.credits_posted
        t[2] += a.debits_pending
        t[3] += a.credits_pending
        if min(a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted) < 0:
            report.fail("non_negative_balances", f"account {a.id:x} has a negative balance")
        dr_limited = a.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
        cr_limited = a.flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
        beyond = (dr_limited and a.debits_pending + a.debits_posted > a.credits_posted) or (
            cr_limited and a.credits_pending + a.credits_posted > a.debits_posted
        )
        if beyond:
            over_limit += 1
            if over_limit <= _SAMPLE:
                report.fail("account_limits", f"account {a.id:x} is beyond its limit: {a}")
    for ledger, (dpo, cpo, dp, cp) in sorted(totals.items()):
        if dpo != cpo:
            report.fail(
                "debits_equal_credits",
                f"ledger {ledger}: posted debits {dpo} != posted credits {cpo}",
            )
        if dp != cp:
            report.fail(
                "debits_equal_credits",
                f"ledger {ledger}: pending debits {dp} != pending credits {cp}",
            )


def _balances_match_transfers(conn: Connection, report: CheckReport) -> None:
    report.transfers = int(conn.exec_driver_sql("SELECT COUNT(*) FROM transfers").scalar_one())
    expected: dict[bytes | str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    queries = (
        (0, "debit_account_id", "(flags & 10) = 0", ""),
        (1, "credit_account_id", "(flags & 10) = 0", ""),
        (2, "debit_account_id", "p.status = 1", "JOIN pending_transfers p ON p.id = t.id"),
        (3, "credit_account_id", "p.status = 1", "JOIN pending_transfers p ON p.id = t.id"),
    )
    for slot, column, where, join in queries:
        sql = f"SELECT t.{column}, SUM(t.amount) FROM transfers t {join} WHERE {where}"
        for account_id, total in conn.exec_driver_sql(f"{sql} GROUP BY t.{column}"):
            expected[_key(account_id)][slot] = int(total)
    mismatches = 0
    rows = conn.exec_driver_sql(
        "SELECT id, debits_posted, credits_posted, debits_pending, credits_pending FROM accounts"
    )
    seen: set[bytes | str] = set()
    for account_id, dpo, cpo, dp, cp in rows:
        key = _key(account_id)
        seen.add(key)
        if [dpo, cpo, dp, cp] != expected.get(key, [0, 0, 0, 0]):
            mismatches += 1
            if mismatches <= _SAMPLE:
                report.fail(
                    "balances_match_transfers",
                    f"account {_hex(account_id)}: stored (dpo, cpo, dp, cp) = "
                    f"{(dpo, cpo, dp, cp)}, transfers add up to {tuple(expected.get(key, []))}",
                )
    orphans = set(expected) - seen
    if orphans:
        report.fail("transfers_reference_accounts", f"{len(orphans)} unknown accounts in transfers")


def _key(value: object) -> bytes | str:
    return value if isinstance(value, bytes) else str(value)


def _pending_resolution(conn: Connection, report: CheckReport) -> None:
    missing = conn.execute(
        text(
            "SELECT t.id FROM transfers t LEFT JOIN pending_transfers p ON p.id = t.id"
            " WHERE (t.flags & 2) != 0 AND p.id IS NULL"
        )
    ).all()
    for (tid,) in missing[:_SAMPLE]:
        report.fail("pending_state", f"pending transfer {_hex(tid)} has no state row")
    stray = conn.execute(
        text(
            "SELECT p.id FROM pending_transfers p LEFT JOIN transfers t ON t.id = p.id"
            " WHERE t.id IS NULL OR (t.flags & 2) = 0"
        )
    ).all()
    for (pid,) in stray[:_SAMPLE]:
        report.fail("pending_state", f"state row {_hex(pid)} is not a pending transfer")
    twice = conn.execute(
        text(
            "SELECT pending_id, COUNT(*) FROM transfers WHERE (flags & 12) != 0"
            " GROUP BY pending_id HAVING COUNT(*) > 1"
        )
    ).all()
    for pid, count in twice[:_SAMPLE]:
        report.fail("pending_resolved_once", f"pending {_hex(pid)} resolved {count} times")
    wrong = conn.execute(
        text(
            "SELECT p.id, p.status, r.id FROM pending_transfers p"
            " LEFT JOIN transfers r ON r.pending_id = p.id AND (r.flags & 12) != 0"
            " WHERE (p.status = 1 AND r.id IS NOT NULL)"
            " OR (p.status = 2 AND (r.id IS NULL OR (r.flags & 4) = 0 OR p.resolved_by != r.id))"
            " OR (p.status = 3 AND (r.id IS NULL OR (r.flags & 8) = 0 OR p.resolved_by != r.id))"
            " OR (p.status = 4 AND (r.id IS NOT NULL OR p.expires_at = 0"
            "     OR p.resolved_at < p.expires_at))"
            " OR p.status NOT IN (1, 2, 3, 4)"
        )
    ).all()
    names = {1: "pending", 2: "posted", 3: "voided", 4: "expired"}
    for pid, status, rid in wrong[:_SAMPLE]:
        report.fail(
            "pending_resolved_once",
            f"pending {_hex(pid)} is {names.get(status, status)} but its resolving transfer"
            f" is {_hex(rid) if rid is not None else 'missing'}",
        )
