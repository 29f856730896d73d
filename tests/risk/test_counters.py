"""The two counter stores (database and Redis) return the same reads for the same history.

One random history of checks and outcomes runs through both stores at once; after every step
a probe check reads both, and the reads (and the features computed from them) must be equal.
Each example keeps to its own tenant, whose Redis keys are deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from embedfin.db.tables import risk_links, risk_observations
from embedfin.ledger.service import Ledger
from embedfin.risk.counters import SqlCounters
from embedfin.risk.decision import RiskContext, RiskSubject, SubjectKind
from embedfin.risk.feature_types import Entity
from embedfin.risk.features import FeatureVector
from embedfin.risk.redis_counters import RedisCounters
from embedfin.risk.signals import (
    DAY_NS,
    NS_PER_S,
    REFUND_KIND,
    LinkRow,
    Observation,
    Reads,
    SignalRow,
    Status,
    digest,
    features,
    with_batch_mates,
)

#: The manual clock's start: a whole number of seconds since the epoch.
T0 = 1_767_225_600 * NS_PER_S
HOUR = 3_600 * NS_PER_S
WEEK = 7 * DAY_NS


@pytest.fixture
def redis_store(redis_server: str) -> Iterator[RedisCounters]:
    store = RedisCounters(redis_server)
    yield store
    store.redis.close()


def _tenant() -> str:
    return f"risk-{uuid.uuid4().hex[:10]}"


def _forget(store: RedisCounters, tenant: str) -> None:
    for key in store.redis.scan_iter(match=f"rk:{tenant}:*"):
        store.redis.delete(key)


def _observation_id() -> str:
    """Shaped like a decision id (``rd_`` and 24 hex digits)."""
    return f"rd_{uuid.uuid4().hex[:24]}"


@dataclass(frozen=True)
class Check:
    """A check's subject, as drawn; :meth:`observation` makes it one tenant's observation."""

    kind: SubjectKind
    method: str
    amount: int
    currency: str
    buyer: str | None
    merchant: str | None
    token: str | None
    device: str | None
    ip: str | None
    address: str | None
    payout_account: str | None

    def observation(self, tenant: str, observation_id: str, at: int) -> Observation:
        merchant = self.merchant
        if merchant is None and (self.buyer is None or self.kind is SubjectKind.PAYOUT):
            merchant = "m1"  # a subject names a buyer or a merchant; a payout its merchant
        context = None
        if (self.device, self.ip, self.address) != (None, None, None):
            context = RiskContext(device_id=self.device, ip=self.ip, shipping_address=self.address)
        subject = RiskSubject(
            self.kind,
            tenant,
            self.amount,
            self.currency,
            self.method,
            buyer_id=self.buyer,
            merchant_id=merchant,
            context=context,
        )
        payout_account = self.payout_account if self.kind is SubjectKind.PAYOUT else None
        return Observation.of(
            subject, observation_id, at, token=self.token, payout_account=payout_account
        )


@dataclass(frozen=True)
class Record:
    """Time moves on by ``after_ns``, then ``check`` is recorded."""

    check: Check
    after_ns: int


@dataclass(frozen=True)
class Settle:
    """The ``index``-th recorded observation (modulo how many there are) gets its outcome."""

    index: int
    status: Status


def _some(values: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values))


checks = st.builds(
    Check,
    kind=st.sampled_from(
        [SubjectKind.CHECKOUT, SubjectKind.TOP_UP, SubjectKind.WITHDRAWAL, SubjectKind.PAYOUT]
    ),
    method=st.sampled_from(["wallet", "card", "bnpl"]),
    amount=st.one_of(st.sampled_from([89, 90, 100, 1_000]), st.integers(1, 5_000)),
    currency=st.sampled_from(["USD", "EUR"]),
    buyer=_some(("b1", "b2", "b3")),
    merchant=_some(("m1", "m2")),
    token=_some(("tok-1", "tok-2", "tok-3")),
    device=_some(("dev-1", "dev-2", "dev-3")),
    ip=_some(("10.0.0.1", "10.0.0.2", "2001:db8::1")),
    address=_some(("1 Main St", "2 High St")),
    payout_account=_some(("acct-1", "acct-2")),
)
operations = st.one_of(
    st.builds(Record, check=checks, after_ns=st.integers(0, 3 * DAY_NS)),
    st.builds(
        Settle,
        index=st.integers(0, 14),
        status=st.sampled_from([Status.SUCCEEDED, Status.DECLINED]),
    ),
)
#: Each step: an operation, then a probe check ``ahead_ns`` after the latest recorded one.
steps = st.lists(st.tuples(operations, checks, st.integers(0, DAY_NS)), min_size=1, max_size=15)


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps)
def test_both_stores_read_the_same_for_the_same_history(
    ledger: Ledger, redis_store: RedisCounters, history: list[tuple[Record | Settle, Check, int]]
) -> None:
    tenant = _tenant()  # one per example: hypothesis runs many in one test call
    sql = SqlCounters()
    recorded: list[str] = []
    now = T0
    try:
        with ledger.transaction() as tx:
            for operation, probe_check, ahead_ns in history:
                if isinstance(operation, Record):
                    now += operation.after_ns
                    observation = operation.check.observation(tenant, _observation_id(), now)
                    sql.record(tx.conn, observation)
                    redis_store.record(tx.conn, observation)
                    recorded.append(observation.observation_id)
                else:
                    target = recorded[operation.index % len(recorded)] if recorded else "rd_none"
                    sql.settle(tx.conn, tenant, target, operation.status)
                    redis_store.settle(tx.conn, tenant, target, operation.status)
                probe = probe_check.observation(tenant, "rd_probe", now + ahead_ns)
                from_sql = sql.read(tx.conn, probe)
                from_redis = redis_store.read(tx.conn, probe)
                values = features(probe, from_sql)
                FeatureVector(values)  # the catalogue accepts every name and type
                assert features(probe, from_redis) == values
                assert from_redis == from_sql
    finally:
        _forget(redis_store, tenant)


# --- settling -------------------------------------------------------------------------------


def _checkout(
    tenant: str, observation_id: str, at: int, amount: int, device: str | None
) -> Observation:
    subject = RiskSubject(
        SubjectKind.CHECKOUT,
        tenant,
        amount,
        "USD",
        "card",
        buyer_id="b1",
        merchant_id="m1",
        context=RiskContext(device_id=device) if device else None,
    )
    return Observation.of(subject, observation_id, at)


def _rows(conn: Connection, tenant: str) -> int:
    counted = 0
    for table in (risk_observations, risk_links):
        query = select(func.count()).select_from(table).where(table.c.tenant == tenant)
        counted += int(conn.execute(query).scalar_one())
    return counted


def test_settling_twice_or_settling_an_unknown_observation_does_nothing(
    ledger: Ledger, redis_store: RedisCounters
) -> None:
    tenant = _tenant()
    sql = SqlCounters()
    stores = (sql, redis_store)
    # whole seconds since the epoch: exact as Redis scores (see the tests below)
    first = _checkout(tenant, _observation_id(), T0, 500, "dev-1")
    second = _checkout(tenant, _observation_id(), T0 + NS_PER_S, 700, None)
    probe = _checkout(tenant, "rd_probe", T0 + 60 * NS_PER_S, 100, "dev-2")
    try:
        with ledger.transaction() as tx:
            for store in stores:
                store.settle(tx.conn, tenant, "rd_unknown", Status.SUCCEEDED)
            assert _rows(tx.conn, tenant) == 0
            assert list(redis_store.redis.scan_iter(match=f"rk:{tenant}:*")) == []

            for store in stores:
                store.record(tx.conn, first)
                store.record(tx.conn, second)
            before = [store.read(tx.conn, probe) for store in stores]
            for store in stores:
                store.settle(tx.conn, tenant, "rd_unknown", Status.DECLINED)
            assert [store.read(tx.conn, probe) for store in stores] == before

            for store in stores:
                store.settle(tx.conn, tenant, first.observation_id, Status.DECLINED)
                store.settle(tx.conn, tenant, first.observation_id, Status.SUCCEEDED)
                store.settle(tx.conn, tenant, second.observation_id, Status.SUCCEEDED)
                store.settle(tx.conn, tenant, second.observation_id, Status.SUCCEEDED)
                store.settle(tx.conn, tenant, second.observation_id, Status.DECLINED)
            expected = [
                SignalRow(T0 + NS_PER_S, "checkout", "card", 700, "USD", Status.SUCCEEDED),
                SignalRow(T0, "checkout", "card", 500, "USD", Status.DECLINED),
            ]
            for store in stores:
                reads = store.read(tx.conn, probe)
                assert reads.rows[Entity.BUYER] == expected, store.name
                assert reads.rows[Entity.MERCHANT] == expected, store.name
                assert reads.history == [700], store.name  # paid once, counted once
                assert features(probe, reads)["declines_in_a_row"] == 0
            assert sql.read(tx.conn, probe) == redis_store.read(tx.conn, probe)
    finally:
        _forget(redis_store, tenant)


# --- where the stores differ --------------------------------------------------------------------


def _both(
    ledger: Ledger, store: RedisCounters, history: list[Observation], probe: Observation
) -> tuple[Reads, Reads]:
    sql = SqlCounters()
    try:
        with ledger.transaction() as tx:
            for observation in history:
                sql.record(tx.conn, observation)
                store.record(tx.conn, observation)
            return sql.read(tx.conn, probe), store.read(tx.conn, probe)
    finally:
        _forget(store, probe.tenant)


def test_a_device_used_twice_reads_its_first_use_for_the_account(
    ledger: Ledger, redis_store: RedisCounters
) -> None:
    tenant = _tenant()
    history = [
        _checkout(tenant, _observation_id(), T0, 100, "dev-1"),
        _checkout(tenant, _observation_id(), T0 + HOUR, 100, "dev-1"),
    ]
    probe = _checkout(tenant, "rd_probe", T0 + 2 * HOUR, 100, "dev-1")
    from_sql, from_redis = _both(ledger, redis_store, history, probe)
    device = digest(tenant, Entity.DEVICE, "dev-1")
    assert from_sql.account_links == {Entity.DEVICE: [LinkRow(device, T0, T0 + HOUR)]}
    assert from_redis.account_links == from_sql.account_links


def test_a_time_that_is_not_a_whole_second_reads_the_same(
    ledger: Ledger, redis_store: RedisCounters
) -> None:
    tenant = _tenant()
    at = T0 + 1  # a system clock's nanoseconds
    probe = _checkout(tenant, "rd_probe", T0 + HOUR, 100, "dev-1")
    from_sql, from_redis = _both(
        ledger, redis_store, [_checkout(tenant, _observation_id(), at, 100, "dev-1")], probe
    )
    kept = at - at % 1_000  # observations are timed to the microsecond, on both stores
    assert from_sql.links[Entity.DEVICE] == [LinkRow("b:b1", kept, kept)]
    assert from_redis.links == from_sql.links


def test_a_check_one_nanosecond_inside_the_week_counts_in_both(
    ledger: Ledger, redis_store: RedisCounters
) -> None:
    tenant = _tenant()
    probe = _checkout(tenant, "rd_probe", T0 + WEEK - 1, 100, None)
    from_sql, from_redis = _both(
        ledger, redis_store, [_checkout(tenant, _observation_id(), T0, 100, None)], probe
    )
    assert features(probe, from_sql)["buyer_orders_7d"] == 1
    assert features(probe, from_redis)["buyer_orders_7d"] == 1


# --- a batch of checks reads as the same checks one after another ---------------------------
@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.lists(st.builds(Record, check=checks, after_ns=st.integers(0, DAY_NS)), max_size=8),
    batch=st.lists(checks, min_size=2, max_size=8),
    settled=st.lists(st.sampled_from([Status.SUCCEEDED, Status.DECLINED]), max_size=8),
)
def test_a_batch_reads_as_its_checks_one_by_one(
    ledger: Ledger,
    redis_store: RedisCounters,
    history: list[Record],
    batch: list[Check],
    settled: list[Status],
) -> None:
    """``read_many`` of a batch (nothing of it recorded) with each check's earlier batch-mates
    merged in (``with_batch_mates``) equals reading each check after recording the ones before
    it — on both stores."""
    sql = SqlCounters()
    for store in (sql, redis_store):
        tenant = _tenant()
        now = T0
        try:
            with ledger.transaction() as tx:
                before = []
                for record in history:
                    now += record.after_ns
                    obs = record.check.observation(tenant, _observation_id(), now)
                    store.record(tx.conn, obs)
                    before.append(obs.observation_id)
                for observation_id, status in zip(before, settled, strict=False):
                    store.settle(tx.conn, tenant, observation_id, status)
                mates = [
                    check.observation(tenant, _observation_id(), now + (n + 1) * 1_000)
                    for n, check in enumerate(batch)
                ]
                batched = [
                    with_batch_mates(reads, obs, mates[:n])
                    for n, (reads, obs) in enumerate(
                        zip(store.read_many(tx.conn, mates), mates, strict=True)
                    )
                ]
                for obs, from_batch in zip(mates, batched, strict=True):
                    one_by_one = store.read(tx.conn, obs)
                    assert from_batch == one_by_one
                    assert features(obs, from_batch) == features(obs, one_by_one)
                    store.record(tx.conn, obs)
        finally:
            if store is redis_store:
                _forget(redis_store, tenant)


def test_record_many_stores_what_record_one_by_one_stores(ledger: Ledger) -> None:
    sql = SqlCounters()
    tenant_a, tenant_b = _tenant(), _tenant()
    batch = [
        Check(
            SubjectKind.CHECKOUT,
            "card",
            100 + n,
            "USD",
            f"b{n % 2}",
            "m1",
            "tok-1",
            "dev-1",
            "10.0.0.1",
            "1 Main St",
            None,
        )  # fmt: skip
        for n in range(5)
    ]
    with ledger.transaction() as tx:
        one = [c.observation(tenant_a, f"rd_{n:024d}", T0 + n * 1_000) for n, c in enumerate(batch)]
        many = [
            c.observation(tenant_b, f"rd_{n:024d}", T0 + n * 1_000) for n, c in enumerate(batch)
        ]
        for obs in one:
            sql.record(tx.conn, obs)
        sql.record_many(tx.conn, many)
        sql.settle_many(tx.conn, tenant_b, [(many[0].observation_id, Status.DECLINED)])
        sql.settle(tx.conn, tenant_a, one[0].observation_id, Status.DECLINED)

        def stored(tenant: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
            o, link = risk_observations.c, risk_links.c
            rows = tx.conn.execute(
                select(o.observation_id, o.at, o.status, o.buyer_id)
                .where(o.tenant == tenant)
                .order_by(o.observation_id)
            ).all()
            links = tx.conn.execute(
                select(link.entity, link.account, link.first_at, link.last_at)
                .where(link.tenant == tenant)
                .order_by(link.entity, link.account)
            ).all()
            return [tuple(r) for r in rows], [tuple(r) for r in links]

        assert stored(tenant_a) == stored(tenant_b)


def test_a_batch_too_large_for_one_statement_reads_as_one_by_one(ledger: Ledger) -> None:
    """A batch naming more values than one statement's scans (``_PARTS_PER_STATEMENT``) is
    read in several statements, to the same reads; refund observations (no check) included."""
    sql = SqlCounters()
    tenant = _tenant()
    checks = [
        Check(
            SubjectKind.CHECKOUT,
            "card",
            100 + n,
            ("USD", "EUR")[n % 2],
            f"b{n}",
            f"m{n % 7}",
            f"tok-{n}",
            f"dev-{n}",
            f"10.0.{n // 200}.{n % 200 + 1}",
            f"{n} Main St",
            None,
        )  # fmt: skip
        for n in range(60)  # 60 × 6 entities + 60 histories: two statements
    ]
    with ledger.transaction() as tx:
        for n, check in enumerate(checks):  # a history for every value
            sql.record(tx.conn, check.observation(tenant, _observation_id(), T0 + n * 1_000))
            refund = Observation(
                f"rf-{n}", tenant, T0 + n * 1_000 + 500, REFUND_KIND, "refund", 50, "USD",
                {Entity.BUYER: f"b{n}"}, f"b:b{n}", Status.SUCCEEDED,
            )  # fmt: skip
            sql.record_once(tx.conn, [refund])
            sql.record_once(tx.conn, [refund])  # read again: recorded once
        now = T0 + HOUR
        batch = [c.observation(tenant, _observation_id(), now) for c in checks]
        for obs, reads in zip(batch, sql.read_many(tx.conn, batch), strict=True):
            assert reads == sql.read(tx.conn, obs)
            assert features(obs, reads)["buyer_refunds_7d"] == 1
