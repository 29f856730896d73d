"""The fund pool's invariants, run by ``embedfin check``:

* ``fund_units_match_holdings`` — per fund, the holders' units (``fundpool_holdings``) sum to
  the ledger's units outstanding, and the T+1 redemptions not yet paid sum to what the fund owes
  its holders, the fast ones not yet repaid to what it owes its facility and what the facility
  advanced;
* ``fund_net_assets_match_units`` — units × 1.00 = net assets: the fund's cash, assets at
  amortised cost and income receivable, less what it owes on redemptions and the income not yet
  distributed, equal its units outstanding, and each asset's ledger balance is its cost while it
  is live and zero once matured;
* ``fund_income_distributed_or_carried`` — accrued = distributed + carried: the income and fees
  of every accrued day, plus the fees waiting for the next, less what became units, is the
  undistributed income on the ledger, and that (in nano-minor units) is exactly the fund's
  residue plus every holder's carried fraction plus the waiting fees;
* ``fund_money_outside_safeguarding`` — no fund account is counted in the safeguarding
  equation, every fund transfer moves either two accounts of the fund's books or a wallet and
  the client reserve (never one of each), and the money that left the reserve for the fund
  (subscriptions less redemptions paid) is the money the fund's books received from investors.

Each reports at most a sample of violations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import Connection, text

from embedfin.fundpool import chart
from embedfin.fundpool.accrual import SCALE
from embedfin.fundpool.chart import FundAccountCode
from embedfin.ledger.check import CheckReport
from embedfin.payments.chart import (
    CUSTOMER_LIABILITIES,
    SAFEGUARDED_ASSETS,
    UNSWEPT_PLATFORM_FUNDS,
)

SAMPLE = 10
FUND_KINDS = ("fund", "fund_asset", "fund_facility")
F = FundAccountCode
_DEBIT_NORMAL = {F.FUND_CASH, F.TERM_DEPOSIT, F.SHORT_BOND, F.REVERSE_REPO, F.INCOME_RECEIVABLE,
                 F.FACILITY_CASH, F.FACILITY_ADVANCES}  # fmt: skip
Key = tuple[str, str]


def _reporter(report: CheckReport, name: str) -> Callable[[str], None]:
    failures = 0

    def fail(detail: str) -> None:
        nonlocal failures
        failures += 1
        if failures <= SAMPLE:
            report.fail(name, detail)

    return fail


def _books(conn: Connection) -> dict[tuple[str, str, str, int], int]:
    """(tenant, owner kind, owner id, code) → balance on the account's normal side."""
    rows = conn.execute(
        text(
            "SELECT pa.tenant, pa.owner_kind, pa.owner_id, pa.code,"
            " a.debits_posted - a.credits_posted"
            " FROM payment_accounts pa JOIN accounts a ON a.id = pa.account_id"
            " WHERE pa.code BETWEEN 3000 AND 3999"
        )
    ).all()
    return {
        (r[0], r[1], r[2], int(r[3])): int(r[4]) if int(r[3]) in _DEBIT_NORMAL else -int(r[4])
        for r in rows
    }


def _funds(conn: Connection) -> dict[Key, tuple[int, int]]:
    rows = conn.execute(
        text("SELECT tenant, fund_id, residue_nano, fees_pending_minor FROM fundpool_funds")
    ).all()
    return {(r[0], r[1]): (int(r[2]), int(r[3])) for r in rows}


def _sums(conn: Connection, sql: str) -> dict[Key, tuple[int, ...]]:
    return {(r[0], r[1]): tuple(int(v or 0) for v in r[2:]) for r in conn.execute(text(sql))}


def fund_units_match_holdings(conn: Connection, report: CheckReport) -> None:
    fail = _reporter(report, "fund_units_match_holdings")
    books = _books(conn)
    held = _sums(conn, "SELECT tenant, fund_id, SUM(units_minor) FROM fundpool_holdings"
                       " GROUP BY tenant, fund_id")  # fmt: skip
    owed = _sums(conn, "SELECT tenant, fund_id,"
                       " SUM(CASE WHEN status = 'pending' THEN amount_minor - fee_minor END),"
                       " SUM(CASE WHEN status = 'advanced' THEN amount_minor - fee_minor END)"
                       " FROM fundpool_redemptions GROUP BY tenant, fund_id")  # fmt: skip
    for tenant, fund_id in _funds(conn):
        key = (tenant, fund_id)
        units = books.get((tenant, "fund", fund_id, F.UNITS_OUTSTANDING), 0)
        if held.get(key, (0,))[0] != units:
            fail(f"tenant {tenant}, fund {fund_id}: holdings {held.get(key, (0,))[0]}"
                 f" != units outstanding {units}")  # fmt: skip
        pending, advanced = owed.get(key, (0, 0))
        to_holders = books.get((tenant, "fund", fund_id, F.REDEMPTIONS_PAYABLE), 0)
        to_facility = books.get((tenant, "fund_facility", fund_id, F.REDEMPTIONS_PAYABLE), 0)
        advances = books.get((tenant, "fund_facility", fund_id, F.FACILITY_ADVANCES), 0)
        if (pending, advanced, advanced) != (to_holders, to_facility, advances):
            fail(f"tenant {tenant}, fund {fund_id}: redemptions unpaid {pending} and advanced"
                 f" {advanced} != owed to holders {to_holders}, to the facility {to_facility},"
                 f" advanced by it {advances}")  # fmt: skip


