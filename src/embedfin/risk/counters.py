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

import functools
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Dialect,
    TextClause,
    and_,
    bindparam,
    case,
    delete,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from embedfin.db.statements import insert_many_if_absent
from embedfin.db.tables import risk_links, risk_observations
from embedfin.risk.feature_types import Entity, Window
from embedfin.risk.signals import (
    LINKED,
    MAX_HISTORY,
    MAX_LINKS,
    MAX_REFUNDS,
    NS_PER_S,
    OBSERVED,
    READ_WINDOW,
    REFUND_KIND,
    RETENTION_NS,
    ROWS_READ,
    LinkRow,
    Observation,
    Reads,
    SignalRow,
    Status,
)

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


_HISTORY = "history"  # the buyer's paid history, told apart from the entities' rows
_REFUNDS = "refunds"  # the buyer's refunds, read apart from its other rows
_ACCOUNT = "account"  # the account's own devices, told apart from the values' links


_ROW_SELECT = (
    "SELECT '{entity}' AS entity, at, kind, payment_method, amount_minor, currency, status,"
    " token FROM risk_observations WHERE tenant = :tenant AND {where}"
    " ORDER BY at DESC, observation_id DESC LIMIT {limit}"
)
_LINK_SELECT = (
    "SELECT '{entity}' AS entity, {name} AS name, first_at, last_at FROM risk_links"
    " WHERE tenant = :tenant AND {where} ORDER BY last_at DESC, {name} DESC LIMIT {limit}"
)


_NOT_REFUND = f" AND kind <> '{REFUND_KIND}'"


def _union(parts: list[str]) -> TextClause:
    return text(" UNION ALL ".join(f"SELECT * FROM ({p}) AS q{i}" for i, p in enumerate(parts)))


@functools.cache
def _rows_statement(entities: tuple[Entity, ...], history: bool) -> TextClause:
    """The rows of the named entities (and the buyer's paid history), one ``UNION ALL``."""
    parts = [
        _ROW_SELECT.format(
            entity=entity.value,
            where=f"{_COLUMN[entity].name} = :k_{entity.value} AND at > :s_{entity.value}"
            + _NOT_REFUND,
            limit=ROWS_READ[entity],
        )
        for entity in entities
    ]
    if history:
        where = f"buyer_id = :k_buyer AND kind = '{REFUND_KIND}' AND at > :s_buyer"
        parts.append(_ROW_SELECT.format(entity=_REFUNDS, where=where, limit=MAX_REFUNDS))
        where = (
            "buyer_id = :k_buyer AND at > :history_since AND kind = 'checkout'"
            f" AND status = {int(Status.SUCCEEDED)} AND currency = :currency"
        )
        parts.append(_ROW_SELECT.format(entity=_HISTORY, where=where, limit=MAX_HISTORY))
    return _union(parts)


@functools.cache
def _links_statement(entities: tuple[Entity, ...], account: bool) -> TextClause:
    """The accounts each named value was seen with, and the account's own devices."""
    parts = [
        _LINK_SELECT.format(
            entity=entity.value,
            name="account",
            where=f"entity = '{entity.value}' AND entity_key = :l_{entity.value}",
            limit=MAX_LINKS,
        )
        for entity in entities
    ]
    if account:
        where = "account = :account AND entity = 'device' AND last_at > :week"
        parts.append(
            _LINK_SELECT.format(entity=_ACCOUNT, name="entity_key", where=where, limit=MAX_LINKS)
        )
    return _union(parts)


# The check's writes, built once with their values bound at execution (see ``read``).
_INSERT_OBSERVATION = insert(risk_observations)
_SETTLE = (
    update(risk_observations)
    .where(
        _OBS.tenant == bindparam("t"),
        _OBS.observation_id == bindparam("o"),
        _OBS.status == int(Status.PENDING),
    )
    .values(status=bindparam("new_status"))
)


