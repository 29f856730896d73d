"""Customer due diligence in the platform: how each buyer was verified, its level under the
tenant's pack, and what it may still pay from its balance (``diligence.py``).

* :meth:`Verification.verify` records the channels a buyer's identity was checked through (and
  whether face to face); the level follows from the tenant's pack, now and whenever it changes.
* As payments' ``BalanceLimits`` port, :meth:`Verification.check_many` refuses a wallet payment
  or a withdrawal past the level's limit (``VerificationLimit``, nothing moves) and
  :meth:`Verification.count_many` adds those that went through to the buyer's spend for the
  period, in the same unit of work. On PostgreSQL the spend row is locked while it is checked,
  so two concurrent payments cannot both pass a limit only one fits under.
* Amounts in another currency count at the ECB reference rate of the day.

The tenant's pack is ``none`` (no limits) until its operator sets one (``PUT
/v1/aml/diligence``; a PRC payment institution: ``prc``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, update

from embedfin.compliance.aml import diligence
from embedfin.compliance.aml.diligence import DiligencePack, Level
from embedfin.compliance.aml.monitor import ecb_rates
from embedfin.compliance.aml.sameday import RateSource
from embedfin.core.clock import Clock
from embedfin.core.errors import VerificationLimit
from embedfin.core.money import Money
from embedfin.db.statements import insert_if_absent
from embedfin.db.tables import aml_balance_spend, aml_diligence, aml_verifications
from embedfin.ledger.service import Ledger, LedgerTransaction
from embedfin.payments.limits import BalancePayment
from embedfin.payments.requests import check_name

DEFAULT_PACK = "none"
_D = aml_diligence.c
_V = aml_verifications.c
_S = aml_balance_spend.c


@lru_cache(maxsize=64)
def _parsed(stored: str | None) -> DiligencePack:
    if stored is None:
        return diligence.load(DEFAULT_PACK)
    return diligence.parse(json.loads(stored), "the stored pack")


def _unlimited(pack: DiligencePack) -> bool:
    return all(lv.limit is None and lv.min_channels == 0 for lv in pack.levels)


@dataclass(frozen=True, slots=True)
class Standing:
    """A buyer's level and what is left of its limit this period."""

    party_id: str
    level: Level | None
    channels: tuple[str, ...]
    face_to_face: bool
    period: str | None
    spent: Decimal
    remaining: Decimal | None  # none: no limit
    currency: str


