"""The fund pool's records and their rows (``db/tables/fundpool.py``), for one tenant."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from embedfin.core.errors import IdempotencyMismatch, NotFound
from embedfin.db.tables import (
    fundpool_assets,
    fundpool_commands,
    fundpool_days,
    fundpool_funds,
    fundpool_holdings,
    fundpool_redemptions,
    fundpool_subscriptions,
)
from embedfin.fundpool.redemption import FeePolicy, Speed
from embedfin.fundpool.yields import CarryMethod


class AssetKind(StrEnum):
    TERM_DEPOSIT = "term_deposit"
    SHORT_BOND = "short_bond"
    REVERSE_REPO = "reverse_repo"


class RedemptionStatus(StrEnum):
    PENDING = "pending"  # T+1: the fund pays the holder at settlement
    ADVANCED = "advanced"  # T+0: paid by the facility, the fund repays it at settlement
    SETTLED = "settled"


@dataclass(frozen=True, slots=True)
class Fund:
    """A tenant's money-market fund (``fundpool_funds``)."""

    fund_id: str
    name: str
    currency: str
    carry_method: CarryMethod
    fast_cap_minor: int
    fee_policy: FeePolicy | None
    residue_nano: int = 0
    fees_pending_minor: int = 0
    accrued_through: date | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: str
    fund_id: str
    holder_id: str
    amount_minor: int
    on_date: date


@dataclass(frozen=True, slots=True)
class Redemption:
    """Attributes: ``amount_minor`` units redeemed; ``fee_minor`` the liquidity fee kept by the
    fund; the holder receives ``paid_minor``, at once (fast) or on ``settles_on`` (normal)."""

    redemption_id: str
    fund_id: str
    holder_id: str
    speed: Speed
    amount_minor: int
    fee_minor: int
    on_date: date
    settles_on: date
    status: RedemptionStatus

    @property
    def paid_minor(self) -> int:
        return self.amount_minor - self.fee_minor


@dataclass(frozen=True, slots=True)
class Asset:
    """A term deposit, bond or repo at amortised cost: ``interest_minor`` is earned straight-line
    from ``bought_on`` to ``matures_on``; ``accrued_minor`` of it is in the fund's income."""

    asset_id: str
    fund_id: str
    kind: AssetKind
    cost_minor: int
    interest_minor: int
    accrued_minor: int
    bought_on: date
    matures_on: date
    status: str


@dataclass(frozen=True, slots=True)
class Day:
    """One accrued day and its disclosures (``fundpool_days``)."""

    day: date
    income_minor: int
    fees_minor: int
    units_minor: int
    holders: int
    rate_nano: int
    distributed_minor: int
    residue_nano: int
    per_10k: Decimal
    yield_7d: Decimal