@functools.cache
def _upsert_link(dialect_name: str) -> Insert:
    """A link seen again keeps its first sighting and moves its last one forward."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(risk_links)
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=["tenant", "entity", "entity_key", "account"],
        set_={
            "last_at": case(
                (statement.excluded.last_at > risk_links.c.last_at, statement.excluded.last_at),
                else_=risk_links.c.last_at,
            )
        },
    )
    return upsert


# --- many observations at once: the same reads, one bounded index scan per entity value -----
_KEYED_ROWS = (
    "SELECT '{entity}' AS entity, {column} AS k, NULL AS currency_key, at, kind,"
    " payment_method, amount_minor, currency, status, token FROM risk_observations"
    " WHERE tenant = :tenant AND {column} = :{key} AND at > :s_{window} AND kind {kind}"
    " ORDER BY at DESC, observation_id DESC LIMIT {limit}"
)
_KEYED_HISTORY = (
    "SELECT 'history' AS entity, buyer_id AS k, currency AS currency_key, at, kind,"
    " payment_method, amount_minor, currency, status, token FROM risk_observations"
    " WHERE tenant = :tenant AND buyer_id = :{key} AND currency = :{key}_c"
    f" AND at > :history_since AND kind = 'checkout' AND status = {int(Status.SUCCEEDED)}"
    f" ORDER BY at DESC, observation_id DESC LIMIT {MAX_HISTORY}"
)
#: The most bounded scans one statement holds (SQLite allows 500 in a compound select).
_PARTS_PER_STATEMENT = 200


@functools.lru_cache(maxsize=1_024)  # shapes vary with each batch: bounded, not forever
def _keyed_rows_statement(shape: tuple[tuple[str, int, int], ...]) -> TextClause:
    """A ``UNION ALL`` of one ``ORDER BY … LIMIT`` scan per value: ``shape`` lists (entity
    code or ``history``, first index, count). Each scan walks its value's index backwards and
    stops at its limit — a window function over a busy merchant's rows would read them all."""
    parts = []
    for code, first, count in shape:
        for i in range(first, first + count):
            if code == _HISTORY:
                parts.append(_KEYED_HISTORY.format(key=f"h_{i}"))
            elif code == _REFUNDS:
                parts.append(
                    _KEYED_ROWS.format(
                        entity=_REFUNDS, column="buyer_id", key=f"k_buyer_{i}", window="buyer",
                        kind=f"= '{REFUND_KIND}'", limit=MAX_REFUNDS,
                    )
                )  # fmt: skip
            else:
                entity = Entity(code)
                parts.append(
                    _KEYED_ROWS.format(
                        entity=code, column=_COLUMN[entity].name, key=f"k_{code}_{i}",
                        window=code, kind=f"<> '{REFUND_KIND}'", limit=ROWS_READ[entity],
                    )
                )  # fmt: skip
    return _union(parts)


def _chunks(counts: list[tuple[str, int]]) -> list[tuple[tuple[str, int, int], ...]]:
    """``counts`` (code, how many values) cut into statement shapes of at most
    :data:`_PARTS_PER_STATEMENT` scans."""
    shapes: list[tuple[str, int, int]] = []
    chunks: list[tuple[tuple[str, int, int], ...]] = []
    room = _PARTS_PER_STATEMENT
    for code, count in counts:
        first = 0
        while first < count:
            take = min(room, count - first)
            shapes.append((code, first, take))
            first += take
            room -= take
            if room == 0:
                chunks.append(tuple(shapes))
                shapes, room = [], _PARTS_PER_STATEMENT
    if shapes:
        chunks.append(tuple(shapes))
    return chunks


_MANY_LINKS = (
    "SELECT '{entity}' AS entity, k, rn, name, first_at, last_at FROM (SELECT entity_key AS k,"
    " account AS name, first_at, last_at, ROW_NUMBER() OVER (PARTITION BY entity_key"
    " ORDER BY last_at DESC, account DESC) AS rn FROM risk_links WHERE tenant = :tenant"
    " AND entity = '{entity}' AND entity_key IN :l_{entity}) AS w WHERE rn <= {limit}"
)
_MANY_ACCOUNT = (
    "SELECT 'account' AS entity, k, rn, name, first_at, last_at FROM (SELECT account AS k,"
    " entity_key AS name, first_at, last_at, ROW_NUMBER() OVER (PARTITION BY account"
    " ORDER BY last_at DESC, entity_key DESC) AS rn FROM risk_links WHERE tenant = :tenant"
    " AND account IN :accounts AND entity = 'device' AND last_at > :week) AS w"
    " WHERE rn <= {limit}"
)


