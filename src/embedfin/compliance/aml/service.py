"""Screening in the platform: the parties it knows, the lists it screens them against, the hits,
and the holds those put on money leaving.

* :meth:`Screening.record` — a party's due-diligence details (a buyer at sign-up, a merchant at
  onboarding, either on every change of name, birth date or country), screened at once against
  the active list. The same details again screen nothing anew.
* :meth:`Screening.load_list` — a FollowTheMoney list (``watchlist.read_ftm``) becomes the
  tenant's active list, and every known party is screened against it in the same unit of work.
  The same list again (same digest) changes nothing.
* A screening that finds hits opens one ``sanctions_hit`` case in the shared queue
  (``risk/cases.py``) for the party; from then on :meth:`Screening.hold_of` (payments'
  ``ComplianceHolds`` port) refuses its withdrawals and keeps it out of payout batches. The
  case is decided ``release`` (a false positive: the hits are ``cleared``) or ``reject`` (a true
  match: ``confirmed``, and the hold stays).

A hit is keyed by the party, the details screened and the list entity: a cleared false positive
stays cleared when a list update still lists the same entity, and any change to the party's
details screens afresh. Names and birth dates are stored encrypted like the customers'.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, text, update

from embedfin.compliance.aml.names import normal_form
from embedfin.compliance.aml.screening import (
    Hit,
    PartyKind,
    ScreeningParams,
    Subject,
    WatchEntry,
    Watchlist,
)
from embedfin.compliance.aml.watchlist import ParsedList
from embedfin.core.clock import Clock
from embedfin.core.countries import check_country
from embedfin.core.errors import InvalidInput, NotFound
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import aml_parties, aml_screening_hits, aml_watch_entries, aml_watchlists
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.requests import check_name
from embedfin.risk.cases import Cases
from embedfin.risk.text import checked_text
from embedfin.security.crypto import FieldCipher, load_cipher, mask_name

PARTY_KINDS = ("buyer", "merchant")
#: A merchant's beneficial owners are screened as parties of their own, ``owner<n>`` with the
#: merchant's id (KYB's n-th owner): a hit on any of them holds the merchant.
MAX_OWNERS = 20
OWNER_KINDS = tuple(f"owner{n}" for n in range(1, MAX_OWNERS + 1))
KINDS: tuple[PartyKind, ...] = ("person", "organization")
#: hit statuses that hold the party's money
HOLDING = ("open", "confirmed")
_P = aml_parties.c
_H = aml_screening_hits.c
_L = aml_watchlists.c


@dataclass(frozen=True, slots=True)
class Party:
    """A party screened: who (``party_kind``: ``buyer`` or ``merchant``) and the details."""

    party_kind: str
    party_id: str
    kind: PartyKind
    name: str
    birth_date: str | None
    country: str | None
    screened_list_id: str | None
    screened_at: int | None
    updated_at: int


@dataclass(frozen=True, slots=True)
class StoredHit:
    hit_id: str
    party_kind: str
    party_id: str
    list_id: str
    entity_id: str
    caption: str
    category: str
    score: float
    reasons: tuple[str, ...]
    status: str
    case_id: str
    created_at: int
    decided_at: int | None


@dataclass(frozen=True, slots=True)
class ListInfo:
    list_id: str
    name: str
    digest: str
    entries: int
    skipped: int
    active: bool
    loaded_at: int
    loaded_by: str


@dataclass(frozen=True, slots=True)
class ListLoaded:
    """A list load: the list, how many parties it screened and how many new hits it found."""

    watchlist: ListInfo
    screened: int
    new_hits: int
    already_active: bool


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _context(tenant: str, party_kind: str, party_id: str, field: str) -> str:
    return f"aml_parties.{field}:{tenant}:{party_kind}:{party_id}"


def _hit(row: Any) -> StoredHit:
    values = dict(row)
    values.pop("tenant")
    values["reasons"] = tuple(json.loads(values["reasons"]))
    return StoredHit(**values)


def _list_info(row: Any) -> ListInfo:
    values = dict(row)
    values.pop("tenant")
    values["active"] = bool(values["active"])
    return ListInfo(**values)


def _entry_body(entry: WatchEntry) -> str:
    return json.dumps(asdict(entry), sort_keys=True, ensure_ascii=False)


def _entry_of(body: str) -> WatchEntry:
    values = json.loads(body)
    for key in ("names", "birth_dates", "countries", "topics", "datasets"):
        values[key] = tuple(values[key])
    return WatchEntry(**values)


def check_subject(
    name: object, kind: object, birth_date: object = None, country: object = None
) -> Subject:
    """The details of a party, or ``InvalidInput`` saying which one is wrong."""
    name = checked_text("name", name, 300)
    if not normal_form(name).tokens:  # refused here, or a later list load could not screen it
        raise InvalidInput("a screened name needs at least one letter or digit")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be person or organization, got {kind!r}")
    if birth_date is not None:
        if kind != "person":
            raise InvalidInput("only a person has a birth date")
        if not isinstance(birth_date, str):
            raise InvalidInput("birth_date is YYYY-MM-DD")
        try:
            born = date.fromisoformat(birth_date)
        except ValueError:
            raise InvalidInput(f"birth_date {birth_date!r} is not a YYYY-MM-DD date") from None
        if len(birth_date) != 10 or born.year < 1880:
            raise InvalidInput(f"birth_date {birth_date!r} is not a YYYY-MM-DD date after 1880")
        if born > datetime.now(UTC).date():
            raise InvalidInput(f"birth_date {birth_date!r} is in the future")
    return Subject(
        name.strip(), birth_date, None if country is None else check_country(country), kind
    )


def rotate_parties(conn: Connection, cipher: FieldCipher) -> int:
    """Re-encrypt the parties' names and birth dates under the primary key (key rotation)."""
    changed = 0
    for row in conn.execute(select(aml_parties)).mappings().all():
        values = {}
        for field in ("name", "birth_date"):
            stored = row[f"{field}_enc"]
            if stored is not None and cipher.needs_rotation(stored):
                context = _context(row["tenant"], row["party_kind"], row["party_id"], field)
                values[f"{field}_enc"] = cipher.rotate(stored, context)
        if values:
            conn.execute(
                update(aml_parties)
                .where(
                    _P.tenant == row["tenant"],
                    _P.party_kind == row["party_kind"],
                    _P.party_id == row["party_id"],
                )
                .values(**values)
            )
            changed += 1
    return changed


