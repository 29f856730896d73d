"""The counter stores: where the online signals live between checks.

``CounterStore`` is what the risk service needs of one: read what a new observation's entities
did before (``Reads``), record the observation, settle its outcome, prune what is past retention.
:class:`SqlCounters` (the default) keeps them in the database, inside the caller's unit of work:
a check that rolls back leaves nothing behind. ``risk/redis_counters.py`` keeps them in Redis,
the production choice when several workers share the counters; Redis is not part of the unit of
work, so an operation that rolls back after its check still counts as an attempt (which is what
velocity rules want of a failed attempt anyway).

Both return exactly the same ``Reads`` for the same history (``tests/risk/test_counters.py``
runs one history through both): newest first, ties by observation id descending.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Connection, and_, case, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from embedfin.db.tables import risk_links, risk_observations
from embedfin.risk.feature_types import Entity, Window
from embedfin.risk.signals import (
    LINKED,
    MAX_HISTORY,
    MAX_ROWS,
    NS_PER_S,
    OBSERVED,
    RETENTION_NS,
    LinkRow,
    Observation,
    Reads,
    SignalRow,
    Status,
)

#: The most links read per entity value (a device seen with more accounts saturates).
MAX_LINKS = 1_000
_WEEK_NS = Window.D7.seconds * NS_PER_S
_OBS = risk_observations.c
_COLUMN = {
    Entity.BUYER: _OBS.buyer_id,
    Entity.MERCHANT: _OBS.merchant_id,
    Entity.TOKEN: _OBS.token,
    Entity.DEVICE: _OBS.device,
    Entity.IP: _OBS.ip,
    Entity.ADDRESS: _OBS.address,
}


class CounterStore(Protocol):
    """Where the signals live; ``conn`` is the caller's unit of work (a store outside the
    database may ignore it)."""

    name: str

    def read(self, conn: Connection, obs: Observation) -> Reads: ...

    def record(self, conn: Connection, obs: Observation) -> None: ...

    def settle(self, conn: Connection, tenant: str, observation_id: str, status: Status) -> None:
        """The operation's outcome; settling an unknown or settled observation does nothing."""
        ...

    def prune(self, conn: Connection, before: int) -> int:
        """Forget observations and links last seen before ``before``; how many went."""
        ...


def _row(values: Sequence[object]) -> SignalRow:
    at, kind, method, amount, currency, status, token = values
    return SignalRow(
        int(at),  # type: ignore[call-overload]
        str(kind),
        str(method),
        int(amount),  # type: ignore[call-overload]
        str(currency),
        Status(int(status)),  # type: ignore[call-overload]
        None if token is None else str(token),
    )