@functools.cache
def _many_links_statement(entities: tuple[Entity, ...], account: bool) -> TextClause:
    parts = [_MANY_LINKS.format(entity=e.value, limit=MAX_LINKS) for e in entities]
    names = [f"l_{e.value}" for e in entities]
    if account:
        parts.append(_MANY_ACCOUNT.format(limit=MAX_LINKS))
        names.append("accounts")
    return _union(parts).bindparams(*(bindparam(n, expanding=True) for n in names))


def _observed(obs: Observation) -> list[tuple[Entity, str]]:
    return [(entity, obs.keys[entity]) for entity in OBSERVED if entity in obs.keys]


class CounterStore(Protocol):
    """Where the signals live; ``conn`` is the caller's unit of work (a store outside the
    database may ignore it)."""

    name: str

    def read(self, conn: Connection, obs: Observation) -> Reads: ...

    def read_many(self, conn: Connection, batch: Sequence[Observation]) -> list[Reads]:
        """``read`` of each, none of them recorded yet (the caller merges batch-mates in with
        ``signals.with_batch_mates``)."""
        ...

    def record(self, conn: Connection, obs: Observation) -> None: ...

    def record_many(self, conn: Connection, batch: Sequence[Observation]) -> None: ...

    def record_once(self, conn: Connection, batch: Sequence[Observation]) -> None:
        """``record_many``, skipping the observations already recorded (an outbox event read
        again); ``batch`` is one tenant's, oldest first."""
        ...

    def settle_many(
        self, conn: Connection, tenant: str, outcomes: Sequence[tuple[str, Status]]
    ) -> None: ...

    def settle(self, conn: Connection, tenant: str, observation_id: str, status: Status) -> None:
        """The operation's outcome; settling an unknown or settled observation does nothing."""
        ...

    def prune(self, conn: Connection, before: int) -> int:
        """Forget observations and links last seen before ``before``; how many went."""
        ...


_STATUSES = {int(status): status for status in Status}
_ENTITIES = {entity.value: entity for entity in Entity}


def _row(values: Sequence[Any]) -> SignalRow:
    at, kind, method, amount, currency, status, token = values
    return SignalRow(int(at), kind, method, int(amount), currency, _STATUSES[int(status)], token)


