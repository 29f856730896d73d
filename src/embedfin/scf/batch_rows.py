"""The rows a certificate batch reads and writes in bulk: one query per kind of row, whatever
the batch's size (``batch.py``). The records and their mapping are ``store.py``'s."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Connection, bindparam, insert, select, tuple_, update

from embedfin.db.tables import scf_certificates, scf_events, scf_parties, scf_payables
from embedfin.scf.store import (
    _CERTIFICATES,
    Certificate,
    CertificateStatus,
    Event,
    Party,
    Payable,
    _certificate,
    _event,
    _party,
    _payable,
    payable_row,
)

_P, _Y, _C, _E = scf_parties.c, scf_payables.c, scf_certificates.c, scf_events.c


def events_of(
    conn: Connection, tenant: str, request_ids: Collection[str]
) -> dict[str, tuple[str, Event]]:
    """The recorded commands of these request ids, with their fingerprints."""
    if not request_ids:
        return {}
    query = select(scf_events).where(_E.tenant == tenant, _E.request_id.in_(list(request_ids)))
    return {r["request_id"]: (r["fingerprint"], _event(r)) for r in conn.execute(query).mappings()}


def certificates_of(
    conn: Connection, tenant: str, ids: Collection[str], lock: bool
) -> dict[str, Certificate]:
    """These certificates (on PostgreSQL locked, in id order so two batches never deadlock)."""
    if not ids:
        return {}
    query = _CERTIFICATES.where(_C.tenant == tenant, _C.certificate_id.in_(sorted(ids)))
    query = query.order_by(_C.certificate_id)
    rows = conn.execute(query.with_for_update(of=scf_certificates) if lock else query)
    return {c.certificate_id: c for c in map(_certificate, rows.mappings())}


def live_of(
    conn: Connection, tenant: str, payable_ids: Collection[str]
) -> dict[str, list[Certificate]]:
    """The live certificates of these payables, locked, each payable's in the order a single
    settlement reads them."""
    if not payable_ids:
        return {}
    query = (
        _CERTIFICATES.where(_C.tenant == tenant, _C.payable_id.in_(sorted(payable_ids)),
                            _C.status == CertificateStatus.LIVE.value)
        .order_by(_C.created_at, _C.certificate_id)
        .with_for_update(of=scf_certificates)
    )  # fmt: skip
    found: dict[str, list[Certificate]] = {p: [] for p in payable_ids}
    for row in conn.execute(query).mappings():
        found[row["payable_id"]].append(_certificate(row))
    return found


def payables_of(
    conn: Connection, tenant: str, ids: Collection[str], lock: bool
) -> dict[str, Payable]:
    if not ids:
        return {}
    query = select(scf_payables).where(_Y.tenant == tenant, _Y.payable_id.in_(sorted(ids)))
    query = query.order_by(_Y.payable_id)
    rows = conn.execute(query.with_for_update() if lock else query).mappings()
    return {p.payable_id: p for p in map(_payable, rows)}


def certified_refs(
    conn: Connection, tenant: str, refs: Collection[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (core enterprise, payable reference) pairs are certified already."""
    if not refs:
        return set()
    query = select(_Y.core_id, _Y.payable_ref).where(
        _Y.tenant == tenant, tuple_(_Y.core_id, _Y.payable_ref).in_(sorted(refs))
    )
    return {(str(r.core_id), str(r.payable_ref)) for r in conn.execute(query)}


def parties_of(conn: Connection, tenant: str, ids: Collection[str]) -> dict[str, Party]:
    if not ids:
        return {}
    query = select(scf_parties).where(_P.tenant == tenant, _P.party_id.in_(sorted(ids)))
    return {p.party_id: p for p in map(_party, conn.execute(query).mappings())}


def insert_payables(conn: Connection, tenant: str, made: Sequence[Payable], now: int) -> None:
    if made:
        conn.execute(insert(scf_payables), [payable_row(tenant, p, now) for p in made])


def save_payables(conn: Connection, tenant: str, changed: Sequence[Payable]) -> None:
    if not changed:
        return
    keep = ("status", "overdue_since", "settled_on", "late_interest_minor")
    rows = []
    for payable in changed:
        row = payable_row(tenant, payable, 0)
        rows.append({"b_id": payable.payable_id, **{f"b_{k}": row[k] for k in keep}})
    conn.execute(
        update(scf_payables)
        .where(_Y.tenant == tenant, _Y.payable_id == bindparam("b_id"))
        .values({k: bindparam(f"b_{k}") for k in keep}),
        rows,
    )


def retire_each(conn: Connection, tenant: str, retired: Sequence[Certificate]) -> None:
    """Write the final status and retiring request of certificates that existed before."""
    if not retired:
        return
    conn.execute(
        update(scf_certificates)
        .where(_C.tenant == tenant, _C.certificate_id == bindparam("b_id"))
        .values(status=bindparam("b_status"), retired_by=bindparam("b_by")),
        [{"b_id": c.certificate_id, "b_status": c.status.value, "b_by": c.retired_by}
         for c in retired],
    )  # fmt: skip


def insert_events(
    conn: Connection, tenant: str, events: Sequence[tuple[Event, str, str]], now: int
) -> None:
    """Each event with its fingerprint and its result's JSON text (the log entry's own text:
    the same object, already encoded)."""
    if not events:
        return
    conn.execute(
        insert(scf_events),
        [{"tenant": tenant, "request_id": e.request_id, "kind": e.kind,
          "payable_id": e.payable_id, "certificate_id": e.certificate_id, "fingerprint": fp,
          "result": text, "log_index": e.log_index,
          "on_date": e.on_date.isoformat(), "created_at": now}
         for e, fp, text in events],
    )  # fmt: skip
