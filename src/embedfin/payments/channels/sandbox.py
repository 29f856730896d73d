"""The sandbox acquirer: simulated processors whose state survives restarts and is shared.

Like a processor's test mode, it is a party outside the books: it keeps every charge and refund
in **its own store** (by default the SQLite file ``acquirer.db`` beside the platform's data, or
``EMBEDFIN_ACQUIRER_URL``), idempotent by the key each request carries, so every API worker sees
the same charges and a restart forgets none — a card charged before a restart can be refunded
after it, and attempt recovery finds what the channel really did. Its answers follow the same
seeded behaviour as the in-memory ``SimulatedProcessor`` (``charge_outcome``,
``refund_outcome``), decided per key so that every process decides a key the same way.

It also writes the channel's daily settlement files (CSV and camt.053, ``settlement_file``) from
its own records, so ``embedfin recon`` reconciles the books against files the books did not
write. The merchant account of a request at the acquirer is the platform tenant, the first part
of the key (``ChannelPayments.channel_key``: ``tenant:request:channel``).

The store's two tables belong to the acquirer, not to the platform's schema: they are created
on first use (``metadata.create_all``) and never migrated with the platform's database.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.engine import make_url

from embedfin.core.clock import NS_PER_SECOND, Clock, SystemClock
from embedfin.core.money import Money
from embedfin.db.engine import DEFAULT_DATA_DIR, make_engine
from embedfin.db.statements import insert_if_absent
from embedfin.payments.channels.processors import (
    ChannelError,
    ChannelKind,
    ChannelResponse,
    FeeSchedule,
    Outcome,
    SimulatedProcessor,
    charge_outcome,
    default_channels,
    refund_outcome,
)
from embedfin.payments.channels.settlement_files import render

ENV_URL = "EMBEDFIN_ACQUIRER_URL"

metadata = MetaData()

charges = Table(
    "sandbox_charges",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("key", String(320), primary_key=True),
    Column("account", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("channel_ref", String(64), nullable=False),
    Column("decline_code", String(32)),
    Column("retriable", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_sandbox_charges_day", "channel", "account", "created_at"),
)

refunds = Table(
    "sandbox_refunds",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("key", String(320), primary_key=True),
    Column("charge_key", String(320), nullable=False),
    Column("account", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("channel_ref", String(64), nullable=False),
    Column("decline_code", String(32)),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_sandbox_refunds_charge", "channel", "charge_key"),
    Index("ix_sandbox_refunds_day", "channel", "account", "created_at"),
)


def default_url(database_url: str | None = None) -> str:
    """``EMBEDFIN_ACQUIRER_URL``, else ``acquirer.db`` beside a SQLite database (or in the data
    directory for PostgreSQL): all the workers of one server share it."""
    configured = os.environ.get(ENV_URL)
    if configured:
        return configured
    folder = DEFAULT_DATA_DIR
    if database_url is not None:
        parsed = make_url(database_url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, ":memory:"):
            folder = Path(str(parsed.database)).parent
    return f"sqlite:///{folder / 'acquirer.db'}"


def account_of(key: str) -> str:
    """The merchant account (platform tenant) a request's key belongs to."""
    return key.partition(":")[0]


class SandboxAcquirer:
    """The acquirer's store and its channels (one per simulated processor)."""

    def __init__(self, url: str, clock: Clock | None = None, seed: int = 0) -> None:
        self.engine: Engine = make_engine(url)
        metadata.create_all(self.engine)
        #: reads take no write lock (SQLite: a deferred transaction)
        self.reads = self.engine.execution_options(sqlite_begin="DEFERRED")
        self.clock = clock or SystemClock()
        self.channels = [SandboxChannel.like(c, self) for c in default_channels(seed)]

    def close(self) -> None:
        self.engine.dispose()

    def settlement_file(self, channel: str, account: str, day: date, fmt: str) -> bytes:
        """The channel's settlement file of one UTC day for one merchant account."""
        return render(self.movements(channel, account, day), day, fmt, channel, account)

    def movements(self, channel: str, account: str, day: date) -> list[tuple[str, Money]]:
        """Approved charges (positive) and refunds (negative) of the day, as (reference, amount)."""
        start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * NS_PER_SECOND
        end = start + int(timedelta(days=1).total_seconds()) * NS_PER_SECOND
        found: list[tuple[int, str, Money]] = []
        with self.reads.connect() as conn:
            for table, sign in ((charges, 1), (refunds, -1)):
                c = table.c
                rows = conn.execute(
                    select(c.created_at, c.channel_ref, c.amount_minor, c.currency).where(
                        c.channel == channel,
                        c.account == account,
                        c.outcome == str(Outcome.APPROVED),
                        c.created_at >= start,
                        c.created_at < end,
                    )
                ).all()
                found += [(at, ref, Money(sign * minor, cur)) for at, ref, minor, cur in rows]
        return [(ref, money) for _, ref, money in sorted(found, key=lambda f: (f[0], f[1]))]