def fund_net_assets_match_units(conn: Connection, report: CheckReport) -> None:
    fail = _reporter(report, "fund_net_assets_match_units")
    books = _books(conn)
    portfolio: dict[Key, int] = defaultdict(int)
    for tenant, asset_id, fund_id, kind, cost, status in conn.execute(
        text("SELECT tenant, asset_id, fund_id, kind, cost_minor, status FROM fundpool_assets")
    ):
        code = FundAccountCode[str(kind).upper()]
        booked = books.get((tenant, "fund_asset", asset_id, code), 0)
        expected = int(cost) if status == "live" else 0
        if booked != expected:
            fail(f"tenant {tenant}, asset {asset_id} ({status}): ledger {booked}, expected"
                 f" {expected}")  # fmt: skip
        portfolio[(tenant, fund_id)] += booked
    for tenant, fund_id in _funds(conn):

        def fund(
            code: FundAccountCode, kind: str = "fund", t: str = tenant, f: str = fund_id
        ) -> int:
            return books.get((t, kind, f, code), 0)

        net = (fund(F.FUND_CASH) + portfolio[(tenant, fund_id)] + fund(F.INCOME_RECEIVABLE)
               - fund(F.REDEMPTIONS_PAYABLE) - fund(F.REDEMPTIONS_PAYABLE, "fund_facility")
               - fund(F.UNDISTRIBUTED_INCOME))  # fmt: skip
        if net != fund(F.UNITS_OUTSTANDING):
            fail(f"tenant {tenant}, fund {fund_id}: net assets {net} != units"
                 f" {fund(F.UNITS_OUTSTANDING)} × 1.00")  # fmt: skip


def fund_income_distributed_or_carried(conn: Connection, report: CheckReport) -> None:
    fail = _reporter(report, "fund_income_distributed_or_carried")
    books = _books(conn)
    days = _sums(conn, "SELECT tenant, fund_id, SUM(income_minor), SUM(fees_minor),"
                       " SUM(distributed_minor) FROM fundpool_days"
                       " GROUP BY tenant, fund_id")  # fmt: skip
    carries = _sums(conn, "SELECT tenant, fund_id, SUM(carry_nano) FROM fundpool_holdings"
                          " GROUP BY tenant, fund_id")  # fmt: skip
    for (tenant, fund_id), (residue, fees_pending) in _funds(conn).items():
        income, fees, distributed = days.get((tenant, fund_id), (0, 0, 0))
        undistributed = books.get((tenant, "fund", fund_id, F.UNDISTRIBUTED_INCOME), 0)
        if income + fees + fees_pending - distributed != undistributed:
            fail(f"tenant {tenant}, fund {fund_id}: accrued {income + fees} + fees waiting"
                 f" {fees_pending} − distributed {distributed} != undistributed"
                 f" {undistributed}")  # fmt: skip
        carried = residue + carries.get((tenant, fund_id), (0,))[0] + fees_pending * SCALE
        if undistributed * SCALE != carried:
            fail(f"tenant {tenant}, fund {fund_id}: undistributed {undistributed} × 10⁹ !="
                 f" residue, carries and waiting fees {carried} (nano-minor)")  # fmt: skip


def fund_money_outside_safeguarding(conn: Connection, report: CheckReport) -> None:
    fail = _reporter(report, "fund_money_outside_safeguarding")
    counted = sorted(set(CUSTOMER_LIABILITIES) | set(SAFEGUARDED_ASSETS)
                     | set(UNSWEPT_PLATFORM_FUNDS))  # fmt: skip
    kinds = ", ".join(f"'{k}'" for k in FUND_KINDS)
    for tenant, kind, owner, code in conn.execute(
        text(f"SELECT tenant, owner_kind, owner_id, code FROM payment_accounts"
             f" WHERE owner_kind IN ({kinds}) AND code IN ({', '.join(map(str, counted))})")
    ):  # fmt: skip
        fail(f"tenant {tenant}: fund account {kind}/{owner} has code {code}, counted as"
             " safeguarded client money")  # fmt: skip
    flows: dict[tuple[str, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for tenant, ledger, code, debit_kind, credit_kind, amount in conn.execute(
        text("SELECT d.tenant, t.ledger, t.code, d.owner_kind, c.owner_kind, t.amount"
             " FROM transfers t JOIN payment_accounts d ON d.account_id = t.debit_account_id"
             " JOIN payment_accounts c ON c.account_id = t.credit_account_id"
             " WHERE t.code BETWEEN 7000 AND 7999")
    ):  # fmt: skip
        inside = (debit_kind in FUND_KINDS, credit_kind in FUND_KINDS)
        expected = (False, False) if code in chart.RESERVE_CODES else (True, True)
        if inside != expected:
            fail(f"tenant {tenant}: a transfer with code {code} moves {debit_kind} →"
                 f" {credit_kind}")  # fmt: skip
        flows[(tenant, int(ledger))][int(code)] += int(amount)
    for (tenant, ledger), by_code in sorted(flows.items()):
        left_reserve = (by_code[chart.CODE_SUBSCRIPTION_PAYMENT] - by_code[chart.CODE_FAST_PAYMENT]
                        - by_code[chart.CODE_REDEMPTION_PAYMENT])  # fmt: skip
        reached_fund = (by_code[chart.CODE_SUBSCRIPTION_UNITS] - by_code[chart.CODE_FAST_ADVANCE]
                        - by_code[chart.CODE_REDEMPTION_SETTLEMENT]
                        + by_code[chart.CODE_FACILITY_REPAID])  # fmt: skip
        if left_reserve != reached_fund:
            fail(f"tenant {tenant}, ledger {ledger}: {left_reserve} left the client reserve for"
                 f" the fund, its books received {reached_fund}")  # fmt: skip