def _held_with(party_kind: str) -> tuple[str, ...]:
    """The party kinds whose hits hold a party of ``party_kind``: a merchant's own and its
    beneficial owners'."""
    return (party_kind, *OWNER_KINDS) if party_kind == "merchant" else (party_kind,)


def forget_owners(conn: Connection, tenant: str, merchant_id: str, keep: int) -> None:
    """Drop the screened owner parties of a merchant beyond its first ``keep`` (its owners
    changed); their hits stay, and hold the merchant, until decided."""
    conn.execute(
        delete(aml_parties).where(
            _P.tenant == tenant,
            _P.party_id == merchant_id,
            _P.party_kind.in_(OWNER_KINDS[keep:]),
        )
    )


def hold_reason(hits: Sequence[StoredHit]) -> str | None:
    """Why a party with these hits may not be paid out (the first open or confirmed one), or
    ``None`` when none holds it."""
    for hit in hits:
        if hit.status in HOLDING:
            state = "under review" if hit.status == "open" else "confirmed"
            who = f"{hit.party_kind} {hit.party_id}"
            if hit.party_kind in OWNER_KINDS:
                who = f"merchant {hit.party_id} (its beneficial owner {hit.party_kind[5:]})"
            return (
                f"{who} is held: a {hit.category} screening hit on {hit.caption!r} is {state}"
                f" (case {hit.case_id})"
            )
    return None