class FundStore:
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant

    # --- funds -------------------------------------------------------------------------------
    def fund(self, conn: Connection, fund_id: str, *, lock: bool = False) -> Fund:
        """The fund; ``lock`` holds its row to the end of the unit of work (PostgreSQL: the
        day's accrual and a settlement run one at a time; SQLite writes one at a time anyway)."""
        t = fundpool_funds.c
        query = select(fundpool_funds).where(t.tenant == self.tenant, t.fund_id == fund_id)
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFound(f"no fund {fund_id!r}")
        policy = (
            FeePolicy(Decimal(row.fee_threshold), Decimal(row.fee_rate))
            if row.fee_threshold is not None
            else None
        )
        through = date.fromisoformat(row.accrued_through) if row.accrued_through else None
        return Fund(row.fund_id, row.name, row.currency, CarryMethod(row.carry_method),
                    row.fast_cap_minor, policy, row.residue_nano, row.fees_pending_minor,
                    through)  # fmt: skip

    def fund_ids(self, conn: Connection) -> list[str]:
        t = fundpool_funds.c
        query = select(t.fund_id).where(t.tenant == self.tenant).order_by(t.fund_id).limit(200)
        return [str(v) for v in conn.execute(query).scalars()]

    def insert_fund(self, conn: Connection, fund: Fund, now: int) -> None:
        policy = fund.fee_policy
        conn.execute(
            insert(fundpool_funds).values(
                tenant=self.tenant, fund_id=fund.fund_id, name=fund.name, currency=fund.currency,
                carry_method=fund.carry_method.value, fast_cap_minor=fund.fast_cap_minor,
                fee_threshold=None if policy is None else str(policy.threshold),
                fee_rate=None if policy is None else str(policy.rate),
                residue_nano=0, fees_pending_minor=0, accrued_through=None, created_at=now,
            )
        )  # fmt: skip

    def update_fund(self, conn: Connection, fund_id: str, **values: object) -> None:
        t = fundpool_funds.c
        conn.execute(
            update(fundpool_funds)
            .where(t.tenant == self.tenant, t.fund_id == fund_id)
            .values(**values)
        )

    def add_fee(self, conn: Connection, fund_id: str, fee_minor: int) -> None:
        t = fundpool_funds.c
        conn.execute(
            update(fundpool_funds)
            .where(t.tenant == self.tenant, t.fund_id == fund_id)
            .values(fees_pending_minor=t.fees_pending_minor + fee_minor)
        )

    # --- holdings ----------------------------------------------------------------------------
    def units_of(
        self, conn: Connection, fund_id: str, holder_id: str, *, lock: bool = False
    ) -> tuple[int, int] | None:
        """(units, carry) of a holder, or ``None`` if it never held units of the fund; ``lock``
        holds the row, so two redemptions of one holder are checked one after the other."""
        t = fundpool_holdings.c
        query = select(t.units_minor, t.carry_nano).where(
            t.tenant == self.tenant, t.fund_id == fund_id, t.holder_id == holder_id
        )
        row = conn.execute(query.with_for_update() if lock else query).first()
        return None if row is None else (int(row[0]), int(row[1]))

    def add_units(
        self, conn: Connection, fund_id: str, holder_id: str, delta_minor: int, now: int
    ) -> None:
        t = fundpool_holdings.c
        changed = conn.execute(
            update(fundpool_holdings)
            .where(t.tenant == self.tenant, t.fund_id == fund_id, t.holder_id == holder_id)
            .values(units_minor=t.units_minor + delta_minor)
        ).rowcount
        if not changed:
            conn.execute(
                insert(fundpool_holdings).values(
                    tenant=self.tenant, fund_id=fund_id, holder_id=holder_id,
                    units_minor=delta_minor, carry_nano=0, created_at=now,
                )
            )  # fmt: skip

    # --- subscriptions and redemptions --------------------------------------------------------
    def insert_subscription(self, conn: Connection, s: Subscription, now: int) -> None:
        conn.execute(
            insert(fundpool_subscriptions).values(
                tenant=self.tenant, subscription_id=s.subscription_id, fund_id=s.fund_id,
                holder_id=s.holder_id, amount_minor=s.amount_minor,
                on_date=s.on_date.isoformat(), created_at=now,
            )
        )  # fmt: skip

    def insert_redemption(self, conn: Connection, r: Redemption, now: int) -> None:
        conn.execute(
            insert(fundpool_redemptions).values(
                tenant=self.tenant, redemption_id=r.redemption_id, fund_id=r.fund_id,
                holder_id=r.holder_id, speed=r.speed.value, amount_minor=r.amount_minor,
                fee_minor=r.fee_minor, on_date=r.on_date.isoformat(),
                settles_on=r.settles_on.isoformat(), status=r.status.value, created_at=now,
            )
        )  # fmt: skip

    def fast_used(self, conn: Connection, fund_id: str, holder_id: str, day: date) -> int:
        t = fundpool_redemptions.c
        return int(
            conn.execute(
                select(func.coalesce(func.sum(t.amount_minor), 0)).where(
                    t.tenant == self.tenant, t.fund_id == fund_id, t.holder_id == holder_id,
                    t.on_date == day.isoformat(), t.speed == Speed.FAST.value,
                )
            ).scalar_one()
        )  # fmt: skip

    def flows_on(self, conn: Connection, fund_id: str, day: date) -> tuple[int, int]:
        """(subscribed, redeemed) on ``day``."""
        s, r = fundpool_subscriptions.c, fundpool_redemptions.c
        subscribed = conn.execute(
            select(func.coalesce(func.sum(s.amount_minor), 0)).where(
                s.tenant == self.tenant, s.fund_id == fund_id, s.on_date == day.isoformat()
            )
        ).scalar_one()
        redeemed = conn.execute(
            select(func.coalesce(func.sum(r.amount_minor), 0)).where(
                r.tenant == self.tenant, r.fund_id == fund_id, r.on_date == day.isoformat()
            )
        ).scalar_one()
        return int(subscribed), int(redeemed)

    def active_days(self, conn: Connection, fund_id: str, holder_id: str, since: date) -> int:
        """Days since ``since`` on which the holder subscribed or redeemed."""
        s, r = fundpool_subscriptions.c, fundpool_redemptions.c
        days = {
            str(day)
            for table, c in ((fundpool_subscriptions, s), (fundpool_redemptions, r))
            for day in conn.execute(
                select(c.on_date).distinct().select_from(table).where(
                    c.tenant == self.tenant, c.fund_id == fund_id, c.holder_id == holder_id,
                    c.on_date >= since.isoformat(),
                )
            ).scalars()
        }  # fmt: skip
        return len(days)

    def redemptions_due(self, conn: Connection, fund_id: str, day: date) -> list[Redemption]:
        t = fundpool_redemptions.c
        rows = conn.execute(
            select(fundpool_redemptions)
            .where(
                t.tenant == self.tenant, t.fund_id == fund_id,
                t.status != RedemptionStatus.SETTLED.value, t.settles_on <= day.isoformat(),
            )
            .order_by(t.settles_on, t.created_at, t.redemption_id)
        ).all()  # fmt: skip
        return [_redemption(row) for row in rows]

    def redemption(self, conn: Connection, redemption_id: str) -> Redemption:
        t = fundpool_redemptions.c
        row = conn.execute(
            select(fundpool_redemptions).where(
                t.tenant == self.tenant, t.redemption_id == redemption_id
            )
        ).first()
        if row is None:
            raise NotFound(f"no redemption {redemption_id!r}")
        return _redemption(row)

    def settle(self, conn: Connection, redemption_id: str) -> None:
        t = fundpool_redemptions.c
        conn.execute(
            update(fundpool_redemptions)
            .where(t.tenant == self.tenant, t.redemption_id == redemption_id)
            .values(status=RedemptionStatus.SETTLED.value)
        )

    # --- assets ------------------------------------------------------------------------------
    def insert_asset(self, conn: Connection, a: Asset, now: int) -> None:
        conn.execute(
            insert(fundpool_assets).values(
                tenant=self.tenant, asset_id=a.asset_id, fund_id=a.fund_id, kind=a.kind.value,
                cost_minor=a.cost_minor, interest_minor=a.interest_minor,
                accrued_minor=a.accrued_minor, bought_on=a.bought_on.isoformat(),
                matures_on=a.matures_on.isoformat(), status=a.status, created_at=now,
            )
        )  # fmt: skip

    def assets(self, conn: Connection, fund_id: str, *, live_only: bool = False) -> list[Asset]:
        t = fundpool_assets.c
        where = and_(t.tenant == self.tenant, t.fund_id == fund_id)
        if live_only:
            where = and_(where, t.status == "live")
        query = select(fundpool_assets).where(where).order_by(t.matures_on, t.asset_id)
        rows = conn.execute(query).all()
        return [_asset(row) for row in rows]

    def asset(self, conn: Connection, asset_id: str) -> Asset:
        t = fundpool_assets.c
        row = conn.execute(
            select(fundpool_assets).where(t.tenant == self.tenant, t.asset_id == asset_id)
        ).first()
        if row is None:
            raise NotFound(f"no asset {asset_id!r}")
        return _asset(row)

    def update_asset(self, conn: Connection, asset_id: str, **values: object) -> None:
        t = fundpool_assets.c
        conn.execute(
            update(fundpool_assets)
            .where(t.tenant == self.tenant, t.asset_id == asset_id)
            .values(**values)
        )

    # --- days --------------------------------------------------------------------------------
    def insert_day(self, conn: Connection, fund_id: str, d: Day, now: int) -> None:
        conn.execute(
            insert(fundpool_days).values(
                tenant=self.tenant, fund_id=fund_id, day=d.day.isoformat(),
                income_minor=d.income_minor, fees_minor=d.fees_minor, units_minor=d.units_minor,
                holders=d.holders, rate_nano=d.rate_nano, distributed_minor=d.distributed_minor,
                residue_nano=d.residue_nano, per_10k=str(d.per_10k), yield_7d=str(d.yield_7d),
                created_at=now,
            )
        )  # fmt: skip

    def days(self, conn: Connection, fund_id: str, *, last: int = 7) -> list[Day]:
        """The ``last`` accrued days, oldest first."""
        t = fundpool_days.c
        rows = conn.execute(
            select(fundpool_days)
            .where(t.tenant == self.tenant, t.fund_id == fund_id)
            .order_by(t.day.desc())
            .limit(last)
        ).all()
        return [_day(row) for row in reversed(rows)]

    def day(self, conn: Connection, fund_id: str, day: date) -> Day:
        t = fundpool_days.c
        row = conn.execute(
            select(fundpool_days).where(
                t.tenant == self.tenant, t.fund_id == fund_id, t.day == day.isoformat()
            )
        ).first()
        if row is None:
            raise NotFound(f"fund {fund_id!r} has not accrued {day.isoformat()}")
        return _day(row)

    # --- commands ----------------------------------------------------------------------------
    def replay(self, conn: Connection, request_id: str, fingerprint: str) -> dict[str, Any] | None:
        """The result of a command done under ``request_id`` already; ``IdempotencyMismatch``
        if it asked something else."""
        t = fundpool_commands.c
        row = conn.execute(
            select(t.kind, t.fingerprint, t.result).where(
                t.tenant == self.tenant, t.request_id == request_id
            )
        ).first()
        if row is None:
            return None
        if row.fingerprint != fingerprint:
            raise IdempotencyMismatch(f"request_id {request_id!r} was another {row.kind}")
        result: dict[str, Any] = json.loads(row.result)
        return result

    def record(
        self, conn: Connection, request_id: str, kind: str, fund_id: str, fingerprint: str,
        result: object, now: int,
    ) -> None:  # fmt: skip
        conn.execute(
            insert(fundpool_commands).values(
                tenant=self.tenant, request_id=request_id, kind=kind, fund_id=fund_id,
                fingerprint=fingerprint, result=json.dumps(as_json(result), sort_keys=True),
                created_at=now,
            )
        )  # fmt: skip


