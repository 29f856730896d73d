"""What payments asks compliance before money leaves the platform: is this party held?

Before its unit of work, a withdrawal or a payout run calls :meth:`ComplianceHolds.catch_up`
(a party not yet screened against the active list is screened, its case opened and committed);
inside it, :meth:`ComplianceHolds.hold_of`. An answer refuses the withdrawal
(``ComplianceHold``, nothing moves) or keeps the merchant out of the payout batch (a
``payout_held`` event) until the case behind it is decided. Compliance implements the port
(``compliance/aml/service.py``); the composition root wires it.
"""

from __future__ import annotations

from typing import Protocol

from embedfin.ledger.service import LedgerTransaction


class ComplianceHolds(Protocol):
    def catch_up(self, party_kind: str | None = None, party_id: str | None = None) -> int:
        """Screen the parties not yet screened against the active list (own unit of work)."""
        ...

    def hold_of(self, tx: LedgerTransaction, party_kind: str, party_id: str) -> str | None:
        """Why ``party_kind`` (``buyer`` or ``merchant``) ``party_id`` may not be paid out, or
        ``None`` when it may."""
        ...


class NoHolds:
    """No compliance screening wired: nobody is held."""

    def catch_up(self, party_kind: str | None = None, party_id: str | None = None) -> int:
        return 0

    def hold_of(self, tx: LedgerTransaction, party_kind: str, party_id: str) -> str | None:
        return None
