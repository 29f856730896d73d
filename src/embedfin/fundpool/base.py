"""What the fund pool's services share: the tenant, the clock's day, request ids and replays."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from embedfin.core.clock import ns_to_datetime
from embedfin.core.errors import CurrencyMismatch, InvalidAmount, InvalidInput
from embedfin.core.money import Money
from embedfin.fundpool.store import Fund, FundStore
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.requests import check_request_id


def new_id(prefix: str, tenant: str, request_id: str) -> str:
    """A stable id for what a request makes: a retry makes the same."""
    digest = hashlib.sha256(f"fundpool\x1f{tenant}\x1f{request_id}".encode()).hexdigest()
    return f"{prefix}_{digest[:24]}"


def fingerprint_of(kind: str, *args: object) -> str:
    return hashlib.sha256(json.dumps([kind, *args], default=str).encode()).hexdigest()


class FundContext:
    """One tenant's fund pool: its ledger, clock and rows."""

    def __init__(self, ledger: Ledger, tenant: str) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.clock = ledger.clock
        self.store = FundStore(tenant)

    def today(self) -> date:
        """The fund's calendar day: the ledger clock's date in UTC."""
        return ns_to_datetime(self.clock.now_ns()).date()

    def now(self) -> int:
        return self.clock.now_ns()

    def replayed(
        self, tx: LedgerTransaction, request_id: str, fingerprint: str
    ) -> dict[str, Any] | None:
        check_request_id(request_id)
        return self.store.replay(tx.conn, request_id, fingerprint)

    def done(
        self, tx: LedgerTransaction, request_id: str, kind: str, fund_id: str, fingerprint: str,
        result: object,
    ) -> None:  # fmt: skip
        self.store.record(tx.conn, request_id, kind, fund_id, fingerprint, result, self.now())


E = TypeVar("E", bound=StrEnum)


def choice(kind: type[E], label: str, value: object) -> E:
    """``value`` as a member of ``kind``, or ``InvalidInput`` naming the choices."""
    try:
        return kind(str(value))
    except ValueError:
        names = ", ".join(m.value for m in kind)
        raise InvalidInput(f"{label} is one of {names}, not {value!r}") from None


def check_amount(fund: Fund, amount: Money) -> int:
    """A positive amount in the fund's currency, in minor units."""
    if amount.currency != fund.currency:
        raise CurrencyMismatch(f"fund {fund.fund_id} is in {fund.currency}, not {amount.currency}")
    if amount.amount_minor <= 0:
        raise InvalidAmount("an amount is positive")
    return amount.amount_minor
