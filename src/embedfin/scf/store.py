"""Supply-chain finance's rows, mapped to and from records: ``scf_parties``, ``scf_payables``,
``scf_certificates`` and ``scf_events`` (one per command: the idempotency record). Only ``scf``
writes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Connection, RowMapping, insert, select, update

from embedfin.core.errors import IdempotencyMismatch, NotFound
from embedfin.db.tables import scf_certificates, scf_events, scf_parties, scf_payables


class Role(StrEnum):
    """Who a party is in the chain: the core enterprise whose credit the certificates carry, a
    supplier of any tier, a funder that discounts certificates and lends, or a distributor (a
    merchant holding stock it borrows on)."""

    CORE = "core"
    SUPPLIER = "supplier"
    FUNDER = "funder"
    DISTRIBUTOR = "distributor"


class PayableStatus(StrEnum):
    OUTSTANDING = "outstanding"
    OVERDUE = "overdue"
    SETTLED = "settled"


class CertificateStatus(StrEnum):
    """``live`` certificates hold the payable's money; ``retired`` ones were split, transferred
    or discounted into others (their balance is zero); ``settled`` ones were paid."""

    LIVE = "live"
    RETIRED = "retired"
    SETTLED = "settled"


@dataclass(frozen=True, slots=True)
class Party:
    """A party of the tenant's supply chains.

    Attributes:
        discount_rate, overdue_rate, day_basis: a core enterprise's terms — the annual rate its
            certificates are discounted at, the rate its late payments accrue at, and the days
            of a year they count (360 or 365). ``None`` for others.
    """

    party_id: str
    role: Role
    name: str
    discount_rate: Decimal | None = None
    overdue_rate: Decimal | None = None
    day_basis: int | None = None


@dataclass(frozen=True, slots=True)
class Payable:
    """A core enterprise's confirmed payable to its tier-1 supplier, once certified."""

    payable_id: str
    core_id: str
    supplier_id: str
    payable_ref: str
    currency: str
    face_minor: int
    issued_on: date
    matures_on: date
    status: PayableStatus
    overdue_since: date | None = None
    settled_on: date | None = None
    late_interest_minor: int = 0


@dataclass(frozen=True, slots=True)
class Certificate:
    """One receivable certificate: a share of a payable held by one party.

    Attributes:
        tier: how far down the chain its holder is (1: the core enterprise's own supplier; a
            transfer adds one; a funder keeps the tier of the supplier it bought from).
        price_minor: what a funder paid for it (``None`` unless a funder holds it).
        made_by, retired_by: the request ids that made and retired it.
    """

    certificate_id: str
    payable_id: str
    parent_id: str | None
    holder_id: str
    holder_role: Role
    tier: int
    face_minor: int
    price_minor: int | None
    status: CertificateStatus
    made_by: str
    retired_by: str | None
    made_on: date
    currency: str
    matures_on: date


@dataclass(frozen=True, slots=True)
class Event:
    """A command as recorded: what it did, its result and its entry in the ``scf`` log."""

    request_id: str
    kind: str
    payable_id: str
    certificate_id: str
    result: dict[str, Any]
    log_index: int
    on_date: date


T = TypeVar("T")
_P, _Y, _C, _E = scf_parties.c, scf_payables.c, scf_certificates.c, scf_events.c


#: A certificate with its payable's currency and maturity (facts that never change).
_CERTIFICATES = select(scf_certificates, _Y.currency, _Y.matures_on).join(
    scf_payables, (_Y.tenant == _C.tenant) & (_Y.payable_id == _C.payable_id)
)


