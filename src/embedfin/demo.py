"""The main job until the full demo lands: a small marketplace day on a fresh ledger.

Buyers top up wallets through a card channel, check out into escrow (two-phase holds), some
orders ship and are released to merchants minus commission (linked transfers), one order is
cancelled, one over-spend is refused, one retry is answered ``exists``, merchants are paid
out; then balances and the invariant check are shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from embedfin.core.clock import ManualClock
from embedfin.core.ids import new_id
from embedfin.core.money import Money, currency, parse_money
from embedfin.db.engine import DEFAULT_DATA_DIR
from embedfin.ledger.service import Ledger
from embedfin.ledger.types import (
    AMOUNT_MAX,
    Account,
    AccountFlags,
    CreateTransferResult,
    Transfer,
    TransferFlags,
)

LIMITED = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
TEN_DAYS_S = 10 * 24 * 3600


@dataclass
class DemoRun:
    """What the demo did, for the CLI to show."""

    url: str
    names: dict[int, str] = field(default_factory=dict)
    assets: set[int] = field(default_factory=set)
    results: Counter[str] = field(default_factory=Counter)
    steps: list[tuple[str, list[CreateTransferResult]]] = field(default_factory=list)


def fresh_demo_url() -> str:
    path = DEFAULT_DATA_DIR / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def run_demo(url: str) -> tuple[Ledger, DemoRun]:
    clock = ManualClock()
    ledger = Ledger.open(url, clock)
    run = DemoRun(url)
    usd = currency("USD").numeric
    jpy = currency("JPY").numeric

    def account(name: str, ledger_no: int, code: int, flags: int = 0) -> int:
        account_id = new_id()
        run.names[account_id] = name
        if code < 100:  # codes below 100 are assets: debit-normal
            run.assets.add(account_id)
        accounts.append(Account(account_id, ledger_no, code, flags))
        return account_id

    accounts: list[Account] = []
    reserve = account("safeguarded reserve (USD)", usd, 1)
    clearing = account("card channel clearing (USD)", usd, 2)
    escrow = account("escrow: held for orders (USD)", usd, 300, LIMITED | AccountFlags.HISTORY)
    commission = account("platform commission (USD)", usd, 400, LIMITED)
    buyers = [account(f"buyer wallet {n} (USD)", usd, 100, LIMITED) for n in "ABCD"]
    merchants = [account(f"merchant wallet {n} (USD)", usd, 200, LIMITED) for n in "XY"]
    jpy_clearing = account("QR channel clearing (JPY)", jpy, 2)
    jpy_buyer = account("buyer wallet E (JPY)", jpy, 100, LIMITED)
    jpy_merchant = account("merchant wallet Z (JPY)", jpy, 200, LIMITED)
    assert set(ledger.create_accounts(accounts)) == {"ok"}

    def usd_amount(text: str) -> int:
        return parse_money(text, "USD").amount_minor

    def step(label: str, batch: list[Transfer]) -> list[CreateTransferResult]:
        results = ledger.create_transfers(batch)
        run.steps.append((label, results))
        run.results.update(str(r) for r in results)
        return results

    top_ups = [
        Transfer(new_id(), clearing, b, usd_amount(a), usd, 1)
        for b, a in zip(buyers, ("120.00", "45.50", "300.00", "15.00"), strict=True)
    ]
    step("buyers top up their wallets by card", top_ups)
    settled = sum(t.amount for t in top_ups)
    step(
        "card channel settles into the safeguarded reserve",
        [Transfer(new_id(), reserve, clearing, settled, usd, 2)],
    )

    orders = [
        (buyers[0], merchants[0], "89.99"),
        (buyers[1], merchants[1], "45.50"),
        (buyers[2], merchants[0], "250.00"),
        (buyers[3], merchants[1], "15.00"),
    ]
    holds = [
        Transfer(
            new_id(), b, escrow, usd_amount(a), usd, 3, TransferFlags.PENDING, timeout=TEN_DAYS_S
        )
        for b, _m, a in orders
    ]
    step("checkout: buyers' payments held in escrow (two-phase)", holds)
    step(
        "buyer D tries to spend more than the wallet holds",
        [Transfer(new_id(), buyers[3], merchants[1], usd_amount("50.00"), usd, 4)],
    )
    clock.advance(seconds=3 * 24 * 3600)
    step(
        "order 4 cancelled before shipment: hold voided",
        [
            Transfer(
                new_id(), 0, 0, 0, 0, 0, TransferFlags.VOID_PENDING_TRANSFER, pending_id=holds[3].id
            )
        ],
    )
    releases: list[Transfer] = []
    for hold, (_b, merchant, _a) in zip(holds[:3], orders[:3], strict=True):
        fee = Money(hold.amount, "USD").allocate([5, 95])[0].amount_minor  # 5% commission
        releases += [
            Transfer(
                new_id(),
                0,
                0,
                AMOUNT_MAX,
                0,
                0,
                TransferFlags.POST_PENDING_TRANSFER | TransferFlags.LINKED,
                pending_id=hold.id,
            ),
            Transfer(new_id(), escrow, merchant, hold.amount - fee, usd, 5, TransferFlags.LINKED),
            Transfer(new_id(), escrow, commission, fee, usd, 6),
        ]
    step("receipt confirmed: escrow released to merchants minus 5% commission (linked)", releases)
    step("a client retries the same release batch: nothing moves twice", releases)
    payout = Transfer(new_id(), merchants[0], reserve, usd_amount("200.00"), usd, 7)
    step("merchant X paid out to its bank account", [payout])
    step(
        "JPY: QR top-up and a purchase (zero-decimal currency)",
        [
            Transfer(new_id(), jpy_clearing, jpy_buyer, 12_000, jpy, 1),
            Transfer(new_id(), jpy_buyer, jpy_merchant, 4_980, jpy, 4),
        ],
    )
    return ledger, run
