"""What a tenant's receivable certificates look like now: parties, certificates, payables,
their events and how far the credit reached. Read in the caller's unit of work when there is
one (``Ledger.current``), so a command's own writes are visible to the answer it builds.
"""

from __future__ import annotations

from embedfin.ledger.service import Ledger
from embedfin.scf.reach import Reach, reach
from embedfin.scf.store import (
    Certificate,
    CertificateStatus,
    Event,
    Party,
    Payable,
    PayableStatus,
    Role,
    ScfStore,
    require,
)

REACH_LIMIT = 100_000


class CertificateReads:
    """The queries of ``Certificates`` (its commands are in ``service.py``)."""

    ledger: Ledger
    store: ScfStore

    def party(self, party_id: str) -> Party:
        with self.ledger.current() as conn:
            return require(self.store.party(conn, party_id), f"party {party_id}")

    def parties(self, role: Role | None = None) -> list[Party]:
        with self.ledger.current() as conn:
            return self.store.parties(conn, role)

    def certificate(self, certificate_id: str) -> Certificate:
        with self.ledger.current() as conn:
            found = self.store.certificate(conn, certificate_id)
            return require(found, f"certificate {certificate_id}")

    def certificates(
        self,
        *,
        payable_id: str | None = None,
        holder_id: str | None = None,
        status: CertificateStatus | None = None,
        limit: int = 1000,
    ) -> list[Certificate]:
        with self.ledger.current() as conn:
            return self.store.certificates(
                conn, payable_id=payable_id, holder_id=holder_id, status=status, limit=limit
            )

    def payable(self, payable_id: str) -> Payable:
        with self.ledger.current() as conn:
            return require(self.store.payable(conn, payable_id), f"payable {payable_id}")

    def payables(
        self, *, status: PayableStatus | None = None, core_id: str | None = None
    ) -> list[Payable]:
        with self.ledger.current() as conn:
            statuses = () if status is None else (status,)
            return self.store.payables(conn, statuses=statuses, core_id=core_id)

    def reach(self, core_id: str | None = None, limit: int = REACH_LIMIT) -> list[Reach]:
        """Per tier, the suppliers reached, the volume received and what was discounted (of
        one core enterprise's payables, or all), over at most ``limit`` certificates."""
        with self.ledger.current() as conn:
            ids = None if core_id is None else {
                p.payable_id for p in self.store.payables(conn, core_id=core_id, limit=limit)
            }  # fmt: skip
            every = self.store.certificates(conn, limit=limit)
        return reach(c for c in every if ids is None or c.payable_id in ids)

    def event(self, request_id: str) -> Event:
        """The recorded command of ``request_id`` (the one that made a certificate: its
        ``made_by``), with its index in the ``scf`` log."""
        with self.ledger.current() as conn:
            found = self.store.event(conn, request_id)
        return require(None if found is None else found[1], f"event {request_id}")

    def events(self, payable_id: str) -> list[Event]:
        """Every event of a payable's certificates, in log order, with its log index."""
        with self.ledger.current() as conn:
            require(self.store.payable(conn, payable_id), f"payable {payable_id}")
            return self.store.events(conn, payable_id)