class Verification:
    """One tenant's customer verification levels and balance limits."""

    def __init__(
        self, ledger: Ledger, tenant: str, rates: RateSource = ecb_rates, clock: Clock | None = None
    ) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.rates = rates
        self.clock = clock or ledger.clock

    # --- the pack ----------------------------------------------------------------------------
    def pack(self, conn: Connection | None = None) -> DiligencePack:
        if conn is None:
            with self.ledger.reader() as reader:
                return self.pack(reader)
        stored = conn.execute(select(_D.pack).where(_D.tenant == self.tenant)).scalar()
        return _parsed(stored)

    def set_pack(self, pack: DiligencePack, actor: str) -> DiligencePack:
        body = json.dumps(pack.model_dump(mode="json"), ensure_ascii=False)
        values = {"pack_id": pack.id, "pack": body, "updated_at": self.clock.now_ns(),
                  "updated_by": actor}  # fmt: skip
        with self.ledger.transaction() as tx:
            if not insert_if_absent(tx.conn, aml_diligence, {"tenant": self.tenant, **values}):
                tx.conn.execute(
                    update(aml_diligence).where(_D.tenant == self.tenant).values(**values)
                )
            tx.emit(self.tenant, "aml_diligence_pack_set", "aml_diligence", self.tenant,
                    {"pack_id": pack.id, "actor": actor})  # fmt: skip
        return pack

    # --- verification ------------------------------------------------------------------------
    def verify(self, party_id: str, channels: object, face_to_face: bool, actor: str) -> Standing:
        """Record how the buyer's identity was verified; its level follows."""
        check_name("party_id", party_id)
        checked = diligence.check_channels(channels)
        if not isinstance(face_to_face, bool):
            raise diligence.DiligencePackInvalid("face_to_face is true or false")
        values = {"channels": json.dumps(list(checked)), "face_to_face": int(face_to_face),
                  "verified_at": self.clock.now_ns(), "verified_by": actor}  # fmt: skip
        with self.ledger.transaction() as tx:
            key = {"tenant": self.tenant, "party_id": party_id}
            if not insert_if_absent(tx.conn, aml_verifications, {**key, **values}):
                tx.conn.execute(
                    update(aml_verifications)
                    .where(_V.tenant == self.tenant, _V.party_id == party_id)
                    .values(**values)
                )
            pack = self.pack(tx.conn)
            level = diligence.level_for(pack, checked, face_to_face)
            tx.emit(self.tenant, "aml_party_verified", "aml_party", f"buyer:{party_id}",
                    {"channels": len(checked), "face_to_face": face_to_face,
                     "level": None if level is None else level.id})  # fmt: skip
            return self._standing(tx.conn, pack, party_id, self.clock.now_ns())

    def standing(self, party_id: str) -> Standing:
        with self.ledger.reader() as conn:
            return self._standing(conn, self.pack(conn), party_id, self.clock.now_ns())

    # --- the BalanceLimits port --------------------------------------------------------------
    def check_many(
        self, tx: LedgerTransaction, payments: Sequence[BalancePayment]
    ) -> list[VerificationLimit | None]:
        pack = self.pack(tx.conn)
        if _unlimited(pack) or not payments:
            return [None] * len(payments)
        spent: dict[tuple[str, str], Decimal] = {}
        answers: list[VerificationLimit | None] = []
        for payment in payments:
            level = self._level(tx.conn, pack, payment.buyer_id)
            counter = _counter(pack, level, payment.at_ns)
            key = (payment.buyer_id, counter)
            if key not in spent:
                spent[key] = self._spent(tx.conn, pack, payment.buyer_id, counter, lock=True)
            amount = self._in_pack_currency(pack, payment.amount, payment.at_ns)
            try:
                diligence.check_payment(pack, level, payment.kind, amount, spent[key])
            except VerificationLimit as refused:
                answers.append(refused)
                continue
            if level is not None and diligence.counted(level, payment.kind):
                spent[key] += amount
            answers.append(None)
        return answers

    def count_many(self, tx: LedgerTransaction, payments: Sequence[BalancePayment]) -> None:
        """Add each payment to every counter it belongs to (whatever the buyer's level now)."""
        pack = self.pack(tx.conn)
        if _unlimited(pack):
            return
        for payment in payments:
            micros = int(self._in_pack_currency(pack, payment.amount, payment.at_ns).scaleb(6))
            year = str(_day(pack, payment.at_ns).year)
            periods = ["life", year]
            if payment.kind != "own_bank":
                periods += ["life-x", f"{year}-x"]
            for period in periods:
                key = {"tenant": self.tenant, "party_id": payment.buyer_id,
                       "currency": pack.currency, "period": period}  # fmt: skip
                insert_if_absent(tx.conn, aml_balance_spend, {**key, "spent_micros": 0})
                tx.conn.execute(
                    update(aml_balance_spend)
                    .where(*(getattr(_S, k) == v for k, v in key.items()))
                    .values(spent_micros=_S.spent_micros + micros)
                )

    # --- internals ---------------------------------------------------------------------------
    def _level(self, conn: Connection, pack: DiligencePack, party_id: str) -> Level | None:
        row = conn.execute(
            select(_V.channels, _V.face_to_face).where(
                _V.tenant == self.tenant, _V.party_id == party_id
            )
        ).first()
        channels = tuple(json.loads(row.channels)) if row is not None else ()
        return diligence.level_for(pack, channels, bool(row.face_to_face) if row else False)

    def _spent(
        self, conn: Connection, pack: DiligencePack, party_id: str, period: str, *, lock: bool
    ) -> Decimal:
        key = {"tenant": self.tenant, "party_id": party_id, "currency": pack.currency,
               "period": period}  # fmt: skip
        if lock and conn.dialect.name == "postgresql":
            insert_if_absent(conn, aml_balance_spend, {**key, "spent_micros": 0})
        query = select(_S.spent_micros).where(*(getattr(_S, k) == v for k, v in key.items()))
        if lock:
            query = query.with_for_update()
        found = conn.execute(query).scalar()
        return Decimal(found or 0).scaleb(-6)

    def _in_pack_currency(self, pack: DiligencePack, amount: Money, at_ns: int) -> Decimal:
        value = amount.decimal
        if amount.currency == pack.currency:
            return value
        rate = self.rates(amount.currency, pack.currency, _day(pack, at_ns))
        return (value * rate).quantize(Decimal("0.000001"), ROUND_HALF_UP)

    def _standing(
        self, conn: Connection, pack: DiligencePack, party_id: str, now_ns: int
    ) -> Standing:
        row = conn.execute(
            select(_V.channels, _V.face_to_face).where(
                _V.tenant == self.tenant, _V.party_id == party_id
            )
        ).first()
        channels = tuple(json.loads(row.channels)) if row is not None else ()
        face = bool(row.face_to_face) if row is not None else False
        level = diligence.level_for(pack, channels, face)
        period = _period(pack, level, now_ns) if level is not None else None
        counter = _counter(pack, level, now_ns)
        spent = self._spent(conn, pack, party_id, counter, lock=False) if level else Decimal(0)
        remaining = None
        if level is not None and level.limit is not None:
            remaining = max(level.limit - spent, Decimal(0))
        return Standing(party_id, level, channels, face, period, spent, remaining, pack.currency)


def _day(pack: DiligencePack, at_ns: int) -> date:
    at = datetime.fromtimestamp(at_ns // 1_000_000_000, UTC)
    return at.astimezone(ZoneInfo(pack.timezone)).date()


def _counter(pack: DiligencePack, level: Level | None, at_ns: int) -> str:
    """The spend counter a level's limit reads: since opening or this year, with or without
    transfers to the customer's own bank account."""
    base = "life" if level is None or level.period == "lifetime" else str(_day(pack, at_ns).year)
    return base if level is None or level.counts_own_bank else f"{base}-x"


def _period(pack: DiligencePack, level: Level | None, at_ns: int) -> str:
    """``lifetime`` or the calendar year (in the pack's time zone) a payment counts in."""
    if level is None or level.period == "lifetime":
        return "lifetime"
    return str(_day(pack, at_ns).year)