class ScfStore:
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant

    # --- parties -----------------------------------------------------------------------------
    def insert_party(self, conn: Connection, party: Party, now: int) -> None:
        conn.execute(
            insert(scf_parties).values(
                tenant=self.tenant,
                party_id=party.party_id,
                role=party.role.value,
                name=party.name,
                discount_rate=_text(party.discount_rate),
                overdue_rate=_text(party.overdue_rate),
                day_basis=party.day_basis,
                created_at=now,
            )
        )

    def party(self, conn: Connection, party_id: str) -> Party | None:
        query = select(scf_parties).where(_P.tenant == self.tenant, _P.party_id == party_id)
        row = conn.execute(query).mappings().first()
        return _party(row) if row else None

    def parties(self, conn: Connection, role: Role | None = None) -> list[Party]:
        query = select(scf_parties).where(_P.tenant == self.tenant).order_by(_P.party_id)
        if role is not None:
            query = query.where(_P.role == role.value)
        return [_party(r) for r in conn.execute(query).mappings()]

    # --- payables ----------------------------------------------------------------------------
    def insert_payable(self, conn: Connection, payable: Payable, now: int) -> None:
        conn.execute(insert(scf_payables).values(**payable_row(self.tenant, payable, now)))

    def payable(self, conn: Connection, payable_id: str, lock: bool = False) -> Payable | None:
        query = select(scf_payables).where(_Y.tenant == self.tenant, _Y.payable_id == payable_id)
        row = conn.execute(query.with_for_update() if lock else query).mappings().first()
        return _payable(row) if row else None

    def payable_of_ref(self, conn: Connection, core_id: str, payable_ref: str) -> str | None:
        return conn.execute(
            select(_Y.payable_id).where(
                _Y.tenant == self.tenant, _Y.core_id == core_id, _Y.payable_ref == payable_ref
            )
        ).scalar_one_or_none()

    def save_payable(self, conn: Connection, payable: Payable) -> None:
        values = payable_row(self.tenant, payable, 0)
        for key in ("tenant", "payable_id", "created_at"):
            values.pop(key)
        conn.execute(
            update(scf_payables)
            .where(_Y.tenant == self.tenant, _Y.payable_id == payable.payable_id)
            .values(**values)
        )

    def payables(
        self,
        conn: Connection,
        *,
        statuses: Iterable[PayableStatus] = (),
        matures_by: date | None = None,
        core_id: str | None = None,
        limit: int = 1000,
    ) -> list[Payable]:
        query = select(scf_payables).where(_Y.tenant == self.tenant)
        if wanted := [s.value for s in statuses]:
            query = query.where(_Y.status.in_(wanted))
        if matures_by is not None:
            query = query.where(_Y.matures_on <= matures_by.isoformat())
        if core_id is not None:
            query = query.where(_Y.core_id == core_id)
        query = query.order_by(_Y.matures_on, _Y.payable_id).limit(limit)
        return [_payable(r) for r in conn.execute(query).mappings()]

    # --- certificates ------------------------------------------------------------------------
    def insert_certificates(self, conn: Connection, made: Sequence[Certificate], now: int) -> None:
        conn.execute(
            insert(scf_certificates),
            [
                {
                    "tenant": self.tenant,
                    "certificate_id": c.certificate_id,
                    "payable_id": c.payable_id,
                    "parent_id": c.parent_id,
                    "holder_id": c.holder_id,
                    "holder_role": c.holder_role.value,
                    "tier": c.tier,
                    "face_minor": c.face_minor,
                    "price_minor": c.price_minor,
                    "status": c.status.value,
                    "made_by": c.made_by,
                    "retired_by": c.retired_by,
                    "made_on": c.made_on.isoformat(),
                    "created_at": now,
                }
                for c in made
            ],
        )

    def certificate(
        self, conn: Connection, certificate_id: str, lock: bool = False
    ) -> Certificate | None:
        query = _CERTIFICATES.where(_C.tenant == self.tenant, _C.certificate_id == certificate_id)
        locked = query.with_for_update(of=scf_certificates) if lock else query
        row = conn.execute(locked).mappings().first()
        return _certificate(row) if row else None

    def certificates(
        self,
        conn: Connection,
        *,
        payable_id: str | None = None,
        holder_id: str | None = None,
        status: CertificateStatus | None = None,
        lock: bool = False,
        limit: int = 1000,
    ) -> list[Certificate]:
        query = _CERTIFICATES.where(_C.tenant == self.tenant)
        if payable_id is not None:
            query = query.where(_C.payable_id == payable_id)
        if holder_id is not None:
            query = query.where(_C.holder_id == holder_id)
        if status is not None:
            query = query.where(_C.status == status.value)
        query = query.order_by(_C.created_at, _C.certificate_id).limit(limit)
        rows = conn.execute(query.with_for_update(of=scf_certificates) if lock else query)
        return [_certificate(r) for r in rows.mappings()]

    def retire(
        self,
        conn: Connection,
        certificate_ids: Sequence[str],
        status: CertificateStatus,
        request_id: str,
    ) -> None:
        conn.execute(
            update(scf_certificates)
            .where(_C.tenant == self.tenant, _C.certificate_id.in_(list(certificate_ids)))
            .values(status=status.value, retired_by=request_id)
        )

    # --- events ------------------------------------------------------------------------------
    def event(self, conn: Connection, request_id: str) -> tuple[str, Event] | None:
        """The recorded command of ``request_id`` and its fingerprint, if any."""
        query = select(scf_events).where(_E.tenant == self.tenant, _E.request_id == request_id)
        row = conn.execute(query).mappings().first()
        return (row["fingerprint"], _event(row)) if row else None

    def replay(self, conn: Connection, request_id: str, fingerprint: str) -> Event | None:
        """The result of a command already done under ``request_id``; ``IdempotencyMismatch``
        if that was another command."""
        found = self.event(conn, request_id)
        if found is None:
            return None
        stored, event = found
        if stored != fingerprint:
            raise IdempotencyMismatch(f"request_id {request_id!r} was another {event.kind}")
        return event

    def insert_event(self, conn: Connection, event: Event, fingerprint: str, now: int) -> None:
        conn.execute(
            insert(scf_events).values(
                tenant=self.tenant,
                request_id=event.request_id,
                kind=event.kind,
                payable_id=event.payable_id,
                certificate_id=event.certificate_id,
                fingerprint=fingerprint,
                result=json.dumps(event.result, sort_keys=True),
                log_index=event.log_index,
                on_date=event.on_date.isoformat(),
                created_at=now,
            )
        )

    def events(self, conn: Connection, payable_id: str) -> list[Event]:
        query = (
            select(scf_events)
            .where(_E.tenant == self.tenant, _E.payable_id == payable_id)
            .order_by(_E.log_index)
        )
        return [_event(r) for r in conn.execute(query).mappings()]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _party(row: RowMapping) -> Party:
    rate, late = row["discount_rate"], row["overdue_rate"]
    return Party(
        row["party_id"],
        Role(row["role"]),
        row["name"],
        None if rate is None else Decimal(rate),
        None if late is None else Decimal(late),
        row["day_basis"],
    )