class SandboxChannel(SimulatedProcessor):
    """One processor of the sandbox acquirer: ``SimulatedProcessor``'s behaviour, its state in
    the acquirer's store (the in-memory ``charges``/``refunds`` maps stay empty)."""

    def __init__(
        self,
        name: str,
        kind: ChannelKind,
        currencies: Iterable[str],
        fees: FeeSchedule,
        acquirer: SandboxAcquirer,
        **behaviour: float,
    ) -> None:
        super().__init__(name, kind, currencies, fees, **behaviour)  # type: ignore[arg-type]
        self.acquirer = acquirer

    @classmethod
    def like(cls, processor: SimulatedProcessor, acquirer: SandboxAcquirer) -> SandboxChannel:
        b = processor.behaviour
        channel = cls(
            processor.name, processor.kind, processor.currencies, processor.fees, acquirer
        )
        channel.behaviour = b
        return channel

    def charge(self, idempotency_key: str, amount: Money, payer_ref: str) -> ChannelResponse:
        self.requests += 1
        known = self.lookup(idempotency_key)
        if known is not None:
            return known
        heard, kept = charge_outcome(self.behaviour, self.name, idempotency_key)
        if kept is None:
            return heard
        values = {
            "channel": self.name,
            "key": idempotency_key,
            "account": account_of(idempotency_key),
            "amount_minor": amount.amount_minor,
            "currency": amount.currency,
            "outcome": str(kept.outcome),
            "channel_ref": kept.channel_ref,
            "decline_code": kept.decline_code,
            "retriable": kept.retriable,
            "created_at": self.acquirer.clock.now_ns(),
        }
        with self.acquirer.engine.begin() as conn:
            inserted = insert_if_absent(conn, charges, values)
        if not inserted:  # another worker decided this key first: its decision stands
            return self.lookup(idempotency_key) or heard
        return heard

    def lookup(self, idempotency_key: str) -> ChannelResponse | None:
        found = self._charge(idempotency_key)
        return found[0] if found else None

    def refund(self, idempotency_key: str, charge_key: str, amount: Money) -> ChannelResponse:
        self.requests += 1
        if self.refunds_down:
            raise ChannelError(f"{self.name}: refund API unreachable")
        with self.acquirer.engine.begin() as conn:
            c, r = charges.c, refunds.c
            # the charge's row is the lock that serialises its refunds (SQLite: one writer)
            conn.execute(
                select(c.key).where(c.channel == self.name, c.key == charge_key).with_for_update()
            ).all()
            earlier = conn.execute(
                select(r.outcome, r.channel_ref, r.decline_code).where(
                    r.channel == self.name, r.key == idempotency_key
                )
            ).first()
            if earlier is not None:
                return ChannelResponse(Outcome(earlier[0]), earlier[1], earlier[2])
            refunded = conn.execute(
                select(func.coalesce(func.sum(r.amount_minor), 0)).where(
                    r.channel == self.name,
                    r.charge_key == charge_key,
                    r.outcome == str(Outcome.APPROVED),
                )
            ).scalar_one()
            charge = self._charge(charge_key, conn)
            response = refund_outcome(self.name, idempotency_key, charge, int(refunded), amount)
            insert_if_absent(
                conn,
                refunds,
                {
                    "channel": self.name,
                    "key": idempotency_key,
                    "charge_key": charge_key,
                    "account": account_of(idempotency_key),
                    "amount_minor": amount.amount_minor,
                    "currency": amount.currency,
                    "outcome": str(response.outcome),
                    "channel_ref": response.channel_ref,
                    "decline_code": response.decline_code,
                    "created_at": self.acquirer.clock.now_ns(),
                },
            )
        return response

    def _charge(
        self, key: str, conn: Connection | None = None
    ) -> tuple[ChannelResponse, Money] | None:
        c = charges.c
        query = select(
            c.outcome, c.channel_ref, c.decline_code, c.retriable, c.amount_minor, c.currency
        ).where(c.channel == self.name, c.key == key)
        if conn is None:
            with self.acquirer.reads.connect() as own:
                row = own.execute(query).first()
        else:
            row = conn.execute(query).first()
        if row is None:
            return None
        outcome, ref, code, retriable, minor, currency_code = row
        return ChannelResponse(Outcome(outcome), ref, code, bool(retriable)), Money(
            minor, currency_code
        )