class Screening:
    """One tenant's screening: its parties, its lists and its hits."""

    def __init__(
        self,
        ledger: Ledger,
        tenant: str,
        cases: Cases,
        cipher: FieldCipher | None = None,
        params: ScreeningParams | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant = check_name("tenant", tenant)
        self.cases = cases
        self.cipher = cipher
        self.params = params or ScreeningParams()
        self.clock = clock or ledger.clock
        self._indexes: dict[str, Watchlist] = {}

    # --- commands -----------------------------------------------------------------------------
    def record(
        self,
        party_kind: str,
        party_id: str,
        subject: Subject,
    ) -> tuple[Party, list[StoredHit]]:
        """Keep a party's details and screen them against the active list (see the module)."""
        with self.ledger.transaction() as tx:
            return self.record_in(tx, party_kind, party_id, subject)

    def record_in(
        self,
        tx: LedgerTransaction,
        party_kind: str,
        party_id: str,
        subject: Subject,
    ) -> tuple[Party, list[StoredHit]]:
        """:meth:`record` inside the caller's unit of work (a customer's sign-up)."""
        if party_kind not in PARTY_KINDS + OWNER_KINDS:
            raise InvalidInput(f"party_kind must be buyer or merchant, got {party_kind!r}")
        check_name("party_id", party_id)
        subject = check_subject(subject.name, subject.kind, subject.birth_date, subject.country)
        digest = self._digest(subject)
        now = self.clock.now_ns()
        values = self._row(party_kind, party_id, subject, digest, now)
        unchanged = False
        if insert_if_absent(tx.conn, aml_parties, values):
            active = self._active(tx.conn)
        else:  # known (or just recorded by another request)
            found = self._party_row(tx.conn, party_kind, party_id, for_update=True)
            active = self._active(tx.conn)  # read after the lock: a list load is seen whole
            unchanged = found["digest"] == digest
            if unchanged and (active is None or found["screened_list_id"] == active):
                return self._party(found), self._hits_of(tx.conn, party_kind, party_id)
            if not unchanged:
                tx.conn.execute(
                    update(aml_parties)
                    .where(*self._party_key(party_kind, party_id))
                    .values(**{k: v for k, v in values.items() if k != "tenant"})
                )
        if not unchanged:
            tx.emit(
                self.tenant,
                "aml_party_recorded",
                "aml_party",
                f"{party_kind}:{party_id}",
                {"party_kind": party_kind, "party_id": party_id, "kind": subject.kind},
            )
        if active is not None:
            self._screen(tx, active, [(party_kind, party_id, subject, digest)], now)
        row = self._party_row(tx.conn, party_kind, party_id)
        assert row is not None
        return self._party(row), self._hits_of(tx.conn, party_kind, party_id)

    def load_list(self, parsed: ParsedList, name: str, actor: str) -> ListLoaded:
        """Make ``parsed`` the active list and screen every party against it (see the module)."""
        name = checked_text("name", name, 200)
        actor = checked_text("actor", actor, 128)
        list_id = "wl_" + parsed.digest[:24]
        with self.ledger.transaction() as tx:
            conn = tx.conn
            self._lock_lists(conn)
            existing = conn.execute(
                select(aml_watchlists).where(_L.tenant == self.tenant, _L.list_id == list_id)
            ).first()
            if existing is not None and existing._mapping["active"]:
                # nothing new; any party recorded while it was loading is screened now
                stale = [p[:4] for p in self._all_parties(conn) if p[4] != list_id]
                new_hits = self._screen(tx, list_id, stale, self.clock.now_ns())
                info = _list_info(existing._mapping)
                return ListLoaded(info, len(stale), new_hits, already_active=True)
            now = self.clock.now_ns()
            conn.execute(
                update(aml_watchlists)
                .where(_L.tenant == self.tenant, _L.active == 1)
                .values(active=0)
            )
            if existing is None:
                self._insert_list(conn, list_id, parsed, name, actor, now)
            else:
                conn.execute(
                    update(aml_watchlists)
                    .where(_L.tenant == self.tenant, _L.list_id == list_id)
                    .values(active=1)
                )
            self._indexes[list_id] = Watchlist(parsed.entries, self.params)
            parties = [p[:4] for p in self._all_parties(conn)]
            new_hits = self._screen(tx, list_id, parties, now)
            info = self._list(conn, list_id)
            tx.emit(
                self.tenant,
                "aml_watchlist_loaded",
                "aml_watchlist",
                list_id,
                {"name": name, "entries": info.entries, "screened": len(parties), "hits": new_hits},
            )
            return ListLoaded(info, len(parties), new_hits, already_active=False)

    def decided(self, tx: LedgerTransaction, case_id: str, outcome: str) -> None:
        """The cases' port: a ``sanctions_hit`` case was decided; its hits follow."""
        status = "cleared" if outcome == "release" else "confirmed"
        which = (_H.tenant == self.tenant, _H.case_id == case_id, _H.status == "open")
        found = tx.conn.execute(select(_H.party_kind, _H.party_id).where(*which)).all()
        tx.conn.execute(
            update(aml_screening_hits)
            .where(*which)
            .values(status=status, decided_at=self.clock.now_ns())
        )
        for party_kind, party_id in sorted(set(found)):
            tx.emit(
                self.tenant,
                "aml_screening_decided",
                "aml_party",
                f"{party_kind}:{party_id}",
                {"case_id": case_id, "status": status, "hits": len(found)},
            )

    # --- the payments port ----------------------------------------------------------------------
    def hold_of(self, tx: LedgerTransaction, party_kind: str, party_id: str) -> str | None:
        """Why the party may not be paid out, or ``None``: an open or confirmed hit, or details
        not yet screened against the active list (recorded while a list was loading; the
        caller runs :meth:`catch_up` first, so this is a race, refused until retried)."""
        kinds = _held_with(party_kind)
        rows = tx.conn.execute(
            select(_P.party_kind, _P.screened_list_id)
            .where(_P.tenant == self.tenant, _P.party_kind.in_(kinds), _P.party_id == party_id)
            .with_for_update()
        ).all()
        active = self._active(tx.conn)  # read after the lock: a list load is seen whole
        stale = [kind for kind, screened in rows if active is not None and screened != active]
        if stale:
            who = party_kind if stale == [party_kind] else f"{party_kind} (or an owner of it)"
            return (
                f"{party_id} is held: {who} not yet screened against the active list"
                f" {active}; retry"
            )
        return hold_reason(self._hits_of(tx.conn, party_kind, party_id, holding=True))

    def catch_up(self, party_kind: str | None = None, party_id: str | None = None) -> int:
        """Screen, in a unit of work of its own, the parties (of ``party_kind``, or the one
        ``party_id``) not yet screened against the active list; how many new hits. Payments
        calls it before money leaves, so a hit opens its case even when the payment is then
        refused."""
        with self.ledger.reader() as conn:  # the common case writes nothing
            if not self._any_stale(conn, party_kind, party_id):
                return 0
        with self.ledger.transaction() as tx:
            active = self._active(tx.conn)
            if active is None:
                return 0
            stale = [
                p[:4] for p in self._all_parties(tx.conn, party_kind, party_id) if p[4] != active
            ]
            return self._screen(tx, active, stale, self.clock.now_ns()) if stale else 0

    def held(self, party_kind: str, party_id: str) -> str | None:
        """:meth:`hold_of` as a read, without screening anew."""
        with self.ledger.reader() as conn:
            return hold_reason(self._hits_of(conn, party_kind, party_id, holding=True))

    # --- queries --------------------------------------------------------------------------------
    def party(self, party_kind: str, party_id: str) -> tuple[Party, list[StoredHit]]:
        with self.ledger.reader() as conn:
            row = self._party_row(conn, party_kind, party_id)
            if row is None:
                raise NotFound(f"no screened party {party_kind} {party_id}")
            return self._party(row), self._hits_of(conn, party_kind, party_id)

    def hits(self, status: str | None = None, limit: int = 100) -> list[StoredHit]:
        if status is not None and status not in ("open", "cleared", "confirmed"):
            raise InvalidInput("status is open, cleared or confirmed")
        query = select(aml_screening_hits).where(_H.tenant == self.tenant)
        if status is not None:
            query = query.where(_H.status == status)
        query = query.order_by(_H.created_at.desc(), _H.hit_id).limit(max(1, min(limit, 1000)))
        with self.ledger.reader() as conn:
            return [_hit(row) for row in conn.execute(query).mappings()]

    def case_hits(self, case_id: str) -> list[StoredHit]:
        """The hits a ``sanctions_hit`` case decides (its evidence)."""
        query = (
            select(aml_screening_hits)
            .where(_H.tenant == self.tenant, _H.case_id == case_id)
            .order_by(_H.score.desc(), _H.hit_id)
        )
        with self.ledger.reader() as conn:
            return [_hit(row) for row in conn.execute(query).mappings()]

    def lists(self) -> list[ListInfo]:
        with self.ledger.reader() as conn:
            rows = conn.execute(
                select(aml_watchlists)
                .where(_L.tenant == self.tenant)
                .order_by(_L.loaded_at.desc(), _L.list_id)
            ).mappings()
            return [_list_info(row) for row in rows]

    # --- internals ------------------------------------------------------------------------------
    def _screen(
        self,
        tx: LedgerTransaction,
        list_id: str,
        parties: Sequence[tuple[str, str, Subject, str]],
        now: int,
    ) -> int:
        """Screen ``parties`` against ``list_id``; new hits stored and cased; how many."""
        index = self._index(tx.conn, list_id)
        new = 0
        for (party_kind, party_id, subject, digest), hits in zip(
            parties, index.screen_all(p[2] for p in parties), strict=True
        ):
            case_id = "cas_" + _sha(self.tenant, party_kind, party_id, digest, list_id)[:24]
            fresh = [
                hit
                for hit in hits
                if self._store_hit(
                    tx.conn, party_kind, party_id, digest, list_id, hit, case_id, now
                )
            ]
            if fresh:
                new += len(fresh)
                self._open_case(tx, party_kind, party_id, subject, fresh, case_id)
            tx.conn.execute(
                update(aml_parties)
                .where(*self._party_key(party_kind, party_id))
                .values(screened_list_id=list_id, screened_at=now)
            )
        return new

    def _store_hit(
        self,
        conn: Connection,
        party_kind: str,
        party_id: str,
        digest: str,
        list_id: str,
        hit: Hit,
        case_id: str,
        now: int,
    ) -> bool:
        hit_id = "hit_" + _sha(self.tenant, party_kind, party_id, digest, hit.entity_id)[:24]
        return insert_if_absent(
            conn,
            aml_screening_hits,
            {
                "tenant": self.tenant,
                "hit_id": hit_id,
                "party_kind": party_kind,
                "party_id": party_id,
                "list_id": list_id,
                "entity_id": hit.entity_id,
                "caption": hit.caption[:500],
                "category": hit.category,
                "score": hit.score,
                "reasons": json.dumps(list(hit.reasons), ensure_ascii=False),
                "status": "open",
                "case_id": case_id,
                "created_at": now,
                "decided_at": None,
            },
        )

    def _open_case(
        self,
        tx: LedgerTransaction,
        party_kind: str,
        party_id: str,
        subject: Subject,
        hits: list[Hit],
        case_id: str,
    ) -> None:
        best = max(hits, key=lambda h: h.score)
        summary = (
            f"{party_kind} {party_id} ({mask_name(subject.name)}) matches {len(hits)} list entr"
            f"{'y' if len(hits) == 1 else 'ies'}; best {best.caption!r} ({best.category},"
            f" score {best.score:.2f}): payouts and withdrawals held until decided"
        )
        self.cases.open(
            tx,
            kind="sanctions_hit",
            case_id=case_id,
            summary=summary,
            amount_minor=0,
            currency="XXX",  # ISO 4217: no currency involved
            buyer_id=party_id if party_kind == "buyer" else None,
            merchant_id=party_id if party_kind != "buyer" else None,  # a merchant or its owner
        )
        tx.emit(
            self.tenant,
            "aml_screening_hit",
            "aml_party",
            f"{party_kind}:{party_id}",
            {
                "case_id": case_id,
                "hits": [
                    {"entity_id": h.entity_id, "category": h.category, "score": h.score}
                    for h in hits
                ],
            },
        )

    def _index(self, conn: Connection, list_id: str) -> Watchlist:
        found = self._indexes.get(list_id)
        if found is None:
            rows = conn.execute(
                select(aml_watch_entries.c.body)
                .where(
                    aml_watch_entries.c.tenant == self.tenant,
                    aml_watch_entries.c.list_id == list_id,
                )
                .order_by(aml_watch_entries.c.entity_id)
            ).scalars()
            found = Watchlist(tuple(_entry_of(body) for body in rows), self.params)
            self._indexes[list_id] = found
        return found

    def _insert_list(
        self, conn: Connection, list_id: str, parsed: ParsedList, name: str, actor: str, now: int
    ) -> None:
        conn.execute(
            insert(aml_watchlists).values(
                tenant=self.tenant,
                list_id=list_id,
                name=name,
                digest=parsed.digest,
                entries=len(parsed.entries),
                skipped=parsed.skipped,
                active=1,
                loaded_at=now,
                loaded_by=actor,
            )
        )
        rows = [
            {
                "tenant": self.tenant,
                "list_id": list_id,
                "entity_id": e.entity_id,
                "body": _entry_body(e),
            }
            for e in parsed.entries
        ]
        for start in range(0, len(rows), 5_000):
            conn.execute(insert(aml_watch_entries), rows[start : start + 5_000])

    def _lock_lists(self, conn: Connection) -> None:
        """One list load at a time per tenant: two at once would each deactivate only the
        lists committed before them, and leave two active (SQLite has one writer anyway)."""
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"aml_watchlists:{self.tenant}"},
            )

    def _active(self, conn: Connection) -> str | None:
        return conn.execute(
            select(_L.list_id).where(_L.tenant == self.tenant, _L.active == 1)
        ).scalar_one_or_none()

    def _list(self, conn: Connection, list_id: str) -> ListInfo:
        row = (
            conn.execute(
                select(aml_watchlists).where(_L.tenant == self.tenant, _L.list_id == list_id)
            )
            .mappings()
            .one()
        )
        return _list_info(row)

    def _party_key(self, party_kind: str, party_id: str) -> tuple[Any, ...]:
        return (_P.tenant == self.tenant, _P.party_kind == party_kind, _P.party_id == party_id)

    def _party_row(
        self, conn: Connection, party_kind: str, party_id: str, *, for_update: bool = False
    ) -> Any:
        query = select(aml_parties).where(*self._party_key(party_kind, party_id))
        return conn.execute(query.with_for_update() if for_update else query).mappings().first()

    def _any_stale(self, conn: Connection, party_kind: str | None, party_id: str | None) -> bool:
        active = self._active(conn)
        if active is None:
            return False
        query = select(_P.party_id).where(
            _P.tenant == self.tenant,
            (_P.screened_list_id != active) | _P.screened_list_id.is_(None),
        )
        if party_kind is not None:
            query = query.where(_P.party_kind.in_(_held_with(party_kind)))
        if party_id is not None:
            query = query.where(_P.party_id == party_id)
        return conn.execute(query.limit(1)).first() is not None

    def _all_parties(
        self, conn: Connection, party_kind: str | None = None, party_id: str | None = None
    ) -> list[tuple[str, str, Subject, str, str | None]]:
        """The parties (all, of a kind, or one), locked: kind, id, details, digest, and the
        list each was screened against."""
        query = select(aml_parties).where(_P.tenant == self.tenant)
        if party_kind is not None:
            query = query.where(_P.party_kind.in_(_held_with(party_kind)))
        if party_id is not None:
            query = query.where(_P.party_id == party_id)
        rows = conn.execute(query.order_by(_P.party_kind, _P.party_id).with_for_update()).mappings()
        parties = []
        for row in rows:
            party = self._party(row)
            subject = Subject(party.name, party.birth_date, party.country, party.kind)
            digest, screened = row["digest"], row["screened_list_id"]
            parties.append((party.party_kind, party.party_id, subject, digest, screened))
        return parties

    def _hits_of(
        self, conn: Connection, party_kind: str, party_id: str, *, holding: bool = False
    ) -> list[StoredHit]:
        kinds = _held_with(party_kind) if holding else (party_kind,)
        query = select(aml_screening_hits).where(
            _H.tenant == self.tenant, _H.party_kind.in_(kinds), _H.party_id == party_id
        )
        if holding:
            query = query.where(_H.status.in_(HOLDING))
        rows = conn.execute(query.order_by(_H.created_at, _H.score.desc(), _H.hit_id)).mappings()
        return [_hit(row) for row in rows]

    def _digest(self, subject: Subject) -> str:
        return _sha(
            subject.name, subject.kind or "", subject.birth_date or "", subject.country or ""
        )

    def _row(
        self, party_kind: str, party_id: str, subject: Subject, digest: str, now: int
    ) -> dict[str, object]:
        cipher = self._cipher()
        birth = subject.birth_date
        return {
            "tenant": self.tenant,
            "party_kind": party_kind,
            "party_id": party_id,
            "kind": subject.kind,
            "name_enc": cipher.encrypt(
                subject.name, _context(self.tenant, party_kind, party_id, "name")
            ),
            "birth_date_enc": None
            if birth is None
            else cipher.encrypt(birth, _context(self.tenant, party_kind, party_id, "birth_date")),
            "country": subject.country,
            "digest": digest,
            "screened_list_id": None,
            "screened_at": None,
            "updated_at": now,
        }

    def _party(self, row: Any) -> Party:
        cipher = self._cipher()
        kind, pid = row["party_kind"], row["party_id"]
        birth = row["birth_date_enc"]
        return Party(
            kind,
            pid,
            row["kind"],
            cipher.decrypt(row["name_enc"], _context(self.tenant, kind, pid, "name")),
            None
            if birth is None
            else cipher.decrypt(birth, _context(self.tenant, kind, pid, "birth_date")),
            row["country"],
            row["screened_list_id"],
            row["screened_at"],
            row["updated_at"],
        )

    def _cipher(self) -> FieldCipher:
        if self.cipher is None:
            self.cipher = load_cipher()
        return self.cipher