def payable_row(tenant: str, p: Payable, now: int) -> dict[str, object]:
    return {
        "tenant": tenant,
        "payable_id": p.payable_id,
        "core_id": p.core_id,
        "supplier_id": p.supplier_id,
        "payable_ref": p.payable_ref,
        "currency": p.currency,
        "face_minor": p.face_minor,
        "issued_on": p.issued_on.isoformat(),
        "matures_on": p.matures_on.isoformat(),
        "status": p.status.value,
        "overdue_since": p.overdue_since.isoformat() if p.overdue_since else None,
        "settled_on": p.settled_on.isoformat() if p.settled_on else None,
        "late_interest_minor": p.late_interest_minor,
        "created_at": now,
    }


def _payable(row: RowMapping) -> Payable:
    return Payable(
        row["payable_id"],
        row["core_id"],
        row["supplier_id"],
        row["payable_ref"],
        row["currency"],
        int(row["face_minor"]),
        date.fromisoformat(row["issued_on"]),
        date.fromisoformat(row["matures_on"]),
        PayableStatus(row["status"]),
        _day(row["overdue_since"]),
        _day(row["settled_on"]),
        int(row["late_interest_minor"]),
    )


def _certificate(row: RowMapping) -> Certificate:
    price = row["price_minor"]
    return Certificate(
        row["certificate_id"],
        row["payable_id"],
        row["parent_id"],
        row["holder_id"],
        Role(row["holder_role"]),
        int(row["tier"]),
        int(row["face_minor"]),
        None if price is None else int(price),
        CertificateStatus(row["status"]),
        row["made_by"],
        row["retired_by"],
        date.fromisoformat(row["made_on"]),
        row["currency"],
        date.fromisoformat(row["matures_on"]),
    )


def _event(row: RowMapping) -> Event:
    return Event(
        row["request_id"],
        row["kind"],
        row["payable_id"],
        row["certificate_id"],
        json.loads(row["result"]),
        int(row["log_index"]),
        date.fromisoformat(row["on_date"]),
    )


def require(found: T | None, what: str) -> T:
    """``found``, or ``NotFound`` naming ``what``."""
    if found is None:
        raise NotFound(f"no {what}")
    return found