@functools.lru_cache(maxsize=256)
def _driver_sql(statement: TextClause, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    """``statement`` as its driver takes it: the SQL in the driver's parameter style, and the
    parameter names in order when that style is positional (``None``: by name)."""
    compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup
    return str(compiled), (tuple(names) if compiled.positional and names is not None else None)


def _fetch(conn: Connection, statement: TextClause, params: dict[str, object]) -> list[Any]:
    """The rows of a cached plain-SQL read as the driver's tuples, on the unit of work's own
    connection: a check's two reads return hundreds of rows, and making each a SQLAlchemy
    ``Row`` first cost as much as running the query. Only for statements without expanding
    parameters."""
    sql, names = _driver_sql(statement, conn.dialect)
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(sql, params if names is None else [params[n] for n in names])
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _observation_values(obs: Observation) -> dict[str, object]:
    keys = {entity.value: obs.keys.get(entity) for entity in _COLUMN}
    return {
        "tenant": obs.tenant,
        "observation_id": obs.observation_id,
        "at": obs.at,
        "kind": obs.kind,
        "payment_method": obs.payment_method,
        "amount_minor": obs.amount_minor,
        "currency": obs.currency,
        "status": int(obs.status),
        "buyer_id": keys["buyer"],
        "merchant_id": keys["merchant"],
        "token": keys["token"],
        "device": keys["device"],
        "ip": keys["ip"],
        "address": keys["address"],
    }


def _slice(
    obs: Observation,
    found: dict[tuple[str, str], list[tuple[str | None, SignalRow]]],
    links: dict[tuple[str, str], list[LinkRow]],
) -> Reads:
    """One observation's ``Reads`` out of a batch's: its entities' rows inside its own windows,
    its buyer's paid history in its currency, its values' links, its account's devices."""
    reads = Reads()
    for entity, key in _observed(obs):
        since = obs.at - READ_WINDOW[entity].seconds * NS_PER_S
        reads.rows[entity] = [
            row for _, row in found.get((entity.value, key), []) if row.at > since
        ][: ROWS_READ[entity]]
    buyer = obs.keys.get(Entity.BUYER)
    if buyer is not None:
        week = obs.at - READ_WINDOW[Entity.BUYER].seconds * NS_PER_S
        reads.refunds = [row for _, row in found.get((_REFUNDS, buyer), []) if row.at > week][
            :MAX_REFUNDS
        ]
        since = obs.at - RETENTION_NS
        reads.history = [
            row.amount_minor
            for currency_key, row in found.get((_HISTORY, buyer), [])
            if currency_key == obs.currency and row.at > since
        ][:MAX_HISTORY]
    for entity in LINKED:
        if entity in obs.keys:
            reads.links[entity] = list(links.get((entity.value, obs.keys[entity]), []))
    if obs.account:
        week = obs.at - _WEEK_NS
        reads.account_links[Entity.DEVICE] = [
            link for link in links.get((_ACCOUNT, obs.account), []) if link.last_at > week
        ]
    return reads


class SqlCounters:
    """The signals in the database tables ``risk_observations`` and ``risk_links``."""

    name = "database"

    def read(self, conn: Connection, obs: Observation) -> Reads:
        """Two round trips: every named entity's recent rows (and the buyer's paid history)
        in one ``UNION ALL``; the links of every named value and the account's own devices in
        another. The statements are plain SQL built once per shape (which entities the request
        names) and cached: at a few milliseconds per check, building and compiling the query
        objects would cost more than running them."""
        reads = Reads()
        named = _observed(obs)
        buyer = obs.keys.get(Entity.BUYER)
        params: dict[str, object] = {"tenant": obs.tenant, "currency": obs.currency,
                                     "history_since": obs.at - RETENTION_NS}  # fmt: skip
        for entity, key in named:
            params[f"k_{entity.value}"] = key
            params[f"s_{entity.value}"] = obs.at - READ_WINDOW[entity].seconds * NS_PER_S
        if named:
            statement = _rows_statement(tuple(e for e, _ in named), buyer is not None)
            for entity, _ in named:
                reads.rows[entity] = []
            statuses, by_code = _STATUSES, {e.value: reads.rows[e] for e, _ in named}
            by_code[_REFUNDS] = reads.refunds
            for code, at, kind, method, amount, currency, status, token in _fetch(
                conn, statement, params
            ):
                if code == _HISTORY:
                    reads.history.append(int(amount))
                else:
                    by_code[code].append(
                        SignalRow(int(at), kind, method, int(amount), currency,
                                  statuses[int(status)], token)
                    )  # fmt: skip
        linked = [(e, obs.keys[e]) for e in LINKED if e in obs.keys]
        for entity, key in linked:
            reads.links[entity] = []
            params[f"l_{entity.value}"] = key
        if obs.account:
            reads.account_links[Entity.DEVICE] = []
            params["account"] = obs.account
            params["week"] = obs.at - _WEEK_NS
        if linked or obs.account:
            statement = _links_statement(tuple(e for e, _ in linked), bool(obs.account))
            lists = {e.value: reads.links[e] for e, _ in linked}
            if obs.account:
                lists[_ACCOUNT] = reads.account_links[Entity.DEVICE]
            for code, name, first, last in _fetch(conn, statement, params):
                lists[code].append(LinkRow(name, int(first), int(last)))
        return reads

    def read_many(self, conn: Connection, batch: Sequence[Observation]) -> list[Reads]:
        """What ``read`` gives each observation — none of them recorded yet — for the whole
        batch in two round trips: the newest rows of every value the batch names (one bounded
        scan per value), the links of every value (a window per entity), then per observation
        its own slice of them."""
        if len(batch) <= 1:
            return [self.read(conn, obs) for obs in batch]
        observed = sorted({e for obs in batch for e, _ in _observed(obs)}, key=OBSERVED.index)
        params: dict[str, object] = {"tenant": batch[0].tenant}
        earliest = min(obs.at for obs in batch)
        params["history_since"] = earliest - RETENTION_NS
        counts: list[tuple[str, int]] = []
        for entity in observed:
            keys = sorted({obs.keys[entity] for obs in batch if entity in obs.keys})
            params.update({f"k_{entity.value}_{i}": key for i, key in enumerate(keys)})
            params[f"s_{entity.value}"] = earliest - READ_WINDOW[entity].seconds * NS_PER_S
            counts.append((entity.value, len(keys)))
            if entity is Entity.BUYER:
                counts.append((_REFUNDS, len(keys)))
        buyers = sorted({(obs.keys[Entity.BUYER], obs.currency) for obs in batch
                         if Entity.BUYER in obs.keys})  # fmt: skip
        for i, (buyer, currency) in enumerate(buyers):
            params[f"h_{i}"], params[f"h_{i}_c"] = buyer, currency
        counts.append((_HISTORY, len(buyers)))
        found: dict[tuple[str, str], list[tuple[str | None, SignalRow]]] = {}
        for shape in _chunks(counts):  # one round trip for a batch of up to ~30 checks
            statement = _keyed_rows_statement(shape)
            for entity_code, key, currency_key, *values in _fetch(conn, statement, params):
                found.setdefault((entity_code, key), []).append((currency_key, _row(values)))
        linked = sorted({e for obs in batch for e in LINKED if e in obs.keys}, key=LINKED.index)
        for entity in linked:
            params[f"l_{entity.value}"] = sorted(
                {obs.keys[entity] for obs in batch if entity in obs.keys}
            )
        accounts = sorted({obs.account for obs in batch if obs.account})
        params["accounts"] = accounts
        params["week"] = earliest - _WEEK_NS
        ranked_links: dict[tuple[str, str], list[tuple[int, LinkRow]]] = {}
        if linked or accounts:
            statement = _many_links_statement(tuple(linked), bool(accounts))
            for entity_code, key, rn, name, first, last in conn.execute(statement, params).all():
                ranked_links.setdefault((entity_code, key), []).append(
                    (int(rn), LinkRow(name, int(first), int(last)))
                )
        links = {
            k: [link for _, link in sorted(v, key=lambda t: t[0])] for k, v in ranked_links.items()
        }
        return [_slice(obs, found, links) for obs in batch]

    def record_many(self, conn: Connection, batch: Sequence[Observation]) -> None:
        """``record`` for each, in one statement per table."""
        if not batch:
            return
        conn.execute(_INSERT_OBSERVATION, [_observation_values(obs) for obs in batch])
        self._link(conn, batch)

    def record_once(self, conn: Connection, batch: Sequence[Observation]) -> None:
        values = [_observation_values(obs) for obs in batch]
        inserted = insert_many_if_absent(conn, risk_observations, values)
        self._link(conn, [obs for obs in batch if (obs.tenant, obs.observation_id) in inserted])

    def _link(self, conn: Connection, batch: Sequence[Observation]) -> None:
        """Upsert the links of ``batch`` (one tenant's), in one statement."""
        rows = sorted(  # one lock order for every writer
            {
                (entity.value, key, obs.account): obs.at
                for obs in batch
                for entity, key in obs.keys.items()
                if entity in LINKED
            }.items()
        )
        if not rows:
            return
        firsts: dict[tuple[str, str, str], int] = {}
        for obs in batch:
            for entity, key in obs.keys.items():
                if entity in LINKED:
                    at = firsts.get((entity.value, key, obs.account), obs.at)
                    firsts[(entity.value, key, obs.account)] = min(at, obs.at)
        conn.execute(
            _upsert_link(conn.dialect.name),
            [
                {
                    "tenant": batch[0].tenant,
                    "entity": entity,
                    "entity_key": key,
                    "account": account,
                    "first_at": firsts[(entity, key, account)],
                    "last_at": last,
                }
                for (entity, key, account), last in rows
            ],
        )

    def settle_many(
        self, conn: Connection, tenant: str, outcomes: Sequence[tuple[str, Status]]
    ) -> None:
        if outcomes:
            conn.execute(
                _SETTLE,
                [{"t": tenant, "o": observation_id, "new_status": int(status)}
                 for observation_id, status in outcomes],
            )  # fmt: skip

    def record(self, conn: Connection, obs: Observation) -> None:
        conn.execute(_INSERT_OBSERVATION, _observation_values(obs))
        rows = sorted(
            (entity.value, key)
            for entity, key in obs.keys.items()
            if entity in LINKED  # sorted: concurrent upserts lock rows in one order
        )
        if not rows:
            return
        conn.execute(
            _upsert_link(conn.dialect.name),
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
        conn.execute(_SETTLE, {"t": tenant, "o": observation_id, "new_status": int(status)})

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
