"""What payments asks compliance before money leaves the platform: is this party held?

A withdrawal and a payout call :meth:`ComplianceHolds.hold_of` inside their unit of work; an
answer refuses the withdrawal (``ComplianceHold``, nothing moves) or keeps the merchant out of
the payout batch (a ``payout_held`` event) until the case behind it is decided. Compliance
implements the port (``compliance/aml/service.py``); the composition root wires it.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection


class ComplianceHolds(Protocol):
    def hold_of(self, conn: Connection, party_kind: str, party_id: str) -> str | None:
        """Why ``party_kind`` (``buyer`` or ``merchant``) ``party_id`` may not be paid out, or
        ``None`` when it may."""
        ...


class NoHolds:
    """No compliance screening wired: nobody is held."""

    def hold_of(self, conn: Connection, party_kind: str, party_id: str) -> str | None:
        return None
