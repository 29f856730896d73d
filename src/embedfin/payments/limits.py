"""What payments asks compliance before money leaves a wallet balance: does the customer's
verification level allow it?

A wallet payment (an order paid from the balance, ``purchase``) and a withdrawal to the
customer's bank account (``own_bank``) are *balance payments*: before its unit of work plans
them, payments calls :meth:`BalanceLimits.check_many`, which answers each with ``None`` or the
``VerificationLimit`` that refuses it (earlier payments of the same call counted first); after
the unit of work has moved the money, :meth:`BalanceLimits.count_many` adds the payments that
went through to the customer's spend, in the same unit of work. Compliance implements the port
(``compliance/aml/verification.py``); the composition root wires it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from embedfin.core.errors import VerificationLimit
from embedfin.core.money import Money
from embedfin.ledger.service import LedgerTransaction


@dataclass(frozen=True, slots=True)
class BalancePayment:
    buyer_id: str
    amount: Money
    kind: str  # purchase, transfer, own_bank
    at_ns: int


class BalanceLimits(Protocol):
    def check_many(
        self, tx: LedgerTransaction, payments: Sequence[BalancePayment]
    ) -> list[VerificationLimit | None]: ...

    def count_many(self, tx: LedgerTransaction, payments: Sequence[BalancePayment]) -> None: ...


class NoBalanceLimits:
    """No due-diligence limits wired: every balance payment is allowed."""

    def check_many(
        self, tx: LedgerTransaction, payments: Sequence[BalancePayment]
    ) -> list[VerificationLimit | None]:
        return [None] * len(payments)

    def count_many(self, tx: LedgerTransaction, payments: Sequence[BalancePayment]) -> None:
        return None
