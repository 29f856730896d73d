"""The refunds' port to lending: what a refund needs of the loan that paid an order.

Lending implements ``Financing`` (``lending.servicing``) and the composition root hands it to
``Refunds``; payments never imports lending. Kept in its own module so that lending depends on
this small contract, not on the refund service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from embedfin.ledger.service import LedgerTransaction
from embedfin.payments.chart import AccountKey


@dataclass(frozen=True, slots=True)
class FinancedLoan:
    """What a refund needs to know of the loan that paid an order.

    Attributes:
        loan_id: the loan.
        principal_outstanding_minor: what the refund pays down first.
        funds_held: the custodial account the loan's share goes back to (the funder's cash
            held in the client reserve).
    """

    loan_id: str
    principal_outstanding_minor: int
    funds_held: AccountKey


class Financing(Protocol):
    """The refund policy's port to lending (lending implements it; payments never imports it)."""

    def loan_of_order(self, tx: LedgerTransaction, order_id: str) -> FinancedLoan | None:
        """The loan that paid ``order_id`` (locked for this unit of work), if any."""
        ...

    def apply_refund(
        self, tx: LedgerTransaction, loan: FinancedLoan, amount_minor: int, request_id: str
    ) -> None:
        """Book the lender's side of ``amount_minor`` refunded to the loan, in ``tx``."""
        ...