def as_json(record: object) -> dict[str, Any]:
    """A record as JSON-ready values (dates ISO, decimals and enums strings)."""
    values: dict[str, Any] = (
        dict(record) if isinstance(record, dict) else asdict(record)  # type: ignore[call-overload]
    )
    return {k: v.isoformat() if isinstance(v, date) else
            str(v) if isinstance(v, (Decimal, StrEnum)) else v
            for k, v in values.items()}  # fmt: skip


def _redemption(row: Any) -> Redemption:
    return Redemption(row.redemption_id, row.fund_id, row.holder_id, Speed(row.speed),
                      int(row.amount_minor), int(row.fee_minor), date.fromisoformat(row.on_date),
                      date.fromisoformat(row.settles_on), RedemptionStatus(row.status))  # fmt: skip


def _asset(row: Any) -> Asset:
    return Asset(row.asset_id, row.fund_id, AssetKind(row.kind), int(row.cost_minor),
                 int(row.interest_minor), int(row.accrued_minor), date.fromisoformat(row.bought_on),
                 date.fromisoformat(row.matures_on), row.status)  # fmt: skip


def _day(row: Any) -> Day:
    return Day(date.fromisoformat(row.day), int(row.income_minor), int(row.fees_minor),
               int(row.units_minor), int(row.holders), int(row.rate_nano),
               int(row.distributed_minor), int(row.residue_nano), Decimal(row.per_10k),
               Decimal(row.yield_7d))  # fmt: skip
