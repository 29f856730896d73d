"""The signals in Redis (``EMBEDFIN_REDIS_URL``): the counter store several workers share.

Keys, all under ``rk:<tenant>:`` (a tenant never reads another's):

==============================  ====================================================
key                             holds
==============================  ====================================================
``o:<entity>:<key>``            sorted set of the entity's observations (score: time;
                                member: the packed row), trimmed to 7 days
``obs:<id>``                    hash: the observation's packed row and entity keys,
                                so its outcome can rewrite the rows (8 days)
``h:<buyer>:<currency>``        sorted set of the buyer's succeeded checkouts (member
                                ``<id>|<amount>``), trimmed to 90 days
``l:<entity>:<key>``            sorted set of the accounts seen with the value
                                (score: last seen), ``lf:…`` hash of first seen
``a:<account>:<entity>``        sorted set of the values an account used (score: last
                                seen)
==============================  ====================================================

Scores are microseconds (observations are timed to the microsecond): a double holds those
exactly, where nanoseconds since 1970 would be rounded to 256 ns. Rows are re-sorted by time and
id after a read, as the database store orders them: the two stores return the same ``Reads``.
Every write is one ``MULTI``/``EXEC`` pipeline; every read one pipeline round trip.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import redis
from sqlalchemy import Connection

from embedfin.core.errors import ConfigurationError
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

#: How long a Redis call may take before the check goes on without it, and how long the
#: circuit then stays open.
TIMEOUT_S = 0.25
OPEN_S = 5.0
_WEEK_NS = Window.D7.seconds * NS_PER_S
_REFUNDS = "refunds"  # the buyer's refunds: their own sorted set, read apart
_OBS_TTL_S = 8 * 86_400
_LINK_TTL_S = RETENTION_NS // NS_PER_S


def _pack(obs_id: str, obs: Observation, status: Status) -> str:
    token = obs.keys.get(Entity.TOKEN, "")
    fields = (obs_id, obs.at, obs.kind, obs.payment_method, obs.amount_minor, obs.currency)
    return "|".join(str(v) for v in (*fields, int(status), token))


def _unpack(member: bytes | str) -> SignalRow:
    text = member.decode() if isinstance(member, bytes) else member
    _, at, kind, method, amount, currency, status, token = text.split("|")
    return SignalRow(
        int(at), kind, method, int(amount), currency, Status(int(status)), token or None
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisCounters:
    """The signals in one Redis database; ``conn`` is ignored (Redis is not in the unit of
    work)."""

    name = "redis"

    def __init__(self, url: str, client: redis.Redis | None = None) -> None:
        if client is None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigurationError(f"EMBEDFIN_REDIS_URL must be a redis:// URL, got {url!r}")
        self.redis: redis.Redis = client or redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        self._down_until = 0.0

    def _guarded(self) -> None:
        """Refuse at once while the circuit is open: after Redis failed, the next
        ``OPEN_S`` seconds of checks decide without it instead of each waiting a timeout
        (while it holds the order's lock)."""
        if time.monotonic() < self._down_until:
            raise redis.ConnectionError("risk counters: Redis circuit open")

    def _failed(self) -> None:
        self._down_until = time.monotonic() + OPEN_S

    def ping(self) -> None:
        self.redis.ping()

    def read(self, conn: Connection, obs: Observation) -> Reads:
        self._guarded()
        try:
            return self._read(obs)
        except redis.RedisError:
            self._failed()
            raise

    def _read(self, obs: Observation) -> Reads:
        prefix = f"rk:{obs.tenant}:"
        week = f"({_us(obs.at - _WEEK_NS)}"
        pipe = self.redis.pipeline(transaction=False)
        plan: list[tuple[str, Entity | None]] = []
        for entity in OBSERVED:
            key = obs.keys.get(entity)
            if key is not None:
                since = f"({_us(obs.at - READ_WINDOW[entity].seconds * NS_PER_S)}"
                pipe.zrevrangebyscore(
                    f"{prefix}o:{entity.value}:{key}", "+inf", since, 0, ROWS_READ[entity]
                )
                plan.append(("rows", entity))
        buyer = obs.keys.get(Entity.BUYER)
        if buyer is not None:
            since = f"({_us(obs.at - READ_WINDOW[Entity.BUYER].seconds * NS_PER_S)}"
            pipe.zrevrangebyscore(f"{prefix}o:{_REFUNDS}:{buyer}", "+inf", since, 0, MAX_REFUNDS)
            plan.append(("refunds", None))
            since = f"({_us(obs.at - RETENTION_NS)}"
            pipe.zrevrangebyscore(
                f"{prefix}h:{buyer}:{obs.currency}", "+inf", since, 0, MAX_HISTORY
            )
            plan.append(("history", None))
        for entity in LINKED:
            key = obs.keys.get(entity)
            if key is not None:
                pipe.zrevrange(f"{prefix}l:{entity.value}:{key}", 0, MAX_LINKS - 1, withscores=True)
                pipe.hgetall(f"{prefix}lf:{entity.value}:{key}")
                plan += [("links", entity), ("firsts", entity)]
        if obs.account:
            pipe.hgetall(f"{prefix}af:{obs.account}:device")
            pipe.zrevrangebyscore(
                f"{prefix}a:{obs.account}:device", "+inf", week, 0, MAX_LINKS, withscores=True
            )
            plan += [("account_firsts", None), ("account", Entity.DEVICE)]
        return self._reads(plan, pipe.execute(), obs.observation_id)

    @staticmethod
    def _reads(plan: list[tuple[str, Entity | None]], answers: list[Any], own: str) -> Reads:
        """The pipeline's answers as ``Reads``. Redis is outside the unit of work, so a check
        that rolled back may have left its observation (or an earlier copy of it): the request's
        own observation is left out and each observation counted once, as in the database."""
        reads = Reads()
        ranked: list[tuple[bytes, float]] = []
        account_firsts: dict[str, int] = {}
        for (what, entity), answer in zip(plan, answers, strict=True):
            if what == "rows" and entity is not None:
                rows = sorted(answer, key=_row_order, reverse=True)
                reads.rows[entity] = _once(rows, own)
            elif what == "refunds":
                reads.refunds = _once(sorted(answer, key=_row_order, reverse=True), own)
            elif what == "history":
                seen = {own}
                for member in answer:
                    obs_id, amount = _text(member).split("|")[:2]
                    if obs_id not in seen:
                        seen.add(obs_id)
                        reads.history.append(int(amount))
            elif what == "links":
                ranked = answer
            elif what == "firsts" and entity is not None:
                firsts = {_text(k): int(v) for k, v in answer.items()}
                rows = [LinkRow(_text(a), firsts.get(_text(a), _ns(s)), _ns(s)) for a, s in ranked]
                reads.links[entity] = _ordered(rows)
            elif what == "account_firsts":
                account_firsts = {_text(k): int(v) for k, v in answer.items()}
            elif what == "account" and entity is not None:
                rows = [
                    LinkRow(_text(k), account_firsts.get(_text(k), _ns(s)), _ns(s))
                    for k, s in answer
                ]
                reads.account_links[entity] = _ordered(rows)
        return reads

    def read_many(self, conn: Connection, batch: Sequence[Observation]) -> list[Reads]:
        """One pipelined read per observation (a round trip is ~0.1 ms here)."""
        return [self.read(conn, obs) for obs in batch]

    def record_many(self, conn: Connection, batch: Sequence[Observation]) -> None:
        for obs in batch:  # in order: a value's first sighting is the earliest
            self.record(conn, obs)

    def record_once(self, conn: Connection, batch: Sequence[Observation]) -> None:
        self.record_many(conn, batch)  # an observation is a member keyed by its id: set once

    def settle_many(
        self, conn: Connection, tenant: str, outcomes: Sequence[tuple[str, Status]]
    ) -> None:
        for observation_id, status in outcomes:
            self.settle(conn, tenant, observation_id, status)

    def record(self, conn: Connection, obs: Observation) -> None:
        self._guarded()
        try:
            self._record(obs)
        except redis.RedisError:
            self._failed()
            raise

    def _record(self, obs: Observation) -> None:
        prefix = f"rk:{obs.tenant}:"
        member = _pack(obs.observation_id, obs, obs.status)
        pipe = self.redis.pipeline(transaction=True)
        observed = [e for e in OBSERVED if e in obs.keys]
        for entity in observed:
            key = f"{prefix}o:{entity.value}:{obs.keys[entity]}"
            if obs.kind == REFUND_KIND:  # read apart from the buyer's other rows
                key = f"{prefix}o:{_REFUNDS}:{obs.keys[entity]}"
            pipe.zadd(key, {member: _us(obs.at)})
            pipe.zremrangebyscore(key, "-inf", _us(obs.at - _WEEK_NS))
            pipe.expire(key, _OBS_TTL_S)
        record = f"{prefix}obs:{obs.observation_id}"
        entity_keys = json.dumps({e.value: obs.keys[e] for e in observed})
        pipe.hset(record, mapping={"member": member, "keys": entity_keys})
        pipe.expire(record, _OBS_TTL_S)
        for entity in LINKED:
            value = obs.keys.get(entity)
            if value is None:
                continue
            pipe.zadd(f"{prefix}l:{entity.value}:{value}", {obs.account: _us(obs.at)}, gt=True)
            pipe.hsetnx(f"{prefix}lf:{entity.value}:{value}", obs.account, obs.at)
            pipe.expire(f"{prefix}l:{entity.value}:{value}", _LINK_TTL_S)
            pipe.expire(f"{prefix}lf:{entity.value}:{value}", _LINK_TTL_S)
            if obs.account:
                account_key = f"{prefix}a:{obs.account}:{entity.value}"
                firsts_key = f"{prefix}af:{obs.account}:{entity.value}"
                pipe.zadd(account_key, {value: _us(obs.at)}, gt=True)
                pipe.hsetnx(firsts_key, value, obs.at)
                pipe.expire(account_key, _LINK_TTL_S)
                pipe.expire(firsts_key, _LINK_TTL_S)
        pipe.execute()

    def settle(self, conn: Connection, tenant: str, observation_id: str, status: Status) -> None:
        self._guarded()
        try:
            self._settle(tenant, observation_id, status)
        except redis.RedisError:
            self._failed()
            raise

    def _settle(self, tenant: str, observation_id: str, status: Status) -> None:
        prefix = f"rk:{tenant}:"
        record = f"{prefix}obs:{observation_id}"
        found = self.redis.hgetall(record)
        if not found:
            return
        member = _text(found[b"member"])
        row = _unpack(member)
        if row.status is not Status.PENDING:
            return
        head, _, token = member.rpartition("|")
        head = head.rpartition("|")[0]
        settled = f"{head}|{int(status)}|{token}"
        pipe = self.redis.pipeline(transaction=True)
        buyer = None
        for entity, value in json.loads(_text(found[b"keys"])).items():
            if entity == Entity.BUYER.value:
                buyer = value
            key = f"{prefix}o:{entity}:{value}"
            pipe.zrem(key, member)
            pipe.zadd(key, {settled: _us(row.at)})
        pipe.hset(record, "member", settled)
        if buyer is not None and row.kind == "checkout" and status is Status.SUCCEEDED:
            history = f"{prefix}h:{buyer}:{row.currency}"
            pipe.zadd(history, {f"{observation_id}|{row.amount_minor}": _us(row.at)})
            pipe.zremrangebyscore(history, "-inf", _us(row.at - RETENTION_NS))
            pipe.expire(history, _LINK_TTL_S)
        pipe.execute()

    def prune(self, conn: Connection, before: int) -> int:
        """Redis forgets on its own: every key carries a time to live and the sorted sets are
        trimmed on each write."""
        return 0


def _once(members: list[Any], own: str) -> list[SignalRow]:
    """Each observation once (its newest copy first in ``members``), the request's own left
    out."""
    seen = {own}
    rows: list[SignalRow] = []
    for member in members:
        obs_id = _text(member).split("|", 1)[0]
        if obs_id not in seen:
            seen.add(obs_id)
            rows.append(_unpack(member))
    return rows


def _us(ns: int) -> int:
    """A time as a score: whole microseconds (exact in a double until the year 2255)."""
    return ns // 1_000


def _ns(score: float) -> int:
    return int(score) * 1_000


def _row_order(member: bytes | str) -> tuple[int, str]:
    """Newest first, ties by observation id descending: the database store's order."""
    text = _text(member)
    obs_id, at = text.split("|", 2)[:2]
    return int(at), obs_id


def _ordered(rows: list[LinkRow]) -> list[LinkRow]:
    """Newest first, ties by account descending: the database store's order."""
    return sorted(rows, key=lambda r: (r.last_at, r.account), reverse=True)