class SqlCounters:
    """The signals in the database tables ``risk_observations`` and ``risk_links``."""

    name = "database"

    def read(self, conn: Connection, obs: Observation) -> Reads:
        reads = Reads()
        week = obs.at - _WEEK_NS
        columns = (_OBS.at, _OBS.kind, _OBS.payment_method, _OBS.amount_minor, _OBS.currency)
        for entity in OBSERVED:
            key = obs.keys.get(entity)
            if key is None:
                continue
            query = (
                select(*columns, _OBS.status, _OBS.token)
                .where(_OBS.tenant == obs.tenant, _COLUMN[entity] == key, _OBS.at > week)
                .order_by(_OBS.at.desc(), _OBS.observation_id.desc())
                .limit(MAX_ROWS)
            )
            reads.rows[entity] = [_row(values) for values in conn.execute(query)]
        buyer = obs.keys.get(Entity.BUYER)
        if buyer is not None:
            history = (
                select(_OBS.amount_minor)
                .where(
                    _OBS.tenant == obs.tenant,
                    _OBS.buyer_id == buyer,
                    _OBS.at > obs.at - RETENTION_NS,
                    _OBS.kind == "checkout",
                    _OBS.status == int(Status.SUCCEEDED),
                    _OBS.currency == obs.currency,
                )
                .order_by(_OBS.at.desc(), _OBS.observation_id.desc())
                .limit(MAX_HISTORY)
            )
            reads.history = [int(a) for (a,) in conn.execute(history)]
        self._read_links(conn, obs, reads)
        return reads

    def _read_links(self, conn: Connection, obs: Observation, reads: Reads) -> None:
        links = risk_links.c
        for entity in LINKED:
            key = obs.keys.get(entity)
            if key is None:
                continue
            query = (
                select(links.account, links.first_at, links.last_at)
                .where(
                    links.tenant == obs.tenant,
                    links.entity == entity.value,
                    links.entity_key == key,
                )
                .order_by(links.last_at.desc(), links.account.desc())
                .limit(MAX_LINKS)
            )
            reads.links[entity] = [LinkRow(a, int(f), int(la)) for a, f, la in conn.execute(query)]
        if obs.account:
            query = (
                select(links.entity_key, links.first_at, links.last_at)
                .where(
                    links.tenant == obs.tenant,
                    links.account == obs.account,
                    links.entity == Entity.DEVICE.value,
                    links.last_at > obs.at - _WEEK_NS,
                )
                .order_by(links.last_at.desc(), links.entity_key.desc())
                .limit(MAX_LINKS)
            )
            reads.account_links[Entity.DEVICE] = [
                LinkRow(k, int(f), int(la)) for k, f, la in conn.execute(query)
            ]

    def record(self, conn: Connection, obs: Observation) -> None:
        keys = {entity.value: obs.keys.get(entity) for entity in _COLUMN}
        conn.execute(
            insert(risk_observations).values(
                tenant=obs.tenant,
                observation_id=obs.observation_id,
                at=obs.at,
                kind=obs.kind,
                payment_method=obs.payment_method,
                amount_minor=obs.amount_minor,
                currency=obs.currency,
                status=int(obs.status),
                buyer_id=keys["buyer"],
                merchant_id=keys["merchant"],
                token=keys["token"],
                device=keys["device"],
                ip=keys["ip"],
                address=keys["address"],
            )
        )
        rows = sorted(
            (entity.value, key)
            for entity, key in obs.keys.items()
            if entity in LINKED  # sorted: concurrent upserts lock rows in one order
        )
        if not rows:
            return
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(risk_links)
        upsert = statement.on_conflict_do_update(
            index_elements=["tenant", "entity", "entity_key", "account"],
            set_={
                "last_at": case(
                    (statement.excluded.last_at > risk_links.c.last_at, statement.excluded.last_at),
                    else_=risk_links.c.last_at,
                )
            },
        )
        conn.execute(
            upsert,
            [
                {
                    "tenant": obs.tenant,
                    "entity": entity,
                    "entity_key": key,
                    "account": obs.account,
                    "first_at": obs.at,
                    "last_at": obs.at,
                }
                for entity, key in rows
            ],
        )

    def settle(self, conn: Connection, tenant: str, observation_id: str, status: Status) -> None:
        conn.execute(
            update(risk_observations)
            .where(
                _OBS.tenant == tenant,
                _OBS.observation_id == observation_id,
                _OBS.status == int(Status.PENDING),
            )
            .values(status=int(status))
        )

    def prune(self, conn: Connection, before: int) -> int:
        gone = conn.execute(delete(risk_observations).where(_OBS.at < before)).rowcount
        gone += conn.execute(delete(risk_links).where(risk_links.c.last_at < before)).rowcount
        return int(gone)


def linked_accounts(conn: Connection, tenant: str, accounts: Sequence[str]) -> list[LinkRow]:
    """Other accounts sharing a device, address, IP, token or payout account with any of
    ``accounts`` (a case's evidence), most recent first; ``LinkRow.account`` is the other one."""
    mine = risk_links.alias("mine")
    theirs = risk_links.alias("theirs")
    query = (
        select(theirs.c.account, theirs.c.first_at, theirs.c.last_at)
        .join(
            mine,
            and_(
                mine.c.tenant == theirs.c.tenant,
                mine.c.entity == theirs.c.entity,
                mine.c.entity_key == theirs.c.entity_key,
            ),
        )
        .where(
            mine.c.tenant == tenant,
            mine.c.account.in_(list(accounts)),
            theirs.c.account.not_in(list(accounts)),
            or_(theirs.c.account.like("b:%"), theirs.c.account.like("m:%")),
        )
        .order_by(theirs.c.last_at.desc())
        .limit(100)
    )
    seen: dict[str, LinkRow] = {}
    for account, first, last in conn.execute(query):
        seen.setdefault(account, LinkRow(account, int(first), int(last)))
    return list(seen.values())
